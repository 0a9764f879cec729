"""Chaos on containers through the Docker SDK, named by the profile (``services.<name>.container``).

Network faults act inside the container's network namespace, entered from the host with
``nsenter --net``: ``iptables`` DROP rules tagged ``stagegate-chaos`` for a blackhole, a ``tc tbf``
qdisc on ``eth0`` for a bandwidth cap (this kernel has no netem, so no added latency here; use an
``app_fault`` latency switch instead). Resource faults use ``container.update`` and restore the
limits read from the container just before.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import docker  # type: ignore[import-untyped]
from docker.errors import APIError, DockerException, NotFound  # type: ignore[import-untyped]
from docker.models.containers import Container  # type: ignore[import-untyped]

from scenarios.chaos.actions import actions_of
from scenarios.chaos.backends.base import ChaosActionFailed, Fault
from scenarios.chaos.plan import ChaosStep
from scenarios.scenario_errors import TargetNotAllowed
from scenarios.target.profiles import Profile

RULE_TAG = "stagegate-chaos"
CPU_PERIOD_US = 100_000
TBF_BURST = "32kbit"
TBF_LATENCY = "400ms"
START_WAIT_S = 30.0


class DockerBackend:
    """Pause, kill, stop, restart, throttle, cap memory, blackhole or slow a container."""

    name = "docker"
    actions = actions_of("docker")

    def __init__(self, profile: Profile | None = None) -> None:
        self.profile = profile
        self._client: docker.DockerClient | None = None

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            try:
                self._client = docker.from_env()
                self._client.ping()
            except DockerException as exc:
                raise ChaosActionFailed(f"Docker daemon unreachable ({exc})") from None
        return self._client

    def container_name(self, service: str) -> str:
        """The profile's container for ``service`` (``gateway`` included)."""
        spec: Any = None
        if self.profile is not None:
            spec = self.profile.gateway if service == "gateway" else self.profile.services.get(service)
        if spec is None:
            raise TargetNotAllowed(f"chaos target {service!r} is not a service of the profile")
        if not spec.container:
            raise TargetNotAllowed(f"chaos target {service!r}: the profile names no container for it")
        return str(spec.container)

    def describe_target(self, service: str) -> str:
        return f"container {self.container_name(service)}"

    def _container(self, name: str) -> Container:
        try:
            return self.client.containers.get(name)
        except NotFound:
            raise ChaosActionFailed(f"container {name} does not exist") from None

    def prepare(self, step: ChaosStep) -> Fault:
        name = self.container_name(step.target)
        host = self._container(name).attrs["HostConfig"]
        fault: Fault = {"action": step.action, "container": name, "stop_timeout_s": step.stop_timeout_s}
        snapshot = _DOCKER[step.action].snapshot
        if snapshot is not None:
            fault.update(snapshot(step, host))
        return fault

    def apply(self, fault: Fault) -> None:
        container = self._container(fault["container"])
        try:
            _DOCKER[fault["action"]].apply(container, fault)
        except APIError as exc:
            raise ChaosActionFailed(f"{fault['action']} on {fault['container']}: {exc.explanation or exc}") from None

    def revert(self, fault: Fault) -> str:
        try:
            container = self.client.containers.get(fault["container"])
        except NotFound:
            return f"container {fault['container']} is gone; nothing to revert"
        try:
            return _DOCKER[fault["action"]].revert(container, fault)
        except APIError as exc:
            raise ChaosActionFailed(f"revert {fault['action']} on {fault['container']}: {exc.explanation or exc}") from None


def _in_netns(container: Container, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a host binary (iptables, tc) inside the container's network namespace."""
    container.reload()
    pid = container.attrs["State"]["Pid"]
    if not pid:
        raise ChaosActionFailed(f"container {container.name} is not running")
    done = subprocess.run(["nsenter", f"--net=/proc/{pid}/ns/net", *command],
                          capture_output=True, text=True, timeout=20, check=False)
    if check and done.returncode != 0:
        raise ChaosActionFailed(f"{' '.join(command[:2])} in {container.name}: {done.stderr.strip()}")
    return done


def _ensure_running(container: Container) -> str:
    container.reload()
    if container.status == "paused":
        container.unpause()
    if container.status in ("running", "paused"):
        return f"{container.name} runs"
    container.start()
    deadline = time.monotonic() + START_WAIT_S
    while container.status != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
        container.reload()
    return f"started {container.name} again"


def _unpause(container: Container, fault: Fault) -> str:
    container.reload()
    if container.status != "paused":
        return f"{container.name} was not paused"
    container.unpause()
    return f"unpaused {container.name}"


def _restore_cpu(container: Container, fault: Fault) -> str:
    # a quota of -1 lifts the cap; Docker reads 0 as "leave unchanged"
    container.update(cpu_period=fault["original_cpu_period"] or CPU_PERIOD_US,
                     cpu_quota=fault["original_cpu_quota"] or -1)
    return f"restored the CPU quota of {container.name}"


def _restore_memory(container: Container, fault: Fault) -> str:
    original, swap = fault["original_memory"], fault["original_memory_swap"]
    # Docker cannot lift a memory cap once set, so "no cap" comes back as a cap nothing reaches
    container.update(mem_limit=original or _UNCAPPED_MEMORY, memswap_limit=swap if original else _UNCAPPED_MEMORY)
    detail = f"restored the memory limit of {container.name}"
    container.reload()
    if container.attrs["State"].get("OOMKilled") or container.status != "running":
        detail += f"; {_ensure_running(container)} after an OOM kill"
    return detail


def _drop_rules(container: Container, fault: Fault) -> str:
    container.reload()
    if container.status != "running":
        return f"{container.name} is not running; its namespace and rules are gone"
    removed = 0
    for chain in ("INPUT", "OUTPUT"):
        rule = [chain, "-m", "comment", "--comment", RULE_TAG, "-j", "DROP"]
        while _in_netns(container, "iptables", "-w", "-D", *rule, check=False).returncode == 0:
            removed += 1
    return f"removed {removed} DROP rules from {container.name}"


def _blackhole(container: Container, fault: Fault) -> None:
    for chain in ("INPUT", "OUTPUT"):
        _in_netns(container, "iptables", "-w", "-I", chain, "1", "-m", "comment", "--comment", RULE_TAG, "-j", "DROP")


def _unshape(container: Container, fault: Fault) -> str:
    container.reload()
    if container.status != "running":
        return f"{container.name} is not running; its qdisc is gone"
    done = _in_netns(container, "tc", "qdisc", "del", "dev", "eth0", "root", check=False)
    return f"removed the bandwidth cap of {container.name}" if done.returncode == 0 else f"{container.name} had no cap"


_UNCAPPED_MEMORY = 1 << 50

def _cpu_snapshot(step: ChaosStep, host: dict[str, Any]) -> Fault:
    assert step.cpu_fraction is not None
    return {"cpu_quota": int(step.cpu_fraction * CPU_PERIOD_US),
            "original_cpu_quota": host.get("CpuQuota") or 0, "original_cpu_period": host.get("CpuPeriod") or 0}


def _memory_snapshot(step: ChaosStep, host: dict[str, Any]) -> Fault:
    assert step.memory_mb is not None
    return {"memory_bytes": step.memory_mb * 1024 * 1024,
            "original_memory": host.get("Memory") or 0, "original_memory_swap": host.get("MemorySwap") or 0}


class _Implementation(NamedTuple):
    """How this backend carries one declared action (``_actions.py``)."""

    apply: Callable[[Container, Fault], object]
    revert: Callable[[Container, Fault], str]
    snapshot: Callable[[ChaosStep, dict[str, Any]], Fault] | None = None
    """What the fault needs from the step and the container's ``HostConfig`` before it acts."""


def _running_again(container: Container, fault: Fault) -> str:
    return _ensure_running(container)


_DOCKER: dict[str, _Implementation] = {
    "pause": _Implementation(lambda c, f: c.pause(), _unpause),
    "kill": _Implementation(lambda c, f: c.kill(), _running_again),
    "stop": _Implementation(lambda c, f: c.stop(timeout=int(f["stop_timeout_s"])), _running_again),
    "restart": _Implementation(lambda c, f: c.restart(timeout=int(f["stop_timeout_s"])), _running_again),
    "cpu": _Implementation(lambda c, f: c.update(cpu_period=CPU_PERIOD_US, cpu_quota=f["cpu_quota"]), _restore_cpu,
                           _cpu_snapshot),
    "memory": _Implementation(lambda c, f: c.update(mem_limit=f["memory_bytes"], memswap_limit=f["memory_bytes"]),
                              _restore_memory, _memory_snapshot),
    "blackhole": _Implementation(_blackhole, _drop_rules),
    "bandwidth": _Implementation(
        lambda c, f: _in_netns(c, "tc", "qdisc", "replace", "dev", "eth0", "root", "tbf", "rate", f"{f['rate_kbit']}kbit",
                               "burst", TBF_BURST, "latency", TBF_LATENCY),
        _unshape, lambda step, host: {"rate_kbit": step.rate_kbit}),
}
"""Every action this backend carries (``actions_of("docker")``), by id."""
