"""A stack started by a run is tied to it: it dies with it (even on SIGKILL), and the next start
reclaims what an owner that is gone left; a container stack is never started over."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from reference_stack import StackAlreadyRunning, running_stack, start_stack, stop_stack
from reference_stack._launcher import StackOptions
from reference_stack._processes import alive, process_user
from stagegate import gate
from tests.conftest import REPO

OWNER = """
import sys, time
from pathlib import Path
from reference_stack import running_stack
with running_stack(Path(sys.argv[1]), gateway=False, services=("deposito", "negocio"), run_as="auto",
                   owned=True) as stack:
    print(" ".join(str(p.pid) for p in stack.info.processes.values()), flush=True)
    time.sleep(120)
"""


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # Outside pytest's 0700 tmp folder, so that under root the services drop to nobody (and must
    # arm their parent-death signal again after the change of user).
    with tempfile.TemporaryDirectory(prefix="stagegate-lease-") as directory:
        os.chmod(directory, 0o755)
        yield Path(directory) / "stack"


def _gone(pids: list[int], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False


def test_the_services_of_a_stack_a_run_started_die_when_it_is_sigkilled(state_dir: Path) -> None:
    owner = subprocess.Popen([sys.executable, "-c", OWNER, str(state_dir)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    assert owner.stdout is not None
    pids = [int(pid) for pid in owner.stdout.readline().split()]
    assert len(pids) == 2 and all(alive(pid) for pid in pids)
    if os.geteuid() == 0:
        assert {process_user(pid) for pid in pids} == {"nobody"}
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    assert _gone(pids, 5), "a service outlived the run that started it"
    info = json.loads((state_dir / "stack.json").read_text())
    assert info["owner"]["pid"] == owner.pid
    with running_stack(state_dir, gateway=False, services=("deposito",)) as again:  # the next start is clean
        assert "owner" not in json.loads((again.state_dir / "stack.json").read_text())


def test_the_next_start_reclaims_a_stack_whose_owner_is_gone(state_dir: Path) -> None:
    info, children = start_stack(state_dir, StackOptions(ports={"deposito": 0}, services=("deposito",), gateway=False))
    old = info.processes["deposito"].pid
    try:
        with pytest.raises(StackAlreadyRunning):  # a stack `stack up` started (no owner) is never taken over
            start_stack(state_dir, StackOptions(ports={"deposito": 0}, services=("deposito",), gateway=False))
        state = json.loads((state_dir / "stack.json").read_text())
        state["owner"] = {"pid": 2**22 + 7, "start": 1}  # a run that is gone
        (state_dir / "stack.json").write_text(json.dumps(state))
        console = Console(file=io.StringIO(), width=300)
        assert gate._existing_stack(state_dir, console, adopt=True) is not None  # --reuse-stack keeps it
        assert gate._existing_stack(state_dir, console, adopt=False) is None
        assert "started by a run that is gone" in console.file.getvalue()  # type: ignore[attr-defined]
        new_info, new_children = start_stack(
            state_dir, StackOptions(ports={"deposito": 0}, services=("deposito",), gateway=False))
        assert _gone([old], 5) and new_info.processes["deposito"].pid != old
        stop_stack(state_dir, new_children)
    finally:
        for child in children.values():
            child.kill()
            child.wait()


def test_a_container_stack_is_used_and_never_started_over(state_dir: Path) -> None:
    state_dir.mkdir(parents=True)
    (state_dir / "stack.json").write_text(json.dumps({
        "contract": "intended", "catalogue": "fixture", "runtime": "docker",
        "services": {"deposito": "http://127.0.0.1:18001"}, "containers": {"deposito": "sg_deposito"},
        "network": "sg", "processes": {}, "env_file": str(state_dir / "secrets.env"),
        "log_dir": str(state_dir / "logs"), "started_at": 1.0,
    }))
    found = gate._existing_stack(state_dir, Console(file=io.StringIO()), adopt=False)
    assert found is not None and found.startswith("using the container stack already running")
    with pytest.raises(StackAlreadyRunning, match="container stack"):
        start_stack(state_dir, StackOptions(services=("deposito",), gateway=False))
    assert json.loads((state_dir / "stack.json").read_text())["runtime"] == "docker"
