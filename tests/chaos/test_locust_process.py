"""The same plan without Docker: Locust runs the load, chaos pauses the reference stack's process.

The reference stack runs as plain processes (``running_stack``); the plan is the shipped
``pause-negocio-5s``; the backend is chosen automatically from the stack's ``stack.json``. The
health watcher (a Locust user) must see negocio go down and come back, and the stream must hold
the chaos span with its recovery time.
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
from scenarios.chaos import Journal
from scenarios.chaos._proc import alive_start, environ, is_stopped
from tests.conftest import REPO

pytestmark = pytest.mark.e2e

RUN_S = 16


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
    journal = tmp_path / ".stagegate/chaos-journal.jsonl"
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
