from __future__ import annotations

import random

from generators._cuit import check_digit, is_valid, random_cuit


def test_afip_own_cuit_is_valid() -> None:
    # AFIP's published CUIT: an anchor not derived from our code.
    assert is_valid("33-69345023-9")
    assert not is_valid("33-69345023-8")
    assert not is_valid("33-6934502-9")


def test_random_cuits_are_valid_and_formatted() -> None:
    rng = random.Random(1)
    for _ in range(500):
        cuit = random_cuit(rng)
        assert is_valid(cuit), cuit
        assert cuit[2] == "-" and cuit[11] == "-" and cuit[:2] in {"30", "33", "34"}


def test_no_check_digit_when_remainder_gives_ten() -> None:
    # 2,0,0,0,0,0,0,0,0,1 weighted: 10 + 2 = 12 -> 12 % 11 = 1 -> 11 - 1 = 10: no valid CUIT.
    assert check_digit("2000000001") is None
