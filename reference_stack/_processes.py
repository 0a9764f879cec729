"""Starting and stopping the stack's OS processes, each in its own process group.

A pid from ``stack.json`` is only signalled when ``/proc/<pid>/cmdline`` still names the stack's
state directory, so a pid reused by an unrelated process after a reboot is never touched.
"""

from __future__ import annotations

import functools
import os
import pwd
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from stagegate_core.procstat import PGRP, STATE, die_with, prctl_function, stat_fields

STOP_GRACE_S = 5.0


DIE_WITH_ENV = "STAGEGATE_DIE_WITH"
"""``<parent pid>:<signal>`` in a service's environment: it re-arms its parent-death signal after it
drops privileges (the kernel clears it when the credentials change)."""


def rearm_die_with() -> None:
    """Called by a service after it changed user: arm again the parent-death signal it was started with."""
    parent, _, sig = os.environ.get(DIE_WITH_ENV, "").partition(":")
    if parent.isdigit() and sig.isdigit():
        die_with(int(parent), int(sig))


def spawn(command: Sequence[str], *, env: Mapping[str, str], output: Path, cwd: Path,
          death_signal: int | None = None) -> subprocess.Popen[bytes]:
    """Start ``command`` in a new session (its own process group), stdout and stderr to ``output``.

    With ``death_signal``, the process gets that signal when the calling thread ends, even by SIGKILL
    (``PR_SET_PDEATHSIG``), so a stack started by a run does not outlive it.
    """
    env = dict(env)
    preexec = None
    if death_signal is not None:
        parent = os.getpid()
        env[DIE_WITH_ENV] = f"{parent}:{int(death_signal)}"
        preexec = functools.partial(die_with, parent, int(death_signal), prctl_function())
    with output.open("ab") as out:
        return subprocess.Popen(
            list(command), env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=cwd, start_new_session=True,
            preexec_fn=preexec,  # noqa: PLW1509 (one foreign call, looked up before the fork)
        )


def _stat(pid: int | str) -> tuple[str, int] | None:
    """(state letter, process group) of ``pid`` from ``/proc``, or None when it cannot be read."""
    fields = stat_fields(pid)
    return (fields[STATE], int(fields[PGRP])) if fields is not None else None


def _running(state: str) -> bool:
    return state not in ("Z", "X")


def _exists(probe: Callable[[int, int], None], target: int) -> bool:
    """Signal 0 through ``probe`` (``os.kill`` or ``os.killpg``): is ``target`` there at all?"""
    try:
        probe(target, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, but someone else's
        return True
    return True


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    if not _exists(os.kill, pid):
        return False
    found = _stat(pid)
    return found is None or _running(found[0])


def process_user(pid: int) -> str | None:
    """The name of the user ``pid`` runs as (None when it is gone or /proc cannot tell)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
        uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[2])
        return pwd.getpwuid(uid).pw_name
    except (OSError, StopIteration, ValueError, IndexError, KeyError):
        return None


def belongs_to(pid: int, marker: str) -> bool:
    """Whether the live process ``pid`` was started for the state directory ``marker``."""
    if not alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return True  # no /proc: trust the pid file
    return marker in cmdline


def stop_group(pid: int, *, grace_s: float = STOP_GRACE_S, child: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM the process group led by ``pid``; SIGKILL it if anything is left after ``grace_s``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        if _wait_gone(pid, grace_s, child):
            break
    if child is not None:
        child.wait(timeout=grace_s)


def _wait_gone(pgid: int, timeout_s: float, child: subprocess.Popen[bytes] | None) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child is not None:
            child.poll()  # reap our own child so it does not linger as a zombie
        if not _group_alive(pgid):
            return True
        time.sleep(0.05)
    return False


def _group_alive(pgid: int) -> bool:
    return _exists(os.killpg, pgid) and _has_live_member(pgid)


def _has_live_member(pgid: int) -> bool:
    """killpg(0) succeeds while zombies remain; look for a non-zombie member in /proc."""
    proc = Path("/proc")
    if not proc.exists():
        return True
    for entry in proc.iterdir():
        found = _stat(entry.name) if entry.name.isdigit() else None
        if found is not None and found[1] == pgid and _running(found[0]):
            return True
    return False
