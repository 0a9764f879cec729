"""The checks inside the traffic: heavy invoices, forged tokens, the ledger, the health watcher."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from generators import generate_invoices
from reference_stack import StackHandle, running_stack
from tests.conftest import require_binary
from tests.scenarios.conftest import LocustRun, finish, locust, wait_for_record

pytestmark = pytest.mark.e2e

HEAVY = "negocio POST /procesar_factura_completa [heavy_invoice]"
NORMAL_OCR = "negocio POST /procesar_factura_completa"
FOREIGN_SIGNATURE = ("cross_agent__", "shared_secret_wrong_iss__", "shared_secret_wrong_role__")
"""Cases signed with another agent's secret: the ones the cross-agent switch lets through."""


def test_heavy_invoices_time_out_as_expected(stack: StackHandle, tmp_path: Path) -> None:
    invoices = tmp_path / "invoices"
    generate_invoices(invoices, kinds=("normal", "heavy"), count=1, min_size_bytes=2 * 1024 * 1024)
    run = locust(stack, tmp_path / "results", "--invoices", str(invoices), "--ocr-grace", "1", seconds=7)
    assert isinstance(run, LocustRun)
    assert run.returncode == 0, run.output[-3000:]  # expected 504s do not fail the run
    heavy = [o for o in run.records("ocr") if o["invoice_kind"] == "heavy"]
    assert heavy, "no heavy invoice was uploaded"
    assert {(o["status"], o["result"]) for o in heavy} == {(504, "timeout_ok")}
    assert all(1000 <= o["latency_ms"] <= 2000 for o in heavy)
    windows = [w for w in run.records("window") if w["name"] == HEAVY]
    assert sum(w["outcomes"]["expected"] for w in windows) == sum(w["count"] for w in windows) == len(heavy)
    assert all(w["traffic"] == "heavy_invoice" for w in windows)
    normal = [w for w in run.records("window") if w["name"] == NORMAL_OCR]
    assert normal and all(w["outcomes"]["ok"] == w["count"] for w in normal)


@pytest.fixture(scope="module")
def faulty_run(stack: StackHandle, tmp_path_factory: pytest.TempPathFactory) -> LocustRun:
    """A run with agents accepting cross-agent tokens, deposito applying each movement twice and ml
    ignoring the inflation rate."""
    for agent in ("deposito", "negocio", "ml"):
        stack.set_fault(agent, jwt_accept_cross_agent=True)
    stack.set_fault("deposito", ledger_corruption="double")
    stack.set_fault("ml", inflation_ignored=True)
    try:
        run = locust(stack, tmp_path_factory.mktemp("faulty") / "results")
    finally:
        stack.clear_faults()
    assert isinstance(run, LocustRun)
    return run


def test_cross_agent_breach_is_recorded(faulty_run: LocustRun) -> None:
    tokens = faulty_run.records("token")
    breaches = [t for t in tokens if t["result"] == "breach"]
    assert breaches and all(t["case_id"].startswith(FOREIGN_SIGNATURE) for t in breaches)
    assert all(t["result"] == "breach" for t in tokens if t["case_id"].startswith("cross_agent__"))
    assert {t["target"] for t in breaches} == {"deposito", "negocio", "ml"}
    forged = [w for w in faulty_run.records("window") if w["traffic"] == "forged_token"]
    assert sum(w["outcomes"]["error"] for w in forged) == len(breaches)
    assert faulty_run.returncode == 1  # a breach is a real failure for Locust too


def test_ledger_corruption_shows_in_the_stream(faulty_run: LocustRun) -> None:
    changed, acknowledged = faulty_run.ledger()
    assert faulty_run.records("ledger"), "no stock movement was acknowledged"
    assert changed != acknowledged


def test_wrong_inflation_rate_fails_each_prediction(faulty_run: LocustRun) -> None:
    windows = [w for w in faulty_run.records("window") if w["name"] == "ml POST /predict"]
    assert windows and sum(w["outcomes"]["error"] for w in windows) == sum(w["count"] for w in windows)
    classes = {name for w in windows for name in w["errors"]}
    assert classes == {"inflation rate 0, expected 0.045"}


def test_health_watcher_sees_a_stopped_service_go_down_and_come_back(stack: StackHandle, tmp_path: Path) -> None:
    results = tmp_path / "results"
    process = locust(stack, results, seconds=10, wait=False)
    wait_for_record(results / "locust.jsonl", "health")
    pid = stack.children["dashboard"].pid
    stopped = time.time()
    os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(3.5)
    finally:
        os.kill(pid, signal.SIGCONT)
    resumed = time.time()
    run = finish(process, results)  # type: ignore[arg-type]
    dashboard = [(h["ok"], h["t"]) for h in run.records("health") if h["check"] == "dashboard"]
    assert [ok for ok, _ in dashboard] == [True, False, True], dashboard
    down_at, up_at = dashboard[1][1], dashboard[2][1]
    assert stopped - 1 <= down_at <= stopped + 1  # the poll that saw it down started right after the stop
    assert resumed - 3 <= up_at <= resumed + 2
    down = next(h for h in run.records("health") if h["check"] == "dashboard" and not h["ok"])
    assert down["detail"].startswith("timeout after") and down["status"] is None


def test_abort_on_rollback_stops_the_load_at_the_first_breach(stack: StackHandle, tmp_path: Path) -> None:
    stack.set_fault("deposito", jwt_accept_cross_agent=True)
    started = time.time()
    try:
        run = locust(stack, tmp_path / "results", "--abort-on-rollback", seconds=60)
    finally:
        stack.clear_faults()
    assert isinstance(run, LocustRun)
    assert time.time() - started < 30
    assert run.returncode == 1
    end = run.records()[-1]
    assert (end["kind"], end["reason"]) == ("run_end", "aborted")
    assert end["detail"].startswith("jwt_forged_accepted: ")


@pytest.mark.nginx
def test_health_watcher_polls_the_gateway_too(tmp_path: Path) -> None:
    require_binary("nginx")
    with running_stack(tmp_path / "stack", gateway=True, gateway_port=0) as with_gateway:
        run = locust(with_gateway, tmp_path / "results", seconds=4)
    assert isinstance(run, LocustRun)
    assert run.returncode == 0, run.output[-3000:]
    assert {h["check"] for h in run.records("health") if h["ok"]} == {"deposito", "negocio", "ml", "dashboard", "gateway"}
    assert run.records()[0]["targets"]["gateway"] == with_gateway.services["gateway"]
