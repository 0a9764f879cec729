"""docs/contract.md §6 (R4): the inflation rate read at start-up, logged once, applied to predictions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from reference_stack import StackHandle, StackStartFailed, running_stack
from tests.reference_stack.intended_client import bearer, own_token


def predict(stack: StackHandle, body: dict[str, object]) -> httpx.Response:
    return httpx.post(stack.services["ml"] + "/predict", json=body, headers=bearer(own_token(stack, "ml")))


def test_prediction_carries_the_rate_and_its_adjustment(stack: StackHandle) -> None:
    body = predict(stack, {"producto_id": 1}).json()
    ajuste = 1.045 ** (7 / 30) - 1
    assert body["dias"] == 7 and body["inflation_rate_monthly"] == 0.045
    assert body["ajuste_inflacion"] == pytest.approx(ajuste)
    assert body["demanda_ajustada"] == pytest.approx(body["demanda_base"] * (1 + ajuste), abs=1e-3)
    month = predict(stack, {"producto_id": 1, "dias": 30}).json()
    assert month["ajuste_inflacion"] == pytest.approx(0.045)


def test_prediction_refusals(stack: StackHandle) -> None:
    missing = predict(stack, {"producto_id": 999})
    assert (missing.status_code, missing.json()) == (404, {"detail": "producto 999 no encontrado"})
    bad_days = predict(stack, {"producto_id": 1, "dias": 0})
    assert (bad_days.status_code, bad_days.json()) == (422, {"detail": "body.dias: Input should be greater than or equal to 1"})


def test_rate_is_logged_once_at_start_up(stack: StackHandle) -> None:
    lines = [line for line in stack.log("ml").splitlines() if "INFLATION_RATE_MONTHLY" in line]
    assert len(lines) == 1 and lines[0].endswith(" INFO ml INFLATION_RATE_MONTHLY=0.045 (4.50% monthly)")


def test_a_rate_of_one_or_more_is_a_percentage(tmp_path: Path) -> None:
    with running_stack(tmp_path, services=("ml",), gateway=False, env={"INFLATION_RATE_MONTHLY": "4.5"}) as ml:
        assert "INFLATION_RATE_MONTHLY=0.045 (4.50% monthly)" in ml.log("ml")
        assert predict(ml, {"producto_id": 2}).json()["inflation_rate_monthly"] == 0.045


def test_a_non_numeric_rate_stops_start_up_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StackStartFailed) as failure, \
            running_stack(tmp_path, services=("ml",), gateway=False, env={"INFLATION_RATE_MONTHLY": "abc"}):
        pass
    assert str(failure.value) == (
        "ml exited during start-up (code 2): ml: start-up failed: "
        "INFLATION_RATE_MONTHLY: must be a number such as 0.045 or 4.5 (got 'abc')"
    )
    assert not (tmp_path / "stack.json").exists()


def test_cli_reports_a_non_numeric_rate_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "stagegate", "stack", "up", "--state-dir", str(tmp_path), "--ports", "auto",
         "--no-gateway", "--inflation-rate", "4,5%"],
        check=False, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    problem = "start-up failed: INFLATION_RATE_MONTHLY: must be a number such as 0.045 or 4.5 (got '4,5%')"
    assert result.stderr.splitlines() == [  # negocio reads the same rate for its prices
        (f"stagegate: error: negocio exited during start-up (code 2): negocio: {problem}; "
         f"ml exited during start-up (code 2): ml: {problem}")
    ]
