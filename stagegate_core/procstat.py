"""``/proc/<pid>/stat`` read once, for everyone who asks about a local process (chaos, the local stack).

Linux only. The command name (field 2) is in parentheses and may hold spaces or parentheses, so the
fields are split after its last ``)``: the list starts at field 3, the state letter (``R``, ``S``,
``T`` stopped, ``Z`` zombie, ``X`` dead); field N of proc(5) is ``fields[N - 3]``.
"""

from __future__ import annotations

from pathlib import Path

STATE, PGRP, START_TIME = 0, 2, 19
"""Indexes into ``stat_fields``: the state letter, the process group, the start time in clock ticks
since boot (fields 3, 5 and 22 of proc(5))."""


def stat_fields(pid: int | str) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` from the state on, or None when the process cannot be read."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    _, paren, rest = text.rpartition(")")
    fields = rest.split()
    return fields if paren and len(fields) > START_TIME else None
