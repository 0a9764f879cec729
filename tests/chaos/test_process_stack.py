"""Chaos on the reference stack run as plain processes (no Docker): signals, restarts, fault switches.

The Locust test plays the shipped ``pause-negocio-5s`` during a real load, with the backend chosen
automatically from the stack's ``stack.json``: the health watcher (a Locust user) must see negocio
go down and come back, and the stream must hold the chaos span with its recovery time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from analysis import load_results
from reference_stack import running_stack
from scenarios.chaos import AppBackend, Journal, injected, load_plan
from scenarios.chaos.proc_state import alive_start, environ, is_stopped
from scenarios.target.profiles import load_profile
from tests.conftest import REPO

pytestmark = pytest.mark.e2e

RUN_S = 13


def test_pause_plan_on_the_process_stack_during_a_locust_run(tmp_path: Path) -> None:
    results = tmp_path / "results"
    with running_stack(tmp_path / "stack", gateway=False) as stack:
        negocio_pid = stack.info.processes["negocio"].pid
        env = {**os.environ, "STAGEGATE_STATE_DIR": str(stack.state_dir), "PYTHONUNBUFFERED": "1"}
        env.pop("LOCUST_SKIP_MONKEY_PATCH", None)
        done = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(REPO / "locustfiles/staging.py"), "--headless",
             "--run-time", f"{RUN_S}s", "--stop-timeout", "2", "--scenario", "smoke", "--users", "4",
             "--target", "local", "--results-dir", str(results), "--chaos-plan", "pause-negocio-5s", "--allow-chaos"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
        )
        assert (results / "locust.jsonl").exists(), done.stdout[-3000:] + done.stderr[-3000:]
        assert not is_stopped(negocio_pid)
    data = load_results(results)
    chaos = data.chaos
    assert [e["phase"] for e in chaos] == ["start", "end", "recovered"], chaos
    assert {e["backend"] for e in chaos} == {"process"} and chaos[1]["detail"].startswith("resumed negocio (pid ")
    assert 4.5 < chaos[1]["t"] - chaos[0]["t"] < 8
    assert chaos[2]["recovery_s"] is not None and chaos[2]["recovery_s"] < 30
    negocio_health = [h for h in data.health if h["check"] == "negocio"]
    down = [h["t"] for h in negocio_health if not h["ok"]]
    back = [h["t"] for h in negocio_health if h["ok"] and down and h["t"] > down[0]]
    assert down and back, negocio_health
    assert chaos[0]["t"] - 1 < down[0] < chaos[1]["t"] and back[0] > chaos[1]["t"] - 1
    journal = stack.state_dir / "chaos-journal.jsonl"
    assert journal.exists() and Journal(journal).open_faults() == []


def test_kill_restarts_a_real_service_with_its_secrets_and_journals_none(tmp_path: Path) -> None:
    with running_stack(tmp_path / "stack", gateway=False) as stack:
        old_pid = stack.info.processes["negocio"].pid
        env = {**os.environ, "STAGEGATE_STATE_DIR": str(stack.state_dir)}
        done = subprocess.run(
            [sys.executable, "-m", "stagegate", "chaos", "run", "kill-negocio-3s", "--target", "local",
             "--allow-chaos", "--journal", str(tmp_path / "journal.jsonl"), "--out", str(tmp_path / "out")],
            env=env, capture_output=True, text=True, timeout=90, check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        new_pid = int(json.loads((stack.state_dir / "stack.json").read_text())["processes"]["negocio"]["pid"])
        assert new_pid != old_pid and alive_start(new_pid) is not None
        assert environ(new_pid)["JWT_SECRET_NEGOCIO"] == stack.secrets["JWT_SECRET_NEGOCIO"]
        assert httpx.get(stack.services["negocio"] + "/health", timeout=5).status_code == 200
    assert alive_start(new_pid) is None, "stack down must stop the restarted process too"
    journal_text = (tmp_path / "journal.jsonl").read_text()
    assert all(value not in journal_text for value in stack.secrets.values())
    phases = [json.loads(line).get("phase") for line in (tmp_path / "out/chaos.jsonl").read_text().splitlines()]
    assert phases == [None, "start", "end", "recovered", None]


def test_app_fault_sets_the_switches_and_puts_the_old_ones_back(tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text('name = "errors"\n[[steps]]\nid = "errors_deposito"\nat_s = 0\naction = "app_fault"\n'
                    'target = "deposito"\nduration_s = 1\nfaults = {error_rate = 1.0, latency = {ms = 50}}\n')
    with running_stack(tmp_path / "stack", gateway=False, services=("deposito",)) as stack:
        stack.set_fault("deposito", health_failing=False, security_headers_missing=True)
        profile = load_profile("checklist-v0.10.0").with_targets(stack.services)
        backend = AppBackend(profile, stack.state_dir / "secrets.env")
        journal = Journal(tmp_path / "journal.jsonl")
        with injected(backend, journal, load_plan(plan).steps[0]) as held:
            assert held.fault["original"]["security_headers_missing"] is True
            status = httpx.get(stack.services["deposito"] + "/productos", timeout=5).status_code
            assert status == 500
            answer = httpx.get(stack.services["deposito"] + "/__admin/faults", timeout=5,
                               headers={"X-Stagegate-Admin": stack.secrets["STAGEGATE_ADMIN_TOKEN"]}).json()
            assert answer["faults"]["error_rate"] == 1.0 and answer["faults"]["security_headers_missing"] is True
        answer = httpx.get(stack.services["deposito"] + "/__admin/faults", timeout=5,
                           headers={"X-Stagegate-Admin": stack.secrets["STAGEGATE_ADMIN_TOKEN"]}).json()
        assert answer["faults"] == held.fault["original"] and answer["faults"]["error_rate"] == 0
        assert held.reverted == "restored the fault switches of deposito" and journal.open_faults() == []
    assert stack.secrets["STAGEGATE_ADMIN_TOKEN"] not in (tmp_path / "journal.jsonl").read_text()
