"""The dispatch from a rule to its evaluator, and what every evaluator returns.

Each rule kind has one small evaluator registered on ``evaluate_kind`` (``functools.singledispatch``
on the rule's model class, as chaoslib's ``within_tolerance`` dispatches on tolerance types). An
evaluator returns a ``Judgement``; ``judge_rule`` adds what every rule shares: the run-length
check (``min_duration_s``), the alert role (a breach is a WARN) and the rule's id, title and section.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import singledispatch
from typing import Any

from analysis._load import RunData
from analysis._ruleset import _Rule
from analysis._verdict import Evidence, RuleResult, RuleStatus, Span

MAX_ITEMS = 50
"""Offending cases (and time spans) listed per rule, so a noisy run keeps a readable verdict.json;
the full counts are in ``values``."""


@dataclass
class Judgement:
    """An evaluator's answer: status, one-line summary, and evidence."""

    status: RuleStatus
    summary: str
    values: dict[str, Any] = field(default_factory=dict)
    spans: list[Span] = field(default_factory=list)
    items: list[dict[str, Any]] = field(default_factory=list)


@singledispatch
def evaluate_kind(rule: _Rule, data: RunData) -> Judgement:
    """Judge ``rule`` on ``data``; one registered implementation per rule kind."""
    raise NotImplementedError(f"no evaluator for {type(rule).__name__}")


def judge_rule(rule_id: str, rule: _Rule, data: RunData) -> RuleResult:
    """One rule's result, with the shared parts filled in."""
    duration = data.duration_s or 0.0
    if rule.min_duration_s and duration < rule.min_duration_s:
        found = Judgement("NO_DATA", f"run lasted {duration:.0f} s, rule needs {rule.min_duration_s:.0f} s")
    else:
        found = evaluate_kind(rule, data)
    return to_result(rule_id, rule, found)


def to_result(rule_id: str, rule: _Rule, found: Judgement) -> RuleResult:
    """A judgement as the rule's result; for an ``alert`` rule a FAIL becomes a WARN."""
    status = "WARN" if rule.role == "alert" and found.status == "FAIL" else found.status
    return RuleResult(
        id=rule_id, title=rule.title, kind=rule.kind, role=rule.role, status=status,
        summary=found.summary, threshold=rule.threshold(), section=rule.section,
        evidence=Evidence(values=found.values, spans=found.spans[:MAX_ITEMS], items=found.items[:MAX_ITEMS]),
    )


def pct(share: float) -> str:
    """A share as a percentage for summaries: 0.1234 -> '12.3 %'."""
    return f"{share * 100:.1f} %"


def clock(t: float) -> str:
    """An epoch time as UTC wall-clock for summaries."""
    return time.strftime("%H:%M:%S", time.gmtime(t))


def record_item(record: Any) -> dict[str, Any]:
    """A stream record as an evidence item: its fields without ``kind`` and ``v``."""
    return {k: v for k, v in dict(record).items() if k not in ("kind", "v")}
