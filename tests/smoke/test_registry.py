"""Smoke checks are declared once, with ``@smoke_check`` beside their code; the runner and help read that."""

from __future__ import annotations

import pytest

from scenarios.smoke import CHECK_IDS, declared_checks, smoke_check
from scenarios.smoke.registry import _CHECKS


def test_the_checklist_order_from_the_declarations() -> None:
    declared = declared_checks()
    assert CHECK_IDS == ("health", "r1_non_root", "r2_jwt_isolation", "r3_ocr_timeout", "r4_inflation", "r6_trivy",
                         "metrics", "security_headers", "logs")
    assert [check.id for check in declared] == list(CHECK_IDS)
    assert [check.section.split()[0] for check in declared] == [f"§{n}" for n in (6, 7, 8, 9, 10, 11, 12, 13, 14)]
    assert {check.id: check.when for check in declared if check.when != "inline"} == {
        "r3_ocr_timeout": "background", "logs": "last"}


def test_a_check_id_cannot_be_declared_twice() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        smoke_check("health", "§6 Health", order=6, label="health")(lambda context: None)  # type: ignore[arg-type,return-value]
    assert _CHECKS["health"].label == "health"
