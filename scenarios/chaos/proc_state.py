"""Facts about local processes from ``/proc``: is a pid the same live process it was, is it stopped.

A pid alone is not an identity (pids are reused), so the journal keeps the pid with its start
time in clock ticks since boot (field 22 of ``/proc/<pid>/stat``), and a zombie counts as dead.
"""

from __future__ import annotations

from pathlib import Path

from stagegate_core.procstat import START_TIME, STATE, stat_fields


def alive_start(pid: int) -> int | None:
    """The start time of ``pid`` when it runs (stopped counts as running), None when gone or a zombie."""
    fields = stat_fields(pid)
    if fields is None or fields[STATE] in ("Z", "X"):
        return None
    return int(fields[START_TIME])


def is_stopped(pid: int) -> bool:
    """Whether ``pid`` is stopped by a signal (state T)."""
    fields = stat_fields(pid)
    return fields is not None and fields[STATE] == "T"


def cmdline(pid: int) -> list[str]:
    return [part.decode() for part in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if part]


def cwd(pid: int) -> str:
    return str(Path(f"/proc/{pid}/cwd").readlink())


def environ(pid: int) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
        name, sep, value = item.decode(errors="replace").partition("=")
        if sep:
            found[name] = value
    return found
