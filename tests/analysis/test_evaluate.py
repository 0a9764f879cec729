from __future__ import annotations

from pathlib import Path

from analysis import evaluate, load_rules
from tests.analysis.conftest import clean_run


def status(verdict, rule_id: str) -> str:
    return next(r.status for r in verdict.rules if r.id == rule_id)


def test_clean_run_promotes(results: Path) -> None:
    verdict = evaluate(clean_run(results).close(), load_rules())
    assert [(r.id, r.status) for r in verdict.rules if r.status != "PASS"] == []
    assert (verdict.verdict, verdict.exit_code, verdict.reasons) == ("PROMOTE", 0, [])


def test_run_info_and_requests_come_from_the_stream(results: Path) -> None:
    verdict = evaluate(clean_run(results).close(), load_rules())
    assert verdict.run.run_id == "test-run"
    assert verdict.run.git_commit == "abc1234"
    assert verdict.run.end_reason == "completed"
    assert verdict.run.duration_s == 70.0
    [row] = verdict.requests
    assert (row.name, row.count, row.ok, row.errors, row.rps) == ("deposito GET /productos/{id}", 700, 700, 0, 10.0)
    assert abs(row.p95_ms - 20.0) <= 20.0 * 0.001


def test_alert_breach_warns_and_keeps_promote(results: Path) -> None:
    run = clean_run(results, seconds=130)
    run.windows(130, 190, ok=93, error=7)  # 7 % errors for 60 s: above the 5 % alert, below 10 %
    run.snapshot(189, "end", {"1": 95, "2": 60})
    verdict = evaluate(run.close(), load_rules())
    assert status(verdict, "error_rate_alert") == "WARN"
    assert status(verdict, "error_rate_sustained") == "PASS"
    assert verdict.verdict == "PROMOTE"


def test_every_missing_stream_is_no_data_never_pass(results: Path) -> None:
    run = clean_run(results)
    run.close()
    for path in results.glob("*.jsonl"):
        if path.name != "smoke.jsonl":
            path.unlink()
    verdict = evaluate(results, load_rules())
    assert status(verdict, "p95_normal") == "NO_DATA"
    assert status(verdict, "error_rate_sustained") == "NO_DATA"
    assert status(verdict, "health_failing_long") == "NO_DATA"
    assert verdict.verdict == "HOLD"
    assert "error_rate_sustained (no data): no request in scope (traffic normal)" in verdict.reasons
    assert ("p95_normal (no data): 0 answered requests in scope (traffic normal), need 100; must stay below 500 "
            "(seen: 0 answered)") in verdict.reasons


def test_run_info_prefers_the_run_header_and_the_worst_end(results: Path) -> None:
    run = clean_run(results)
    run.header("run", at=0, contract="as-built")
    run.end("run", at=70, reason="interrupted")
    verdict = evaluate(run.close(), load_rules())
    assert (verdict.run.contract, verdict.run.end_reason) == ("as-built", "interrupted")
    assert verdict.verdict == "HOLD"
    assert "stream_complete (no data): 1 problem(s), first: *:0: run ended interrupted: " in verdict.reasons
