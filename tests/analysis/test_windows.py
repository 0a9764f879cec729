"""Time rules at their boundaries: sustained error rate, health streaks, concurrent failures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis import evaluate, load_results, load_rules
from analysis._judge import judge_rule
from analysis._windows import true_runs
from tests.analysis.conftest import CHECKS, T0, RunBuilder, clean_run

RULES = load_rules()


def judge(results: Path, rule_id: str):
    return judge_rule(rule_id, RULES.rules[rule_id], load_results(results))


def errors_for(results: Path, seconds: int) -> Path:
    """A 200 s run with 50 % errors from second 60 for ``seconds`` s (the default rule: 1 s windows, 60 s)."""
    run = RunBuilder(results)
    run.windows(0, 60)
    run.windows(60, 60 + seconds, ok=5, error=5)
    run.windows(60 + seconds, 200)
    return run.close()


@pytest.mark.parametrize(("seconds", "expected"), [(59, "PASS"), (60, "FAIL"), (61, "FAIL")])
def test_error_rate_sustained_boundary(results: Path, seconds: int, expected: str) -> None:
    result = judge(errors_for(results, seconds), "error_rate_sustained")
    assert result.status == expected
    assert result.evidence.values["longest_breach_s"] == seconds
    assert result.evidence.values["max_error_rate"] == 0.5


def test_error_rate_sustained_failure_names_the_span(results: Path) -> None:
    result = judge(errors_for(results, 61), "error_rate_sustained")
    [span] = result.evidence.spans
    assert (span.start - T0, span.end - T0) == (60.0, 121.0)
    assert result.summary.startswith("error rate above 10.0 % for 61 s from ")


def test_longer_windows_smooth_sparse_errors(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 30)
    for second in range(30, 130):  # a service half down at low traffic: errors every other second
        run.window(second, ok=1, error=1 if second % 2 else 0)
    run.windows(130, 200)
    data = load_results(run.close())
    per_second = RULES.rules["error_rate_sustained"]
    smoothed = per_second.model_copy(update={"window_s": 10})
    assert judge_rule("r", per_second, data).status == "PASS"
    result = judge_rule("r", smoothed, data)
    assert result.status == "FAIL"
    assert 60 <= result.evidence.values["longest_breach_s"] <= 100 + 9  # at most stretched by window_s - 1


def test_error_rate_under_threshold_passes(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 200, ok=9, error=1)  # exactly 10 %: the rule is "above"
    assert judge(run.close(), "error_rate_sustained").status == "PASS"


def test_run_shorter_than_the_window_is_no_data(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 50, ok=0, error=10)
    result = judge(run.close(), "error_rate_alert")  # 60 s windows
    assert result.status == "NO_DATA"


def test_breach_still_open_when_data_ends_is_no_data(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 60)
    run.windows(60, 90, ok=0, error=10)  # 30 s of errors, then the data stops
    result = judge(run.close(), "error_rate_sustained")
    assert result.status == "NO_DATA"
    assert "undetermined" in result.summary


def test_only_scoped_traffic_counts(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 200)
    run.windows(0, 200, name="negocio POST /procesar_factura_completa", traffic="heavy_invoice", ok=0, expected=10)
    run.windows(0, 200, name="negocio GET /api/productos", traffic="forged_token", ok=0, error=10)
    assert judge(run.close(), "error_rate_sustained").status == "PASS"


def test_true_runs() -> None:
    assert true_runs(np.array([False, True, True, False, True])) == [(1, 3), (4, 5)]
    assert true_runs(np.array([], dtype=bool)) == []


def outage(results: Path, down: dict[str, float], *, run_s: float = 400) -> Path:
    """Every check healthy; each check in ``down`` fails from 100 s for the given seconds."""
    run = RunBuilder(results)
    for check in CHECKS:
        run.health(0, check, True)
    for check, seconds in down.items():
        run.health(100, check, False)
        run.health(100 + seconds, check, True)
    run.windows(0, int(run_s))
    return run.close()


@pytest.mark.parametrize(("seconds", "expected"), [(179, "PASS"), (180, "PASS"), (181, "FAIL")])
def test_health_streak_boundary(results: Path, seconds: float, expected: str) -> None:
    result = judge(outage(results, {"negocio": seconds}), "health_failing_long")
    assert result.status == expected
    assert result.evidence.values["longest_s"] == seconds


def test_health_streak_failure_evidence(results: Path) -> None:
    result = judge(outage(results, {"ml": 181}), "health_failing_long")
    assert result.summary.startswith("ml failing for 181 s from ")
    assert result.summary.endswith("(connection refused); limit 180 s")
    [item] = result.evidence.items
    assert (item["check"], item["duration_s"], item["still_failing"]) == ("ml", 181.0, False)


def test_health_failure_open_at_the_end_is_no_data_until_it_is_long(results: Path) -> None:
    run = RunBuilder(results)
    for check in CHECKS:
        run.health(0, check, True)
    run.health(100, "negocio", False)
    run.windows(0, 200)  # negocio still down at 200 s: 100 s so far
    assert judge(run.close(), "health_failing_long").status == "NO_DATA"
    run = RunBuilder(results)
    run.windows(200, 290)  # now 190 s
    assert judge(run.close(), "health_failing_long").status == "FAIL"


@pytest.mark.parametrize(("down", "expected"), [
    ({"negocio": 181}, "PASS"),
    ({"negocio": 181, "ml": 181}, "FAIL"),
    ({"negocio": 179, "ml": 179}, "PASS"),
    ({"negocio": 181, "ml": 60}, "PASS"),
])
def test_concurrent_failures(results: Path, down: dict[str, float], expected: str) -> None:
    result = judge(outage(results, down), "health_concurrent_failing")
    assert result.status == expected


def test_concurrent_failure_span(results: Path) -> None:
    result = judge(outage(results, {"negocio": 200, "ml": 190}), "health_concurrent_failing")
    [span] = result.evidence.spans
    assert (span.start - T0, span.end - T0, span.label) == (280.0, 290.0, "ml, negocio")


def test_two_checks_down_at_the_end_make_a_rollback(results: Path) -> None:
    run = RunBuilder(results)
    for check in CHECKS:
        run.health(0, check, True)
    run.health(10, "negocio", False)
    run.health(10, "ml", False)
    run.windows(0, 250)
    verdict = evaluate(run.close(), RULES)
    assert verdict.verdict == "ROLLBACK"
    assert verdict.exit_code == 1
    assert [r.split(" ")[0] for r in verdict.reasons] == ["health_failing_long", "health_concurrent_failing"]


def test_health_ok_needs_every_check(results: Path) -> None:
    run = clean_run(results)
    run.health(50, "gateway", False)
    result = judge(run.close(), "health_all_pass")
    assert (result.status, result.summary) == ("FAIL", "failing at the end: gateway (connection refused)")


def test_health_ok_never_observed_is_no_data(results: Path) -> None:
    run = RunBuilder(results)
    for check in CHECKS[:4]:
        run.health(0, check, True)
    result = judge(run.close(), "health_all_pass")
    assert (result.status, result.summary) == ("NO_DATA", "never observed: gateway")
