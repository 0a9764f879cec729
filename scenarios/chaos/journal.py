"""The chaos journal: every fault is written down before it acts, and closed once reverted.

A JSON-lines file, ``chaos-journal.jsonl`` in the stack's state directory (``$STAGEGATE_STATE_DIR``,
else ``.stagegate/stack``), made absolute when first used, so that every start and
``stagegate chaos recover`` find it whatever their current directory (``STAGEGATE_CHAOS_JOURNAL``
or ``--journal`` name another file)::

    {"op": "open", "id": "3f2a...", "t": 1764284400.1, "owner": {"pid": 4242, "start": 98123},
     "backend": "docker", "step_id": "pause_negocio", "action": "pause", "target": "negocio",
     "fault": {"container": "agente_negocio"}}
    {"op": "close", "id": "3f2a...", "t": 1764284405.2, "detail": "unpaused agente_negocio"}

An ``open`` line without its ``close`` is a fault that may still be in force: the run that wrote
it was killed (even with SIGKILL) before it could revert. ``recover`` reverts those, unless their
owner is still alive (a run in progress keeps its own faults). ``fault`` holds what the backend
needs to revert on its own, and never a secret (secret values are named, not copied).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from scenarios.chaos.proc_state import alive_start

JOURNAL_FILE = "chaos-journal.jsonl"


def default_journal_path(state_dir: Path | None = None) -> Path:
    """``STAGEGATE_CHAOS_JOURNAL``, else ``chaos-journal.jsonl`` in the state directory; always absolute."""
    named = os.environ.get("STAGEGATE_CHAOS_JOURNAL")
    if named:
        return Path(named).absolute()
    if state_dir is None:
        from scenarios.target.resolve import state_dir as default_state_dir

        state_dir = default_state_dir()
    return (state_dir / JOURNAL_FILE).absolute()


@dataclass(frozen=True)
class OpenFault:
    """A journal ``open`` line that has no ``close`` yet."""

    id: str
    t: float
    owner_pid: int
    owner_start: int | None
    backend: str
    step_id: str
    action: str
    target: str
    fault: dict[str, Any]

    def owner_alive(self) -> bool:
        """Whether the run that opened it still runs (same pid and same start time)."""
        return self.owner_start is not None and alive_start(self.owner_pid) == self.owner_start

    def describe(self) -> str:
        return f"{self.action} on {self.target} ({self.backend}, step {self.step_id})"


class Journal:
    """Appends ``open``/``close`` lines under an exclusive lock, fsynced before the fault acts."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = (path or default_journal_path()).absolute()

    @contextmanager
    def _locked(self, mode: str) -> Iterator[IO[str]]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, mode, encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield handle
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _append(self, entry: dict[str, Any]) -> None:
        with self._locked("a") as handle:
            handle.write(json.dumps(entry, separators=(",", ":")) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def open(self, *, backend: str, step_id: str, action: str, target: str, fault: dict[str, Any]) -> str:
        """Write the fault down (durably) and return its id; call before the fault acts."""
        entry_id = uuid.uuid4().hex
        pid = os.getpid()
        self._append({
            "op": "open", "id": entry_id, "t": time.time(),
            "owner": {"pid": pid, "start": alive_start(pid)},
            "backend": backend, "step_id": step_id, "action": action, "target": target, "fault": fault,
        })
        return entry_id

    def close(self, entry_id: str, detail: str) -> None:
        """Mark the fault reverted."""
        self._append({"op": "close", "id": entry_id, "t": time.time(), "detail": detail})

    def open_faults(self) -> list[OpenFault]:
        """Faults opened and never closed, oldest first; unreadable lines are skipped."""
        if not self.path.exists():
            return []
        opened: dict[str, OpenFault] = {}
        with self._locked("r") as handle:
            lines = handle.read().splitlines()
        for line in lines:
            try:
                entry = json.loads(line)
                if entry["op"] == "open":
                    owner = entry["owner"]
                    opened[entry["id"]] = OpenFault(
                        entry["id"], entry["t"], owner["pid"], owner["start"], entry["backend"],
                        entry["step_id"], entry["action"], entry["target"], entry["fault"],
                    )
                elif entry["op"] == "close":
                    opened.pop(entry["id"], None)
            except (ValueError, KeyError, TypeError):
                continue  # a line cut by a crash mid-write: its fault was never applied
        return list(opened.values())
