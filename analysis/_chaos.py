"""Chaos spans: when a chaos step's fault (and its after-effects) could have shaped the answers.

A step's span runs from its ``start`` event until its recovery is observed (``recovered``); a step
that never recovers runs until its ``not_recovered`` event, else until the end of the data. Rules
about how the deployment answers set aside the records of the step's target inside its span (the
fault produced them, not the deployment); the chaos, health and ledger rules judge them.

``ChaosEvent.target`` is a service name of the profile (``deposito``...) or ``gateway``: the same
names as a request series' ``service`` and a token record's ``target``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from stagegate_core.stream import ChaosEvent

CLOSING = ("recovered", "not_recovered")
"""Phases that close a step's span: its recovery was observed, or the runner gave up waiting."""


@dataclass(frozen=True)
class ChaosSpan:
    """One step's span on one target; ``end`` is the data's end while the step is still open."""

    step_id: str
    target: str
    start: float
    end: float
    closed_by: str | None  # "recovered", "not_recovered", or None when the data ended first

    def covers(self, service: str | None, t: float) -> bool:
        """A record of ``service`` at ``t`` (a point in time) falls in the span; a record whose
        service is unknown (``None``) falls in every span: nothing says the fault did not shape it.
        A step still open covers everything from its start on."""
        return (service is None or service == self.target) and self.start <= t and (self.open or t < self.end)

    def overlaps(self, service: str, t: float, duration_s: float) -> bool:
        """A window of ``service`` from ``t`` for ``duration_s`` shares time with the span."""
        return service == self.target and (self.open or t < self.end) and t + duration_s > self.start

    @property
    def open(self) -> bool:
        """No recovery (nor giving up) recorded: the span lasts as long as the data does."""
        return self.closed_by is None


def chaos_spans(events: Iterable[ChaosEvent], end: float) -> list[ChaosSpan]:
    """The span of every started step, in start order; a step still open ends at ``end``."""
    spans: list[ChaosSpan] = []
    opened: dict[str, ChaosEvent] = {}
    for event in sorted(events, key=lambda e: e["t"]):
        step = event["step_id"]
        if event["phase"] == "start":
            opened[step] = event
        elif event["phase"] in CLOSING:
            began = opened.pop(step, event)  # a give-up whose start is not in the data still counts
            spans.append(ChaosSpan(step, began["target"], began["t"], event["t"], event["phase"]))
    spans += [ChaosSpan(s, e["target"], e["t"], max(end, e["t"]), None) for s, e in opened.items()]
    return sorted(spans, key=lambda s: s.start)


def record_service(source: str, rec: Mapping[str, Any], default: str | None) -> str | None:
    """The service a token or OCR record is about: a token's ``target`` agent; for OCR (whose records
    do not name it) the rule's ``service``, or None (unknown) when the rule names none."""
    return str(rec["target"]) if source == "token" else default


def set_aside_phrase(counts: Mapping[str, int]) -> str:
    """``"; set aside during chaos: 3 windows, 40 requests"`` (empty when nothing was set aside)."""
    shown = [f"{n} {what}" for what, n in counts.items() if n]
    return f"; set aside during chaos: {', '.join(shown)}" if shown else ""
