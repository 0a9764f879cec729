"""The one interface every chaos backend implements, and the fault record they share.

A fault goes through four calls, always in this order, so that the journal holds it before it
acts and a later process can revert it from the journal alone::

    fault = backend.prepare(step)      # resolve the target, snapshot what the revert restores
    journal.open(..., fault=fault)     # durable before anything changes
    backend.apply(fault)
    ...                                # the fault holds for step.duration_s
    backend.revert(fault)              # idempotent: safe twice, safe when apply never ran

``fault`` is a JSON-able dict holding ``action`` and whatever the revert needs (container name,
pid and start time, original quota...). It never holds a secret: a backend that needs one names
the file and variable it comes from.
"""

from __future__ import annotations

from typing import Any, Protocol

from scenarios.chaos.plan import ChaosStep

Fault = dict[str, Any]


class ChaosActionFailed(Exception):
    """The backend could not apply or revert a fault (a host problem, not bad input)."""


class ChaosBackend(Protocol):
    name: str
    """``docker``, ``process`` or ``app``: the key in the journal and in chaos stream records."""
    actions: frozenset[str]
    """The plan actions this backend carries."""

    def describe_target(self, service: str) -> str:
        """What ``service`` means to this backend (``container agente_negocio``); ``TargetNotAllowed`` if nothing."""
        ...

    def prepare(self, step: ChaosStep) -> Fault:
        """Resolve the step's target and snapshot the state its revert restores. Changes nothing."""
        ...

    def apply(self, fault: Fault) -> None:
        """Inject the fault; ``ChaosActionFailed`` when the host refuses."""
        ...

    def revert(self, fault: Fault) -> str:
        """Undo the fault if it is still in force; returns what was done, in a few words."""
        ...
