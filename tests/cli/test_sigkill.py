"""SIGKILL of ``stagegate run`` at each phase, then a new run: nothing left running, nothing frozen,
and the next run starts a clean stack of its own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from scenarios.chaos.proc_state import is_stopped
from tests.conftest import REPO

pytestmark = pytest.mark.e2e

TRIVY_CLEAN = REPO / "examples" / "trivy-no-findings.json"


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # Outside pytest's 0700 tmp folder, so that under root the services can drop to nobody.
    with tempfile.TemporaryDirectory(prefix="stagegate-kill-") as directory:
        os.chmod(directory, 0o755)
        yield Path(directory) / "stack"


def _processes_of(marker: str) -> list[tuple[int, str]]:
    """Live processes (not zombies) whose command line names ``marker``, with their state letter."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if marker in cmdline and state not in ("Z", "X"):
            found.append((int(entry.name), state))
    return found


def _wait(condition: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _negocio_pid(state_dir: Path) -> int | None:
    try:
        return int(json.loads((state_dir / "stack.json").read_text())["processes"]["negocio"]["pid"])
    except (OSError, ValueError, KeyError):
        return None


def _run(state_dir: Path, out: Path, *args: str, **popen: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "stagegate", "run", "--target", "local", "--trivy-report", str(TRIVY_CLEAN),
         "--out", str(out), "--reports-dir", str(out.parent), *args],
        cwd=REPO, env={**os.environ, "STAGEGATE_STATE_DIR": str(state_dir)}, text=True, **popen,  # type: ignore[call-overload]
    )


def _phase_reached(phase: str, state_dir: Path, out: Path) -> Callable[[], bool]:
    def reached() -> bool:
        if phase == "stack start":
            return (state_dir / "stack.json").exists()
        if phase == "smoke":
            return (out / "smoke.jsonl").exists()
        if phase == "load with an active pause":
            pid = _negocio_pid(state_dir)
            return pid is not None and is_stopped(pid)
        # analysis: Locust has written its end, the gate judges
        stream = out / "locust.jsonl"
        return stream.exists() and '"kind":"run_end"' in stream.read_text()
    return reached


@pytest.mark.parametrize("phase", ["stack start", "smoke", "load with an active pause", "analysis"])
def test_sigkill_of_run_at_each_phase_leaves_nothing_and_the_next_run_is_clean(
        phase: str, state_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "killed"
    chaos = ["--chaos", "pause-negocio-5s", "--allow-chaos"] if phase != "analysis" else []
    smoke = [] if phase in ("stack start", "smoke") else ["--no-smoke"]
    killed = _run(state_dir, out, "--scenario", "smoke", "--duration", "8s" if phase == "analysis" else "30s",
                  *chaos, *smoke, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait(_phase_reached(phase, state_dir, out), 120), f"never reached {phase}"
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait()
    # Nothing the killed run started stays: its services, nginx, Locust (and nothing stays frozen).
    assert _wait(lambda: not _processes_of(str(state_dir)) and not _processes_of(str(out)), 15), (
        _processes_of(str(state_dir)), _processes_of(str(out)))
    again = tmp_path / "reports" / "again"
    done = _run(state_dir, again, "--scenario", "smoke", "--duration", "5s", "--no-smoke",
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, stderr = done.communicate(timeout=240)
    assert done.returncode in (0, 3), stderr[-3000:]
    assert "starting the reference stack" in stderr and "using the reference stack" not in stderr
    assert (again / "verdict.json").exists()
    assert not _processes_of(str(state_dir))
