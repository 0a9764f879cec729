"""Live judging: rollback triggers fire as the records arrive, once each, at the right record."""

from __future__ import annotations

from pathlib import Path

from analysis import LiveJudge, load_rules
from stagegate_core.stream import read_dir
from tests.analysis.conftest import CHECKS, T0, RunBuilder


def feed_all(judge: LiveJudge, results: Path) -> list[tuple[float, str]]:
    """Feed every record of the directory in order; the (time, rule id) of each firing."""
    fired = []
    for rec in read_dir(results):
        fired += [(judge.now - T0, result.id) for result in judge.feed(rec)]  # type: ignore[arg-type, operator]
    return fired


def test_sustained_error_rate_fires_when_the_trailing_window_crosses(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 120)
    run.windows(120, 300, ok=0, error=10)
    # the 120 s window ending in second 132 holds 13 s of errors: 130 / 1200 = 10.8 % > 10 %;
    # it is complete when the first window of second 133 arrives
    assert feed_all(LiveJudge(load_rules()), run.close()) == [(133.0, "error_rate_sustained")]


def test_twelve_seconds_of_errors_in_120_never_fire(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 120)
    run.windows(120, 132, ok=0, error=10)  # 120 / 1200 = 10 %: not above
    run.windows(132, 400)
    assert feed_all(LiveJudge(load_rules()), run.close()) == []


def test_health_outage_fires_past_180_s_without_new_health_records(results: Path) -> None:
    run = RunBuilder(results)
    for check in CHECKS:
        run.health(0, check, True)
    run.health(10, "negocio", False)
    run.windows(0, 300)
    assert feed_all(LiveJudge(load_rules()), run.close()) == [(191.0, "health_failing_long")]


def test_forged_token_fires_once(results: Path) -> None:
    run = RunBuilder(results)
    run.token(1, "rejected")
    run.token(2, "breach", status=200)
    run.token(3, "breach", status=200)
    run.token(4, "control_refused")  # completion criterion: judged after the run, never live
    judge = LiveJudge(load_rules())
    assert feed_all(judge, run.close()) == [(2.0, "jwt_forged_accepted")]
    assert judge.fired[0].status == "FAIL"
    assert judge.fired[0].evidence.items[0]["case_id"] == "alg_none"


def test_doubled_movement_fires_at_the_end_snapshot(results: Path) -> None:
    run = RunBuilder(results)
    run.snapshot(0, "start", {"1": 100})
    run.ledger(5, 1, -5, movimiento_id="m1", before=100)
    run.snapshot(9, "end", {"1": 90})
    assert feed_all(LiveJudge(load_rules()), run.close()) == [(9.0, "ledger_consistent")]


def test_malformed_records_are_ignored() -> None:
    judge = LiveJudge(load_rules())
    assert judge.feed({"kind": "window", "v": 1, "t": T0}) == []
    assert judge.feed({"kind": "mystery", "v": 1, "t": T0}) == []
    assert judge.feed({"kind": "health", "v": 1, "t": "soon"}) == []


def test_only_rollback_rules_of_live_kinds_are_watched() -> None:
    assert sorted(LiveJudge(load_rules()).rules) == sorted([
        "health_failing_long", "health_concurrent_failing", "error_rate_sustained", "jwt_forged_accepted",
        "jwt_wrong_rejection", "ledger_consistent", "chaos_recovered", "trivy_critical_high",
    ])
