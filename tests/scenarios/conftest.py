"""Plumbing for the Locust tests: a reference stack on free ports, and Locust as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

if "locust" not in sys.modules:  # listener tests import Locust here: gevent must not patch everyone's tests
    _SKIP = "LOCUST_SKIP_MONKEY_PATCH"
    _had = _SKIP in os.environ
    os.environ[_SKIP] = "1"
    import locust
    if not _had:  # only for this import: child processes (Locust runs, other areas' gates) need the patches
        del os.environ[_SKIP]

from reference_stack import StackHandle, running_stack

REPO = Path(__file__).resolve().parents[2]
LOCUSTFILE = REPO / "locustfiles" / "staging.py"
FAST_DAY = Path(__file__).parent / "fast_day.toml"
RAW_SAMPLES = Path(__file__).parent / "raw_samples.py"
OCR_TIMEOUT_S = 1.0
OCR_SECONDS_PER_MB = 1.0
"""A 0.5 MB normal invoice takes 0.5 s (processed); a 2 MB heavy one 2 s (cut at 1 s: 504)."""
RUN_TIMEOUT_S = 90


@dataclass
class LocustRun:
    """A finished Locust subprocess: exit code, output and what it wrote."""

    returncode: int
    output: str
    results_dir: Path

    def records(self, kind: str | None = None) -> list[dict[str, Any]]:
        lines = (self.results_dir / "locust.jsonl").read_text(encoding="utf-8").splitlines()
        found = [json.loads(line) for line in lines if line.strip()]
        return [r for r in found if kind is None or r["kind"] == kind]

    def ledger(self) -> tuple[dict[str, int], dict[str, int]]:
        """(stock change per tracked product, sum of acknowledged deltas per product) over the run."""
        start, end = (snapshot["stock"] for snapshot in self.records("ledger_snapshot"))
        acknowledged = {pid: 0 for pid in start}
        for entry in self.records("ledger"):
            acknowledged[str(entry["producto_id"])] += entry["delta"]
        return {pid: end[pid] - start[pid] for pid in start}, acknowledged

    def recorded_counts(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for window in self.records("window"):
            counts[window["name"]] += window["count"]
        return counts

    def locust_counts(self) -> Counter[str]:
        """Locust's own final per-name request counts (``--json-file``: its ``--csv`` stats are
        rewritten once a second, so they may miss the last second)."""
        entries = json.loads((self.results_dir / "locust_stats.json").read_text(encoding="utf-8"))
        counts: Counter[str] = Counter()
        for entry in entries:
            counts[entry["name"]] += entry["num_requests"]
        return counts


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackHandle]:
    """One clean intended-contract stack for the whole session (tests clear the faults they set)."""
    with running_stack(tmp_path_factory.mktemp("stack"), gateway=False, ocr_timeout_s=OCR_TIMEOUT_S,
                       ocr_seconds_per_mb=OCR_SECONDS_PER_MB) as handle:
        yield handle


def locust(stack: StackHandle | None, results_dir: Path, *args: str, seconds: int = 6,
           state_dir: Path | None = None, extra_env: dict[str, str] | None = None,
           wait: bool = True) -> LocustRun | subprocess.Popen[str]:
    """Run ``locustfiles/staging.py`` headless against ``stack`` (``--target local`` through its state dir)."""
    argv = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--run-time", f"{seconds}s",
        "--csv", str(results_dir / "locust"), "--json-file", str(results_dir / "locust_stats"), "--results-dir", str(results_dir),
        "--scenario-file", str(FAST_DAY), "--scenario", "smoke", "--users", "8", "--stop-timeout", "2",
        "--ocr-timeout", str(OCR_TIMEOUT_S), *args,
    ]
    env = {**os.environ, "STAGEGATE_STATE_DIR": str(state_dir or (stack.state_dir if stack else results_dir)),
           "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    env.pop("LOCUST_PROFILE", None)
    env.pop("LOCUST_SKIP_MONKEY_PATCH", None)  # the real run needs gevent's patches
    process = subprocess.Popen(argv, cwd=results_dir.parent, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    if not wait:
        return process
    return finish(process, results_dir)


def wait_for_record(stream: Path, kind: str, timeout_s: float = 30.0) -> None:
    """Wait until the stream holds a record of ``kind`` (the run is really under way)."""
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if stream.exists() and f'"kind":"{kind}"' in stream.read_text(encoding="utf-8"):
            return
        time.sleep(0.2)
    raise AssertionError(f"no {kind} record in {stream} after {timeout_s:g} s")


def finish(process: subprocess.Popen[str], results_dir: Path) -> LocustRun:
    try:
        output, _ = process.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError(f"locust did not finish in {RUN_TIMEOUT_S} s:\n{output[-3000:]}") from None
    return LocustRun(process.returncode, output, results_dir)
