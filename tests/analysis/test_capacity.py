"""Capacity from a step-shape run: the knee and what broke above it."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import AnalysisError, analyze_capacity, evaluate, load_results, load_rules, with_capacity
from tests.analysis.conftest import RunBuilder, clean_run

STEPS = [(10, 100, 20.0, 0), (20, 200, 30.0, 0), (30, 300, 100.0, 0), (40, 350, 800.0, 0), (50, 360, 900.0, 50)]


def step_run(results: Path, steps: list[tuple[int, int, float, int]] = STEPS) -> Path:
    run = RunBuilder(results)
    run.header(stages=[{"users": users, "duration_s": 20, "spawn_rate": 10} for users, *_ in steps])
    for i, (_, rps, latency, errors) in enumerate(steps):
        run.windows(i * 20, i * 20 + 20, ok=rps - errors, error=errors, latency_ms=latency)
    return run.close()


def test_knee_is_the_last_step_before_an_slo_broke(results: Path) -> None:
    capacity = analyze_capacity(load_results(step_run(results)), load_rules())
    assert (capacity.knee_users, capacity.knee_rps, capacity.broken_by) == (30, 300.0, "p95_normal")
    assert [(s.users, s.ok, s.broken_by) for s in capacity.steps] == [
        (10, True, None), (20, True, None), (30, True, None), (40, False, "p95_normal"), (50, False, "p95_normal")]
    assert capacity.steps[2].p95_ms == pytest.approx(100.0, rel=0.001)
    assert capacity.passed is None


def test_error_rate_breaks_a_step(results: Path) -> None:
    steps = [(10, 100, 20.0, 0), (20, 200, 20.0, 20)]  # 10 % errors
    capacity = analyze_capacity(load_results(step_run(results, steps)), load_rules())
    assert (capacity.knee_users, capacity.broken_by) == (10, "error_rate_normal")


@pytest.mark.parametrize(("required", "passed"), [(250.0, True), (300.0, True), (301.0, False)])
def test_require_rps(results: Path, required: float, passed: bool) -> None:
    assert analyze_capacity(load_results(step_run(results)), load_rules(), required).passed is passed


def test_missed_requirement_turns_promote_into_hold(results: Path) -> None:
    run = clean_run(results)
    run.close()
    data = load_results(results)
    verdict = evaluate(data, load_rules())
    assert verdict.verdict == "PROMOTE"
    capacity = analyze_capacity(load_results(step_run(results.parent / "steps")), load_rules(), 400)
    held = with_capacity(verdict, capacity)
    assert (held.verdict, held.exit_code) == ("HOLD", 3)
    assert held.reasons == ["capacity: knee 300.0 req/s (30 users) is below the required 400 req/s"]
    assert with_capacity(verdict, analyze_capacity(load_results(results.parent / "steps"), load_rules(), 100)).verdict \
        == "PROMOTE"


def test_first_step_broken_has_no_knee(results: Path) -> None:
    capacity = analyze_capacity(load_results(step_run(results, STEPS[3:])), load_rules(), 10)
    assert (capacity.knee_users, capacity.knee_rps, capacity.broken_by, capacity.passed) == (None, None, "p95_normal", False)


def test_not_a_step_run(results: Path) -> None:
    with pytest.raises(AnalysisError) as caught:
        analyze_capacity(load_results(clean_run(results).close()), load_rules())
    assert str(caught.value) == f"{results}: not a step-shape run (no run header lists settings.stages)"


def test_analyze_command_reports_capacity(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from stagegate.cli import main

    step_run(results)
    assert main(["analyze", str(results), "--require-rps", "400"]) == 3
    out = capsys.readouterr().out
    assert "capacity: knee 30 users at 300.0 req/s; broken above by p95_normal; required 400 req/s: FAIL" in out
    assert "**Capacity**: knee 30 users, 300.0 req/s" in (results / "summary.md").read_text()


def test_a_step_without_normal_traffic_neither_holds_nor_breaks(results: Path) -> None:
    run = RunBuilder(results)
    run.header(stages=[{"users": users, "duration_s": 20, "spawn_rate": 10} for users in (5, 10, 20)])
    run.windows(0, 20, ok=30, traffic="health", latency_ms=5.0)  # users still spawning: probes only
    run.windows(20, 40, ok=100, latency_ms=20.0)
    run.windows(40, 60, ok=200, latency_ms=900.0)
    capacity = analyze_capacity(load_results(run.close()), load_rules())
    assert [(s.users, s.ok, s.broken_by) for s in capacity.steps] == [
        (5, False, None), (10, True, None), (20, False, "p95_normal")]
    assert (capacity.knee_users, capacity.broken_by) == (10, "p95_normal")
