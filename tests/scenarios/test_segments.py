"""Locust's web UI: stop and start again is a new segment of the stream, with its own header and its
own pair of ledger snapshots, so nothing of the first start is mixed into the second one's ledger."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from reference_stack import StackHandle
from tests.conftest import free_port
from tests.scenarios.conftest import FAST_DAY, LOCUSTFILE, OCR_TIMEOUT_S, finish, wait_for_record

pytestmark = pytest.mark.e2e

WAIT_S = 30.0


def kinds(stream: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.read_text(encoding="utf-8").splitlines() if line.strip()]


def wait_until(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def snapshots(stream: Path) -> list[str]:
    return [r["phase"] for r in kinds(stream) if r["kind"] == "ledger_snapshot"] if stream.exists() else []


def test_stop_and_start_in_the_web_ui_make_two_segments(stack: StackHandle, tmp_path: Path) -> None:
    results, port = tmp_path / "results", free_port()
    argv = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--web-host", "127.0.0.1", "--web-port", str(port),
            "--results-dir", str(results), "--scenario-file", str(FAST_DAY), "--scenario", "smoke",
            "--ocr-timeout", str(OCR_TIMEOUT_S), "--stop-timeout", "2"]
    env = {**os.environ, "STAGEGATE_STATE_DIR": str(stack.state_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("LOCUST_SKIP_MONKEY_PATCH", None)
    process = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stream = results / "locust.jsonl"
    try:
        ui = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(ui), "the web UI")
        for segment in (1, 2):
            assert httpx.post(f"{ui}/swarm", data={"user_count": 6, "spawn_rate": 6}, timeout=10).status_code == 200
            wait_until(lambda segment=segment: snapshots(stream).count("start") == segment, f"start {segment}")
            wait_for_record(stream, "ledger", timeout_s=WAIT_S)
            time.sleep(1.5)
            if segment == 1:
                assert httpx.post(f"{ui}/stop", timeout=10).status_code == 200
                wait_until(lambda: snapshots(stream).count("end") == 1, "the first end snapshot")
        process.send_signal(signal.SIGTERM)  # quit while the second start is running
        run = finish(process, results)  # type: ignore[arg-type]
    finally:
        if process.poll() is None:
            process.kill()
    records = run.records()
    headers = [r for r in records if r["kind"] == "run_header"]
    assert [h["settings"]["segment"] for h in headers] == [1, 2]
    by_segment: list[list[str]] = []
    for rec in records:
        if rec["kind"] == "run_header":
            by_segment.append([])
        elif rec["kind"] == "ledger_snapshot":
            by_segment[-1].append(rec["phase"])
    assert by_segment == [["start", "end"], ["start", "end"]]
    second = records[records.index(headers[1]):]
    start, end = (r["stock"] for r in second if r["kind"] == "ledger_snapshot")
    moved = {pid: 0 for pid in start}
    for entry in (r for r in second if r["kind"] == "ledger"):
        moved[str(entry["producto_id"])] += entry["delta"]
    assert {pid: end[pid] - start[pid] for pid in start} == moved  # the second segment's ledger holds alone
    assert records[-1]["kind"] == "run_end"


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
