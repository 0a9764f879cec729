"""The load does not end while a chaos step waits for its recovery.

Real Locust runs against the reference stack as processes, with short plans written here. When
the planned load time is over, a fault still held is reverted at once and its recovery awaited;
a service still down when the recovery timeout passes is recorded ``not_recovered``, and the run
never lasts longer than that timeout past its planned end.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from reference_stack import StackHandle, running_stack
from tests.conftest import REPO

pytestmark = pytest.mark.e2e

RUN_S = 6
STOP_TIMEOUT_S = 2
"""Locust's graceful stop (--stop-timeout): the shutdown every run has after its load ends."""


def run_locust(stack: StackHandle, tmp_path: Path, plan: Path) -> list[dict[str, Any]]:
    results = tmp_path / "results"
    env = {**os.environ, "STAGEGATE_STATE_DIR": str(stack.state_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("LOCUST_SKIP_MONKEY_PATCH", None)
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(REPO / "locustfiles/staging.py"), "--headless",
         "--run-time", f"{RUN_S}s", "--stop-timeout", str(STOP_TIMEOUT_S), "--scenario", "smoke", "--users", "4",
         "--target", "local", "--results-dir", str(results), "--chaos-plan", str(plan), "--allow-chaos"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert (results / "locust.jsonl").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return [json.loads(line) for line in (results / "locust.jsonl").read_text(encoding="utf-8").splitlines()]


def of_kind(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [record for record in records if record["kind"] == kind]


def planned_end(records: list[dict[str, Any]]) -> float:
    return float(of_kind(records, "run_header")[-1]["t"]) + RUN_S


def write_plan(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "plan.toml"
    path.write_text(text, encoding="utf-8")
    return path


def refuses(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def squat_when_down(port: int, squatted: list[socket.socket], deadline_s: float) -> None:
    """Take the port once its service is gone, so its restart fails (address in use) and it stays down."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if refuses(port):
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", port))
            listener.listen(64)  # connections are accepted by the kernel and never answered
            squatted.append(listener)
            return
        time.sleep(0.02)


def test_a_service_that_never_comes_back_is_not_recovered_and_the_run_waits_for_it(tmp_path: Path) -> None:
    recovery_timeout_s = 8
    plan = write_plan(tmp_path, f'''name = "kill-ml-never-back"
[steady_state]
recovery_timeout_s = {recovery_timeout_s}
interval_s = 0.25
while_recovering = "health_only"
[[steps]]
id = "kill_ml"
at_s = 2
action = "kill"
target = "ml"
duration_s = 2
''')
    squatted: list[socket.socket] = []
    with running_stack(tmp_path / "stack", gateway=False) as stack:
        port = int(stack.services["ml"].rsplit(":", 1)[1])
        squatter = threading.Thread(target=squat_when_down, args=(port, squatted, 20), daemon=True)
        squatter.start()
        try:
            records = run_locust(stack, tmp_path, plan)
        finally:
            squatter.join()
            for listener in squatted:
                listener.close()
    assert squatted, "ml was never down"
    chaos = of_kind(records, "chaos")
    assert [e["phase"] for e in chaos] == ["start", "end", "not_recovered"], chaos
    assert "ml" in chaos[-1]["detail"]
    end, planned = of_kind(records, "run_end")[-1], planned_end(records)
    # the recovery timeout ran out after the planned end: the run went on for it, and no longer than it
    # (plus the graceful stop of the users, which every run has)
    timeline = [(e.get("phase", "run_end"), round(e["t"] - planned, 2)) for e in [*chaos, end]]
    assert planned < chaos[-1]["t"] <= planned + recovery_timeout_s, timeline
    assert chaos[-1]["t"] < end["t"] <= chaos[-1]["t"] + 1 + STOP_TIMEOUT_S + 1, timeline
    late = [w for w in of_kind(records, "window") if w["t"] >= planned + 2]
    assert {w["traffic"] for w in late} == {"health"}, {(w["name"], w["traffic"]) for w in late}


def test_a_pause_still_held_at_the_planned_end_is_reverted_and_its_recovery_recorded(tmp_path: Path) -> None:
    recovery_timeout_s = 10
    plan = write_plan(tmp_path, f'''name = "pause-past-the-end"
[steady_state]
recovery_timeout_s = {recovery_timeout_s}
interval_s = 0.25
[[steps]]
id = "pause_negocio"
at_s = 3
action = "pause"
target = "negocio"
duration_s = 60
''')
    with running_stack(tmp_path / "stack", gateway=False) as stack:
        records = run_locust(stack, tmp_path, plan)
    chaos = of_kind(records, "chaos")
    assert [e["phase"] for e in chaos] == ["start", "end", "recovered"], chaos
    planned = planned_end(records)
    assert chaos[1]["detail"].startswith("resumed negocio") and abs(chaos[1]["t"] - planned) < 2
    end = of_kind(records, "run_end")[-1]
    assert chaos[2]["t"] <= end["t"] < planned + recovery_timeout_s
