"""placeholder until generators.tokens lands"""
from __future__ import annotations

from scenarios.smoke._context import SmokeContext
from scenarios.smoke._outcome import CheckOutcome


def check_jwt_isolation(context: SmokeContext) -> CheckOutcome:
    return CheckOutcome("r2_jwt_isolation", "§8 R2", "SKIP", "not yet", [])
