"""The rule kinds, each declared once, and what every evaluator returns.

A rule kind is its model class (``_ruleset.py``) and one evaluator declared with ``@rule_kind``
(``_rules.py``, ``_windows.py``), which also says whether the live abort judges it during the run
(``live``), whether only a load run can feed it (``needs_load``: ``stagegate smoke`` leaves it out)
and which chart of the HTML report draws its threshold (``chart``). ``RULE_KINDS`` is read by the
verdict, ``LiveJudge``, ``stagegate smoke`` and the report. An evaluator returns a ``Judgement``;
``judge_rule`` adds what every rule shares: the run-length check (``min_duration_s``), the alert
role (a breach is a WARN) and the rule's id, title and section.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args

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


LiveTrigger = Callable[[Any, Mapping[str, Any]], bool]
"""``(rule, record) -> bool``: judge the rule again now that this (valid) record has arrived."""
Live = Literal["windows", "every_second"] | LiveTrigger
"""How ``LiveJudge`` follows a kind during the run: ``windows``, each completed second of request
windows through the rule's trailing rate; ``every_second``, again whenever time moves on by a second
(an outage grows without records); a trigger, again when a record it picks arrives."""


@dataclass(frozen=True)
class ChartLine:
    """A threshold of the kind drawn as a line on one chart of the HTML report (rules on normal traffic)."""

    chart: str
    """``error-rate`` or ``p95`` (the report's time charts)."""
    key: str
    """The threshold field drawn (``above``, ``below``)."""
    shown: Callable[[float], str]
    """The value as the line's label shows it."""
    where: Mapping[str, str] = field(default_factory=dict)
    """Threshold fields that must have these values (``stat = "p95_ms"``)."""


@dataclass(frozen=True)
class RuleKind:
    kind: str
    model: type[_Rule]
    evaluate: Callable[[Any, RunData], Judgement]
    live: Live | None
    """None: judged after the run only, even with role ``rollback``."""
    needs_load: bool
    """Judged on Locust windows or the stock ledger, which a smoke run does not produce."""
    chart: ChartLine | None


RULE_KINDS: dict[str, RuleKind] = {}
"""Every rule kind by its ``kind`` string (filled as ``_rules.py`` and ``_windows.py`` are imported)."""

R = TypeVar("R", bound=_Rule)


def rule_kind(model: type[R], *, live: Live | None = None, needs_load: bool = False, chart: ChartLine | None = None,
              ) -> Callable[[Callable[[R, RunData], Judgement]], Callable[[R, RunData], Judgement]]:
    """Declare the decorated function as the evaluator of ``model``'s kind, with the kind's properties."""
    (kind,) = get_args(model.model_fields["kind"].annotation)

    def register(evaluate: Callable[[R, RunData], Judgement]) -> Callable[[R, RunData], Judgement]:
        if kind in RULE_KINDS:
            raise ValueError(f"rule kind {kind!r} is declared twice")
        RULE_KINDS[kind] = RuleKind(kind, model, evaluate, live, needs_load, chart)
        return evaluate

    return register


def evaluate_kind(rule: _Rule, data: RunData) -> Judgement:
    """Judge ``rule`` on ``data`` with its kind's evaluator."""
    declared = RULE_KINDS.get(rule.kind)
    if declared is None:
        raise NotImplementedError(f"no evaluator for {type(rule).__name__}")
    return declared.evaluate(rule, data)


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
