"""The monthly inflation rate (R4): read once at start-up, logged, and applied to prices and demand."""

from __future__ import annotations

import math

from reference_stack._errors import ConfigInvalid

RATE_ENV = "INFLATION_RATE_MONTHLY"
DEFAULT_RATE = "0.045"


def parse_rate(text: str | None) -> float:
    """``0.045`` stays 0.045; a value >= 1 is a percentage (``4.5`` -> 0.045); non-numeric is an error."""
    raw = DEFAULT_RATE if text is None or not text.strip() else text.strip()
    try:
        rate = float(raw)
    except ValueError:
        raise ConfigInvalid(f"{RATE_ENV}: must be a number such as 0.045 or 4.5 (got {raw!r})") from None
    if not math.isfinite(rate) or rate < 0:
        raise ConfigInvalid(f"{RATE_ENV}: must be a finite number >= 0 (got {raw!r})")
    return round(rate / 100, 12) if rate >= 1 else rate


def describe(rate: float) -> str:
    """The start-up log line docs/contract.md §6 prescribes: ``INFLATION_RATE_MONTHLY=0.045 (4.50% monthly)``."""
    return f"{RATE_ENV}={rate:g} ({rate * 100:.2f}% monthly)"


def adjustment(rate: float, days: float) -> float:
    """Compound adjustment over ``days``: ``(1 + rate) ** (days / 30) - 1``."""
    return float((1 + rate) ** (days / 30) - 1)
