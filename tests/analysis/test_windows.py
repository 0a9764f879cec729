"""Time rules at their boundaries: health streaks, concurrent failures (sustained: test_sustained.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import evaluate, load_results, load_rules
from analysis._judge import judge_rule
from tests.analysis.conftest import CHECKS, T0, RunBuilder, clean_run

RULES = load_rules()


def judge(results: Path, rule_id: str):
    return judge_rule(rule_id, RULES.rules[rule_id], load_results(results))


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
