"""Reverting what an earlier run left behind, from the journal alone.

Called by ``stagegate chaos recover`` and at the start of every chaos run. A fault whose run is
still alive is left alone (that run will revert it); every other open fault is reverted by a
fresh backend of its kind and closed in the journal. Reverts are idempotent, so a fault that
was journaled but never applied (a crash in between) is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scenarios.chaos.backends.app import AppBackend
from scenarios.chaos.backends.base import ChaosActionFailed, ChaosBackend
from scenarios.chaos.backends.docker import DockerBackend
from scenarios.chaos.backends.process import ProcessBackend
from scenarios.chaos.journal import Journal, OpenFault

_BACKENDS: dict[str, type[ChaosBackend]] = {"docker": DockerBackend, "process": ProcessBackend, "app": AppBackend}


@dataclass(frozen=True)
class RecoveryNote:
    """What recovery did with one open fault of the journal."""

    entry: OpenFault
    outcome: Literal["reverted", "kept", "failed"]
    """``kept``: its run is still alive and will revert it; ``failed``: the revert raised."""
    detail: str

    @property
    def reverted(self) -> bool:
        return self.outcome == "reverted"

    def __str__(self) -> str:
        return self.detail


def recover(journal: Journal) -> list[RecoveryNote]:
    """Revert every open fault of a dead run; one note per open fault saying what was done."""
    notes = []
    for entry in journal.open_faults():
        what = f"{entry.describe()} left by pid {entry.owner_pid}"
        if entry.owner_alive():
            notes.append(RecoveryNote(entry, "kept", f"kept {what}: that run is still going"))
            continue
        backend_class = _BACKENDS.get(entry.backend)
        if backend_class is None:
            notes.append(RecoveryNote(entry, "failed", f"could not revert {what}: unknown backend {entry.backend!r}"))
            continue
        try:
            detail = backend_class().revert(entry.fault)
        except ChaosActionFailed as exc:
            notes.append(RecoveryNote(entry, "failed", f"could not revert {what}: {exc}"))
            continue
        journal.close(entry.id, f"recovered: {detail}")
        notes.append(RecoveryNote(entry, "reverted", f"reverted {what}: {detail}"))
    return notes
