"""Chaos test plumbing: tiny real HTTP services in their own processes, laid out like the stack.

``fake_stack`` starts real ``python`` processes serving ``GET /health`` on loopback, each in its
own session as the reference stack's launcher starts them, and writes a ``stack.json`` naming
their pids. Signals, restarts and health probes then act on real processes and real sockets.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from reference_stack.docker import DockerStack
from scenarios.chaos.proc_state import alive_start
from scenarios.target.profiles import Profile, load_profile
from tests.conftest import REPO, docker_available, free_port, require, require_binary

HEALTH_SERVER = """
import http.server, sys
class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Health).serve_forever()
"""


@dataclass
class FakeStack:
    state_dir: Path
    services: dict[str, str]

    def pid(self, service: str) -> int:
        state = json.loads((self.state_dir / "stack.json").read_text())
        return int(state["processes"][service]["pid"])

    def profile(self) -> Profile:
        return load_profile("checklist-v0.10.0").with_targets(self.services).without_gateway()


def answers(url: str) -> bool:
    try:
        return httpx.get(url + "/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _stop(pid: int) -> None:
    for sig in (signal.SIGCONT, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return


@pytest.fixture
def fake_stack(tmp_path: Path) -> Iterator[FakeStack]:
    """negocio and deposito as real processes with a ``stack.json``, as ``stagegate stack up`` leaves them."""
    state_dir = tmp_path / "stack"
    (state_dir / "logs").mkdir(parents=True)
    env_file = state_dir / "secrets.env"
    env_file.write_text("STAGEGATE_ADMIN_TOKEN=not-a-real-token\n")
    env_file.chmod(0o600)
    services, processes = {}, {}
    for name in ("deposito", "negocio"):
        port = free_port()
        child = subprocess.Popen([sys.executable, "-c", HEALTH_SERVER, str(port)], start_new_session=True,
                                 env={**os.environ, "STAGEGATE_ADMIN_TOKEN": "not-a-real-token"})
        services[name] = f"http://127.0.0.1:{port}"
        processes[name] = {"pid": child.pid, "port": port}
    (state_dir / "stack.json").write_text(json.dumps({
        "contract": "intended", "services": services, "processes": processes, "env_file": str(env_file),
        "log_dir": str(state_dir / "logs"), "started_at": time.time(),
    }))
    for url in services.values():
        wait_until(lambda url=url: answers(url), 10)
    stack = FakeStack(state_dir, services)
    started = [p["pid"] for p in processes.values()]
    try:
        yield stack
    finally:
        for pid in {*started, *(stack.pid(name) for name in services)}:
            _stop(pid)


def write_plan(directory: Path, text: str, name: str = "plan.toml") -> Path:
    path = directory / name
    path.write_text(text)
    return path


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.05)


def start_chaos_run(plan: str | Path, tmp_path: Path, *, backend: str, state_dir: Path,
                    profile: Path | None = None) -> subprocess.Popen[str]:
    """``stagegate chaos run`` as a child process, journal and stream under ``tmp_path``."""
    return subprocess.Popen(
        [sys.executable, "-m", "stagegate", "chaos", "run", str(plan), "--target", "local", "--backend", backend,
         *(["--profile", str(profile)] if profile else []), "--allow-chaos",
         "--journal", str(tmp_path / "journal.jsonl"), "--out", str(tmp_path / "out")],
        env={**os.environ, "STAGEGATE_STATE_DIR": str(state_dir)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )


def stagegate(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
              timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "stagegate", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, cwd=cwd, check=False)


@dataclass
class ContainerStack:
    """The reference stack in containers for this test module, and a profile naming its containers."""

    stack: DockerStack
    profile_path: Path

    def container(self, service: str) -> Any:
        return docker.from_env().containers.get(self.stack.containers[service])


def _remove_stale_test_containers() -> None:
    """Containers and networks of an earlier test session that was killed before its teardown."""
    client = docker.from_env()
    for container in client.containers.list(all=True, filters={"label": "org.stagegate.state-dir"}):
        owner = re.search(r"-sgt(\d+)$", container.name)
        if owner and alive_start(int(owner.group(1))) is None:
            container.remove(force=True)
    for network in client.networks.list(filters={"label": "org.stagegate.state-dir"}):
        owner = re.search(r"-sgt(\d+)$", network.name)
        if owner and alive_start(int(owner.group(1))) is None:
            network.remove()


@pytest.fixture(scope="module")
def container_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContainerStack]:
    """Build the images (once per recipe, cached by content hash) and run the four services.

    Container names carry a per-session suffix so a real deployment on this machine is never touched;
    the profile written next to the stack names those containers, as a user's profile would.
    """
    require(docker_available(), "a running Docker daemon")
    require_binary("debootstrap")
    from reference_stack.docker import SERVICE_IMAGES, running_docker_stack

    _remove_stale_test_containers()
    directory = tmp_path_factory.mktemp("containers")
    suffix = f"-sgt{os.getpid()}"
    ports = {name: 0 for name in [image.service for image in SERVICE_IMAGES] + ["gateway"]}
    with running_docker_stack(directory / "stack", ports=ports, suffix=suffix) as stack:
        text = (REPO / "scenarios/target/profiles/checklist-v0.10.0.toml").read_text(encoding="utf-8")
        for container in [image.container for image in SERVICE_IMAGES] + ["retail_nginx"]:
            text = text.replace(f'container = "{container}"', f'container = "{container}{suffix}"')
        profile_path = directory / "containers.toml"
        profile_path.write_text(text, encoding="utf-8")
        yield ContainerStack(stack, profile_path)
