"""``/proc/<pid>/stat`` read once, for everyone who asks about a local process (chaos, the local stack).

Linux only. The command name (field 2) is in parentheses and may hold spaces or parentheses, so the
fields are split after its last ``)``: the list starts at field 3, the state letter (``R``, ``S``,
``T`` stopped, ``Z`` zombie, ``X`` dead); field N of proc(5) is ``fields[N - 3]``.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from pathlib import Path
from typing import cast

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


PR_SET_PDEATHSIG = 1


def prctl_function() -> Callable[..., int] | None:
    """libc's ``prctl`` (None where there is none); look it up before a fork, call it after."""
    try:
        return cast("Callable[..., int]", ctypes.CDLL(None, use_errno=True).prctl)
    except (OSError, AttributeError):
        return None


def die_with(parent: int, sig: int, prctl: Callable[..., int] | None = None) -> None:
    """Ask the kernel to send ``sig`` to this process when ``parent`` (the thread that started it) ends,
    even by SIGKILL (``PR_SET_PDEATHSIG``); signal itself at once if it has already ended. Linux only.
    Called between fork and exec (``preexec_fn``) with ``prctl`` looked up before the fork."""
    prctl = prctl or prctl_function()
    if prctl is None:
        return
    prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    if os.getppid() != parent:
        os.kill(os.getpid(), sig)
