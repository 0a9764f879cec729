"""The recorder counts what Locust counts, standalone and distributed, and a clean stack is clean."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from reference_stack import StackHandle
from tests.scenarios.conftest import LocustRun, finish, locust, wait_for_record

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def clean_run(stack: StackHandle, tmp_path_factory: pytest.TempPathFactory) -> LocustRun:
    run = locust(stack, tmp_path_factory.mktemp("clean") / "results")
    assert isinstance(run, LocustRun)
    return run


def test_standalone_counts_equal_locust_stats(clean_run: LocustRun) -> None:
    assert clean_run.returncode == 0, clean_run.output[-3000:]
    recorded = clean_run.recorded_counts()
    assert recorded == clean_run.locust_counts()
    assert sum(recorded.values()) > 50


def test_stream_opens_with_header_and_closes_with_run_end(clean_run: LocustRun) -> None:
    records = clean_run.records()
    assert records[0]["kind"] == "run_header"
    assert records[0]["profile"] == "checklist-v0.10.0" and records[0]["scenario"] == "smoke"
    assert records[-1] == {**records[-1], "kind": "run_end", "reason": "completed"}


def test_clean_stack_rejects_every_forged_token(clean_run: LocustRun) -> None:
    tokens = clean_run.records("token")
    assert {t["target"] for t in tokens} == {"deposito", "negocio", "ml"}
    assert {t["result"] for t in tokens} <= {"rejected", "control_ok"}
    assert any(t["result"] == "rejected" for t in tokens)
    forged = [w for w in clean_run.records("window") if w["traffic"] == "forged_token"]
    assert forged and all(w["outcomes"]["error"] == 0 for w in forged)


def test_clean_stack_ledger_is_consistent(clean_run: LocustRun) -> None:
    changed, acknowledged = clean_run.ledger()
    assert clean_run.records("ledger"), "no stock movement was acknowledged"
    assert changed == acknowledged


def test_clean_stack_health_all_up(clean_run: LocustRun) -> None:
    health = clean_run.records("health")
    assert {h["check"] for h in health} == {"deposito", "negocio", "ml", "dashboard"}
    assert all(h["ok"] for h in health)


def test_dashboard_metrics_are_scraped_during_the_load(clean_run: LocustRun) -> None:
    samples = clean_run.records("metrics")
    assert len(samples) >= 2 and all(m["error"] is None for m in samples)
    totals = [m["values"]["dashboard_requests_total"] for m in sorted(samples, key=lambda m: m["t"])]
    assert totals[-1] > totals[0]
    assert all(m["values"]["dashboard_errors_total"] == 0 for m in samples)


def test_two_processes_record_the_same_totals_as_locust(stack: StackHandle, tmp_path: Path) -> None:
    run = locust(stack, tmp_path / "results", "--processes", "2")
    assert isinstance(run, LocustRun)
    assert run.returncode == 0, run.output[-3000:]
    assert run.recorded_counts() == run.locust_counts()
    kinds = {r["kind"] for r in run.records()}
    assert {"health", "token", "ledger", "ledger_snapshot"} <= kinds  # worker records reach the master
    assert len(run.records("health")) == 4  # one watcher in the whole run, not one per worker


def test_ctrl_c_ends_the_stream_interrupted(stack: StackHandle, tmp_path: Path) -> None:
    results = tmp_path / "results"
    process = locust(stack, results, seconds=30, wait=False)
    assert isinstance(process, subprocess.Popen)
    wait_for_record(results / "locust.jsonl", "health")
    process.send_signal(signal.SIGINT)
    run = finish(process, results)
    end = run.records()[-1]
    assert (end["kind"], end["reason"], end["detail"]) == ("run_end", "interrupted", "stopped by SIGINT (Ctrl-C)")
