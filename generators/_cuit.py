"""CUIT numbers (Argentine tax ids) with a correct check digit.

A CUIT is ``PP-NNNNNNNN-D``: a two-digit type prefix (20/23/24/27 people, 30/33/34 companies),
eight digits and a mod-11 check digit over the first ten with weights 5,4,3,2,7,6,5,4,3,2.
When the check would be 10 no valid CUIT exists for those ten digits, so we draw again.
"""

from __future__ import annotations

import random

_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
COMPANY_PREFIXES = ("30", "33", "34")
PERSON_PREFIXES = ("20", "23", "24", "27")


def check_digit(first_ten: str) -> int | None:
    """The check digit for ten leading digits, or None when no valid CUIT starts with them."""
    remainder = sum(int(d) * w for d, w in zip(first_ten, _WEIGHTS, strict=True)) % 11
    digit = (11 - remainder) % 11
    return None if digit == 10 else digit


def is_valid(cuit: str) -> bool:
    """Whether ``cuit`` (with or without dashes) has eleven digits and a correct check digit."""
    digits = cuit.replace("-", "")
    if len(digits) != 11 or not digits.isdigit():
        return False
    return check_digit(digits[:10]) == int(digits[10])


def random_cuit(rng: random.Random, prefixes: tuple[str, ...] = COMPANY_PREFIXES) -> str:
    """A valid CUIT formatted ``PP-NNNNNNNN-D``."""
    while True:
        first_ten = rng.choice(prefixes) + f"{rng.randrange(10**8):08d}"
        digit = check_digit(first_ten)
        if digit is not None:
            return f"{first_ten[:2]}-{first_ten[2:]}-{digit}"
