"""One run at a time on a state directory: ``run.lock`` and ``users.lock``, held with ``flock``.

``<state dir>/run.lock``: a ``stagegate run``/``capacity`` with ``--target local`` holds it
exclusively from before it looks at the stack until after it stopped the stack it started. The
file holds one line naming the holder (``pid 4242 since 2026-12-05T14:13:06Z: stagegate run ...``),
which a run that finds it busy prints. ``<state dir>/users.lock``: a run with ``--reuse-stack``
holds it shared while it uses the stack of the run holding ``run.lock``; that run takes it
exclusively before it stops its stack, so it waits for them. Both are released by the kernel
when their holder dies, even by SIGKILL: a lock is never stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from stagegate_core.errors import StagegateError

RUN_LOCK = "run.lock"
USERS_LOCK = "users.lock"
POLL_S = 0.2


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


def _try(fd: int, operation: int) -> bool:
    try:
        fcntl.flock(fd, operation | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def holder(state_dir: Path) -> str:
    """The line the holder of ``run.lock`` wrote (``unknown holder`` when it wrote none yet)."""
    try:
        text = (state_dir / RUN_LOCK).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        text = ""
    return text.splitlines()[0] if text else "unknown holder"


def _describe_self() -> str:
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    command = " ".join(["stagegate", *sys.argv[1:]])
    return f"pid {os.getpid()} since {since}: {command[:200]}"


@contextlib.contextmanager
def exclusive(state_dir: Path, *, wait_s: float = 0.0) -> Iterator[None]:
    """Hold ``run.lock`` for the block, waiting at most ``wait_s``; ``StagegateError`` (exit 2) naming the holder."""
    fd = _open(state_dir / RUN_LOCK)
    try:
        deadline = time.monotonic() + wait_s
        while not _try(fd, fcntl.LOCK_EX):
            if time.monotonic() >= deadline:
                waited = f" after waiting {wait_s:g} s" if wait_s else ""
                raise StagegateError(
                    f"state directory {state_dir} is in use by another run{waited} ({holder(state_dir)}); "
                    "wait for it (--lock-wait SECONDS), share its stack (--reuse-stack), or use another "
                    "STAGEGATE_STATE_DIR")
            time.sleep(POLL_S)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (_describe_self() + "\n").encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def busy(state_dir: Path) -> bool:
    """Whether another process holds ``run.lock`` right now."""
    fd = _open(state_dir / RUN_LOCK)
    try:
        return not _try(fd, fcntl.LOCK_SH)
    finally:
        os.close(fd)


def refuse_while_a_run_holds(state_dir: Path, what: str) -> None:
    """``StagegateError`` (exit 2) naming the holder when a run holds ``state_dir``: ``stack up`` and
    ``stack down`` must not start a second stack under it, or stop its stack while it runs."""
    if state_dir.is_dir() and busy(state_dir):
        raise StagegateError(f"{what}: state directory {state_dir} is in use by a run ({holder(state_dir)}); "
                             "wait for it to end, or stop it first")


@contextlib.contextmanager
def sharing(state_dir: Path) -> Iterator[None]:
    """Hold ``users.lock`` shared for the block: the run that owns the stack does not stop it meanwhile."""
    fd = _open(state_dir / USERS_LOCK)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def alone(state_dir: Path, on_wait: Callable[[], object] | None = None) -> int:
    """Take ``users.lock`` exclusively, first waiting for every run sharing the stack to end; return the
    descriptor to close once the stack is stopped (so no run starts sharing it meanwhile)."""
    fd = _open(state_dir / USERS_LOCK)
    if not _try(fd, fcntl.LOCK_EX):
        if on_wait is not None:
            on_wait()
        fcntl.flock(fd, fcntl.LOCK_EX)
    return fd
