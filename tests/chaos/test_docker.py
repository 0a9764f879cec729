"""Chaos on real containers: the reference stack built without a registry and run by dockerd."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from analysis import load_results
from scenarios.chaos import ChaosPlan, ChaosStep, DockerBackend, Journal, injected
from scenarios.target.profiles import load_profile
from tests.chaos.conftest import ContainerStack, answers, stagegate, start_chaos_run, wait_until, write_plan
from tests.conftest import REPO

pytestmark = [pytest.mark.docker, pytest.mark.e2e]

RUN_S = 13

LONG = """name = "{name}"
[steady_state]
checks = ["negocio"]
recovery_timeout_s = 30
interval_s = 0.2
[[steps]]
id = "{action}_negocio"
at_s = 0
action = "{action}"
target = "negocio"
duration_s = 120
{extra}
"""


def _chaos_run(cs: ContainerStack, tmp_path: Path, plan: str | Path) -> subprocess.Popen[str]:
    return start_chaos_run(plan, tmp_path, backend="docker", state_dir=cs.stack.state_dir, profile=cs.profile_path)


def _status(cs: ContainerStack, service: str) -> str:
    return str(cs.container(service).status)


def test_r1_each_container_runs_as_its_non_root_user(docker_daemon: None, container_stack: ContainerStack) -> None:
    profile = load_profile(container_stack.profile_path)
    for service in ("deposito", "negocio", "ml", "dashboard"):
        container = container_stack.container(service)
        assert container.name == profile.services[service].container
        whoami = container.exec_run("whoami")
        uid = container.exec_run("id -u")
        assert (whoami.exit_code, whoami.output.decode().strip()) == (0, profile.services[service].user)
        assert uid.output.decode().strip() != "0"
        assert container.attrs["State"]["Health"]["Status"] in ("starting", "healthy")


def test_pause_negocio_during_a_short_locust_run(docker_daemon: None, container_stack: ContainerStack,
                                                 tmp_path: Path) -> None:
    results = tmp_path / "results"
    env = {**os.environ, "STAGEGATE_STATE_DIR": str(container_stack.stack.state_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("LOCUST_SKIP_MONKEY_PATCH", None)
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(REPO / "locustfiles/staging.py"), "--headless",
         "--run-time", f"{RUN_S}s", "--stop-timeout", "2", "--scenario", "smoke", "--users", "4",
         "--profile", str(container_stack.profile_path), "--target", "local", "--results-dir", str(results),
         "--chaos-plan", "pause-negocio-5s", "--allow-chaos"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert (results / "locust.jsonl").exists(), done.stdout[-3000:] + done.stderr[-3000:]
    assert _status(container_stack, "negocio") == "running"
    data = load_results(results)
    assert [e["phase"] for e in data.chaos] == ["start", "end", "recovered"], data.chaos
    start, end, recovered = data.chaos
    assert start["backend"] == "docker" and end["detail"] == f"unpaused {container_stack.stack.containers['negocio']}"
    assert 4.5 < end["t"] - start["t"] < 8
    assert recovered["recovery_s"] is not None and recovered["recovery_s"] < 30
    negocio = [h for h in data.health if h["check"] == "negocio"]
    down = [h["t"] for h in negocio if not h["ok"]]
    back = [h["t"] for h in negocio if h["ok"] and down and h["t"] > down[0]]
    assert down and back, negocio
    assert start["t"] - 1 < down[0] < end["t"] and back[0] > end["t"] - 1


def test_sigkill_while_paused_then_recover_unpauses(docker_daemon: None, container_stack: ContainerStack,
                                                    tmp_path: Path) -> None:
    harness = _chaos_run(container_stack, tmp_path, write_plan(tmp_path, LONG.format(name="long-pause", action="pause", extra="")))
    wait_until(lambda: _status(container_stack, "negocio") == "paused")
    harness.kill()
    harness.wait()
    assert _status(container_stack, "negocio") == "paused", "SIGKILL cannot revert: the pause must still hold"
    done = stagegate("chaos", "recover", "--journal", str(tmp_path / "journal.jsonl"))
    name = container_stack.stack.containers["negocio"]
    assert (done.returncode, done.stdout) == (
        0, f"reverted pause on negocio (docker, step pause_negocio) left by pid {harness.pid}: unpaused {name}\n")
    assert _status(container_stack, "negocio") == "running"
    assert Journal(tmp_path / "journal.jsonl").open_faults() == []


def test_sigterm_during_cpu_throttle_restores_the_quota(docker_daemon: None, container_stack: ContainerStack,
                                                        tmp_path: Path) -> None:
    container = container_stack.container("negocio")
    original = (container.attrs["HostConfig"]["CpuQuota"], container.attrs["HostConfig"]["CpuPeriod"])
    plan = write_plan(tmp_path, LONG.format(name="long-cpu", action="cpu", extra="cpu_fraction = 0.05"))
    harness = _chaos_run(container_stack, tmp_path, plan)

    def quota() -> int:
        container.reload()
        return int(container.attrs["HostConfig"]["CpuQuota"])

    wait_until(lambda: quota() == 5000)
    harness.send_signal(signal.SIGTERM)
    _, err = harness.communicate(timeout=60)
    assert harness.returncode == 130, err
    container.reload()
    restored = (container.attrs["HostConfig"]["CpuQuota"], container.attrs["HostConfig"]["CpuPeriod"])
    assert restored[0] in (original[0], -1) and restored[0] <= 0, f"quota still capped: {restored}"
    records = [json.loads(line) for line in (tmp_path / "out" / "chaos.jsonl").read_text().splitlines()]
    assert [r.get("phase", r["kind"]) for r in records] == ["run_header", "start", "end", "run_end"]
    assert records[2]["detail"] == f"restored the CPU quota of {container.name}"


def _step(action: str, extra: str = "") -> ChaosStep:
    text = LONG.format(name=f"one-{action}", action=action, extra=extra)
    if action == "restart":
        text = text.replace("duration_s = 120\n", "")
    return ChaosPlan.model_validate(tomllib.loads(text)).steps[0]


def _health_ok(cs: ContainerStack) -> bool:
    return answers(cs.stack.services["negocio"])


def _qdisc(container) -> str:
    pid = container.attrs["State"]["Pid"]
    return subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", "tc", "qdisc", "show", "dev", "eth0"],
                          capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize(("action", "extra"), [
    ("blackhole", ""), ("bandwidth", "rate_kbit = 128"), ("memory", "memory_mb = 1024"), ("kill", ""), ("stop", ""),
    ("restart", ""),
])
def test_each_docker_action_holds_and_reverts(docker_daemon: None, container_stack: ContainerStack, tmp_path: Path,
                                              action: str, extra: str) -> None:
    backend = DockerBackend(load_profile(container_stack.profile_path))
    journal = Journal(tmp_path / "journal.jsonl")
    container = container_stack.container("negocio")
    with injected(backend, journal, _step(action, extra)) as held:
        container.reload()
        if action == "blackhole":
            assert not _health_ok(container_stack)
        elif action == "bandwidth":
            assert "tbf" in _qdisc(container) and "rate 128Kbit" in _qdisc(container)
        elif action == "memory":
            assert container.attrs["HostConfig"]["Memory"] == 1024 * 1024 * 1024
        elif action in ("kill", "stop"):
            assert container.status == "exited" and not _health_ok(container_stack)
        else:
            assert container.status == "running"
    container.reload()
    assert container.status == "running" and journal.open_faults() == []
    wait_until(lambda: _health_ok(container_stack))
    if action == "bandwidth":
        assert "tbf" not in _qdisc(container)
    if action == "memory":
        assert container.attrs["HostConfig"]["Memory"] in (0, 1 << 50)
    assert held.reverted


def test_the_gateway_container_routes_to_the_services(docker_daemon: None, container_stack: ContainerStack) -> None:
    gateway = container_stack.stack.services["gateway"]
    health = httpx.get(gateway + "/health", timeout=5)
    assert (health.status_code, health.text, health.headers["X-Frame-Options"]) == (200, "healthy\n", "DENY")
    for service in ("deposito", "negocio", "ml"):
        answer = httpx.get(f"{gateway}/api/{service}/health", timeout=5)
        assert (answer.status_code, answer.json()["service"]) == (200, service)
    assert httpx.get(gateway + "/__admin/faults", timeout=5).status_code == 404
    assert container_stack.container("gateway").name == load_profile(container_stack.profile_path).gateway.container
