"""Chaos on the reference stack run as plain processes (no Docker): signals, then a restart.

Targets are the pids in the stack's ``stack.json`` (``processes.<service>.pid``). Pausing is
SIGSTOP/SIGCONT. Killing or stopping a service takes a snapshot of its command line, working
directory and environment first, so the revert can start it again exactly as it was, with its
output appended to the same log; the new pid is written back to ``stack.json`` (and ``pids/<service>.pid``)
so ``stagegate stack down`` and later steps find it. Secret values are never journaled: the snapshot keeps the
names of the secret variables and the revert reads their values from the stack's ``secrets.env``.
A process that leads its own process group is signalled as a group (its workers too).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dotenv import dotenv_values

from scenarios.chaos import proc_state as _proc
from scenarios.chaos.actions import actions_of
from scenarios.chaos.backends.base import ChaosActionFailed, Fault
from scenarios.chaos.plan import ChaosStep
from scenarios.scenario_errors import TargetNotAllowed
from scenarios.target.profiles import Profile

_SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSWORD|API_KEY|_KEY$", re.IGNORECASE)
"""Environment variables kept out of the journal even when ``secrets.env`` does not list them."""

EXIT_WAIT_S = 10.0
"""How long a SIGKILLed process may take to disappear before the action counts as failed."""


class ProcessBackend:
    """Signals to the reference stack's processes, found through its ``stack.json``."""

    name = "process"
    actions = actions_of("process")

    def __init__(self, profile: Profile | None = None, state_dir: Path | None = None) -> None:
        self.profile = profile
        self.state_dir = state_dir

    def _state_file(self) -> Path:
        if self.state_dir is None:
            raise TargetNotAllowed("process backend: no stack state directory (start one with: stagegate stack up)")
        return self.state_dir / "stack.json"

    def _entry(self, service: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """(process name, its stack.json entry, the whole state) for a profile service."""
        if self.profile is not None and service == "gateway" and self.profile.gateway is not None:
            name = "gateway"  # nginx, under the name the launcher gives it
        elif self.profile is not None and service in self.profile.services:
            name = self.profile.services[service].process_name or service
        else:
            raise TargetNotAllowed(f"chaos target {service!r} is not a service of the profile")
        path = self._state_file()
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise TargetNotAllowed(f"process backend: no local reference stack ({path} not found); "
                                   "start one with: stagegate stack up") from None
        except (OSError, ValueError) as exc:
            raise TargetNotAllowed(f"process backend: cannot read {path} ({exc})") from None
        entry = state.get("processes", {}).get(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("pid"), int):
            raise TargetNotAllowed(f"chaos target {service!r}: no process {name!r} in {path}")
        local_url, target_url = state.get("services", {}).get(name), self.profile.targets().get(service)
        if local_url != target_url:
            raise TargetNotAllowed(f"chaos target {service!r} is {target_url}, not the local stack's {local_url}: "
                                   "the process backend acts only on the stack it targets (--target local)")
        return name, entry, state

    def describe_target(self, service: str) -> str:
        name, entry, _ = self._entry(service)
        return f"process {name} (pid {entry['pid']})"

    def prepare(self, step: ChaosStep) -> Fault:
        name, entry, state = self._entry(step.target)
        pid = int(entry["pid"])
        start = _proc.alive_start(pid)
        if start is None:
            raise ChaosActionFailed(f"{name} (pid {pid}) is not running")
        fault: Fault = {"action": step.action, "service": name, "pid": pid, "start": start,
                        "stop_timeout_s": step.stop_timeout_s}
        if step.action != "pause":
            fault.update(self._snapshot(pid, name, state))
        return fault

    def _snapshot(self, pid: int, name: str, state: dict[str, Any]) -> Fault:
        """What it takes to start the process again, secret values left out."""
        env_file = state.get("env_file")
        secret_names = set(dotenv_values(env_file)) if env_file and Path(env_file).exists() else set()
        env = _proc.environ(pid)
        kept = {k: v for k, v in env.items() if k not in secret_names and not _SECRET_NAME.search(k)}
        log_dir = state.get("log_dir")
        return {
            "cmdline": _proc.cmdline(pid), "cwd": _proc.cwd(pid), "env": kept,
            "secret_names": sorted(set(env) - set(kept)), "env_file": env_file,
            "log_path": str(Path(log_dir) / f"{name}.log") if log_dir else None,
            "state_file": str(self._state_file().resolve()),
        }

    def apply(self, fault: Fault) -> None:
        _PROCESS[fault["action"]][0](fault)

    def revert(self, fault: Fault) -> str:
        return _PROCESS[fault["action"]][1](fault)


def _pause(fault: Fault) -> None:
    _signal(fault, signal.SIGSTOP)
    _wait_for(lambda: _proc.is_stopped(fault["pid"]), EXIT_WAIT_S, f"{fault['service']} did not stop")


def _resume(fault: Fault) -> str:
    label = f"{fault['service']} (pid {fault['pid']})"
    same = _proc.alive_start(fault["pid"]) == fault["start"]
    if same and _proc.is_stopped(fault["pid"]):
        _signal(fault, signal.SIGCONT)
        return f"resumed {label}"
    return f"{label} was not stopped" if same else f"{label} is gone; nothing to resume"


def _kill(fault: Fault) -> None:
    _signal(fault, signal.SIGKILL)
    _wait_gone(fault, EXIT_WAIT_S)


def _stop(fault: Fault) -> None:
    _signal(fault, signal.SIGTERM)
    if not _wait_gone(fault, fault["stop_timeout_s"], fail=False):
        _signal(fault, signal.SIGKILL)
        _wait_gone(fault, EXIT_WAIT_S)


def _restart(fault: Fault) -> None:
    _stop(fault)
    _respawn(fault)


def _start_again(fault: Fault) -> str:
    label = f"{fault['service']} (pid {fault['pid']})"
    if _proc.alive_start(fault["pid"]) == fault["start"]:
        return f"{label} still runs"
    current = _current_pid(fault)
    if current is not None:
        return f"{fault['service']} already runs (pid {current})"
    return f"started {fault['service']} again (pid {_respawn(fault)})"


def _signal(fault: Fault, sig: signal.Signals) -> None:
    pid = fault["pid"]
    if _proc.alive_start(pid) != fault["start"]:
        raise ChaosActionFailed(f"{fault['service']} (pid {pid}) is not the process it was")
    try:
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        raise ChaosActionFailed(f"{fault['service']} (pid {pid}) is gone") from None


def _wait_for(condition: Callable[[], bool], timeout_s: float, failure: str | None) -> bool:
    """Poll ``condition`` (signals act asynchronously); raise ``failure`` or return False on timeout."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            if failure is not None:
                raise ChaosActionFailed(f"{failure} in {timeout_s:g} s")
            return False
        time.sleep(0.02)
    return True


def _wait_gone(fault: Fault, timeout_s: float, *, fail: bool = True) -> bool:
    failure = f"{fault['service']} (pid {fault['pid']}) did not exit" if fail else None
    return _wait_for(lambda: _proc.alive_start(fault["pid"]) != fault["start"], timeout_s, failure)


def _current_pid(fault: Fault) -> int | None:
    """The pid ``stack.json`` now names for the service, when that process is alive."""
    try:
        state = json.loads(Path(fault["state_file"]).read_text(encoding="utf-8"))
        pid = int(state["processes"][fault["service"]]["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return pid if pid != fault["pid"] and _proc.alive_start(pid) is not None else None


def _respawn(fault: Fault) -> int:
    """Start the snapshot again, detached, and record its pid in ``stack.json``."""
    env = dict(fault["env"])
    if fault["secret_names"]:
        secrets = dotenv_values(fault["env_file"]) if fault["env_file"] else {}
        env.update({k: v for k in fault["secret_names"] if (v := secrets.get(k) or os.environ.get(k))})
    log = open(fault["log_path"], "ab") if fault["log_path"] else subprocess.DEVNULL  # noqa: SIM115
    try:
        child = subprocess.Popen(
            fault["cmdline"], cwd=fault["cwd"], env=env, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    except OSError as exc:
        raise ChaosActionFailed(f"cannot start {fault['service']} again ({exc.strerror})") from None
    finally:
        if log is not subprocess.DEVNULL:
            log.close()  # type: ignore[union-attr]
    _record_pid(Path(fault["state_file"]), fault["service"], child.pid)
    return child.pid


def _record_pid(state_file: Path, service: str, pid: int) -> None:
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # the stack was taken down meanwhile: nothing to update
    state.setdefault("processes", {}).setdefault(service, {})["pid"] = pid
    temporary = state_file.with_suffix(".json.chaos-tmp")
    temporary.write_text(json.dumps(state, indent=2), encoding="utf-8")
    temporary.replace(state_file)
    pid_file = state_file.parent / "pids" / f"{service}.pid"
    if pid_file.exists():
        pid_file.write_text(f"{pid}\n", encoding="utf-8")


_PROCESS: dict[str, tuple[Callable[[Fault], None], Callable[[Fault], str]]] = {
    "pause": (_pause, _resume),
    "kill": (_kill, _start_again),
    "stop": (_stop, _start_again),
    "restart": (_restart, _start_again),
}
"""Every action this backend carries (``actions_of("process")``): (apply, revert). All but ``pause``
snapshot the process first, so that the revert can start it again."""
