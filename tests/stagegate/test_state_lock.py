"""The lock on a state directory: one run at a time, a second exits 2 naming the holder or shares explicitly."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from stagegate import _state_lock, gate
from stagegate_core.errors import StagegateError
from tests.conftest import REPO

HOLD = """
import sys, time
from pathlib import Path
from stagegate import _state_lock
with _state_lock.exclusive(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


@contextlib.contextmanager
def held_by_another_process(state_dir: Path) -> Iterator[subprocess.Popen[str]]:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(state_dir), "run", "--target", "local"],
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_a_second_run_exits_2_naming_the_holder(tmp_path: Path) -> None:
    with held_by_another_process(tmp_path) as holder:
        done = subprocess.run(
            [sys.executable, "-m", "stagegate", "run", "--target", "local", "--no-smoke", "--duration", "5s",
             "--out", str(tmp_path / "out")],
            env={**os.environ, "STAGEGATE_STATE_DIR": str(tmp_path)}, cwd=tmp_path, capture_output=True, text=True,
            timeout=60, check=False,
        )
    assert done.returncode == 2, done.stderr
    [line] = [line for line in done.stderr.splitlines() if "in use by another run" in line]
    assert f"pid {holder.pid} since " in line and "run --target local" in line
    assert "Traceback" not in done.stderr and not (tmp_path / "stack.json").exists()


@pytest.mark.parametrize("command", ["up", "down"])
def test_stack_up_and_down_refuse_a_state_directory_a_run_holds(tmp_path: Path, command: str) -> None:
    """Neither a second stack under a running gate nor its stack stopped from under it."""
    with held_by_another_process(tmp_path) as holder:
        done = subprocess.run([sys.executable, "-m", "stagegate", "stack", command, "--state-dir", str(tmp_path)],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"stagegate: error: stack {command}: state directory {tmp_path} is in use by a run (pid {holder.pid} ")
    assert not (tmp_path / "stack.json").exists()


def test_the_lock_of_a_sigkilled_holder_is_free_at_once(tmp_path: Path) -> None:
    with held_by_another_process(tmp_path) as holder:
        assert _state_lock.busy(tmp_path)
        holder.send_signal(signal.SIGKILL)
        holder.wait()
        assert not _state_lock.busy(tmp_path)
        with _state_lock.exclusive(tmp_path):
            assert (tmp_path / "run.lock").read_text().startswith(f"pid {os.getpid()} since ")


def test_lock_wait_waits_a_bounded_time(tmp_path: Path) -> None:
    with held_by_another_process(tmp_path):
        started = time.monotonic()
        with pytest.raises(StagegateError, match=r"after waiting 1 s \(pid \d+ since"), \
                _state_lock.exclusive(tmp_path, wait_s=1):
            pass
        assert 0.9 < time.monotonic() - started < 3
    with _state_lock.exclusive(tmp_path, wait_s=1):
        pass


def _options(**changes: object) -> gate.GateOptions:
    base = gate.GateOptions(profile="checklist-v0.10.0", target="local", env_file=None, scenario="smoke",
                            duration_s=5, users=None, processes=None, expect_workers=None, chaos=None,
                            allow_chaos=False, rules=None, trivy_report=None, abort_on_rollback=False, smoke=False,
                            out=None, reports_dir=Path("reports"))
    return gate.GateOptions(**{**base.__dict__, **changes})  # type: ignore[arg-type]


def test_the_run_that_started_the_stack_stops_it_only_after_the_runs_sharing_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    up = threading.Event()

    @contextlib.contextmanager
    def fake_running_stack(directory: Path, **_: object) -> Iterator[None]:
        up.set()
        events.append("started")
        yield
        events.append("stopped")
        up.clear()

    import reference_stack

    monkeypatch.setattr(reference_stack, "running_stack", fake_running_stack)
    monkeypatch.setattr(gate, "_existing_stack", lambda directory, console, adopt: "using" if up.is_set() else None)
    monkeypatch.setenv("STAGEGATE_STATE_DIR", str(tmp_path))
    profile = gate.load_profile("checklist-v0.10.0")
    console = Console(file=io.StringIO())
    owner_may_end, sharer_in = threading.Event(), threading.Event()

    def owner() -> None:
        with gate._local_stack(profile, _options(), console):
            owner_may_end.wait(10)
        events.append("owner done")

    thread = threading.Thread(target=owner)
    thread.start()
    assert up.wait(5)
    with pytest.raises(StagegateError, match="in use by another run"), gate._local_stack(profile, _options(), console):
        pass
    with gate._local_stack(profile, _options(reuse_stack=True), console):
        sharer_in.set()
        owner_may_end.set()
        time.sleep(0.5)
        events.append("sharer still running")
    thread.join(10)
    assert events == ["started", "sharer still running", "stopped", "owner done"]
    assert "sharing the reference stack of another run (pid" in console.file.getvalue()  # type: ignore[attr-defined]
