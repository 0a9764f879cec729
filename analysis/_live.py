"""Judging rollback triggers while the run goes, for ``--abort-on-rollback``.

``LiveJudge.feed(record)`` takes the same stream records the recorder writes, as they are written,
and returns the rollback triggers that fired with this record (each fires once). It judges with
the same rules file and the same evaluators as the verdict after the run: the sustained error rate
steps the very ``TrailingErrorRate`` the batch judgement uses, one second at a time as each second
completes (memory and work per second stay flat however long the run), so it fires at the second
the verdict's breach begins. Chaos spans and transport outcomes are left out exactly as the batch
rules leave them out.

Which kinds are judged live, and when, each kind declares (``@rule_kind(..., live=...)``, see
``analysis/_judge.py``): ``sustained`` steps its windows, the health kinds are judged again each
second, and ``count``, ``smoke``, ``trivy``, ``ledger`` (the end snapshot) and ``chaos_recovery`` (a
step ``not_recovered``) when a record they pick arrives. Kinds without ``live``, even with role
``rollback``, are judged after the run only.
A new ``locust`` run header (a web UI restart) starts the judgement afresh, as the verdict judges
the newest segment only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis import _rules  # noqa: F401  (declares the rule kinds; _windows declares the rest)
from analysis._chaos import chaos_spans
from analysis._judge import RULE_KINDS, judge_rule, to_result
from analysis._load import RunData, record_problem
from analysis._ruleset import RuleSet, SustainedRule, _Rule
from analysis._verdict import RuleResult
from analysis._windows import TrailingErrorRate
from stagegate_core.stream import Record


@dataclass
class _Seconds:
    """A sustained rule's windows of the seconds not yet complete, and its trailing rate."""

    tracker: TrailingErrorRate
    pending: dict[int, list[tuple[str, float, float, int, int]]] = field(default_factory=lambda: defaultdict(list))
    newest: int | None = None


class LiveJudge:
    """Evaluates the rollback triggers of ``rules`` incrementally.

    Usage (in a recorder listener)::

        judge = LiveJudge(load_rules(rules_file))
        for result in judge.feed(record):   # after writing each record
            stop_the_run(reason=f"{result.id}: {result.summary}")   # fired at judge.now

    Window records are not kept (only the seconds not yet complete), so memory stays flat.
    """

    def __init__(self, rules: RuleSet, *, results_dir: Path = Path(".")) -> None:
        self.watched: dict[str, _Rule] = {
            rule_id: rule for rule_id, rule in rules.rules.items()
            if rule.role == "rollback" and RULE_KINDS[rule.kind].live is not None
        }
        self.results_dir = results_dir
        self.fired: list[RuleResult] = []
        self.now: float | None = None
        self._locust_headers = 0
        self._start_segment()

    def _start_segment(self) -> None:
        """Forget everything of the segment before (a web UI restart is a new test)."""
        self.rules: dict[str, _Rule] = dict(self.watched)
        self.data = RunData(self.results_dir)
        self._seconds = {rule_id: _Seconds(TrailingErrorRate(rule)) for rule_id, rule in self.rules.items()
                         if isinstance(rule, SustainedRule)}
        self._health_judged_at: dict[str, float] = {}

    def feed(self, rec: Record | dict[str, Any]) -> list[RuleResult]:
        """Take one record; return the rollback triggers that fired now (never the same twice)."""
        valid = record_problem(rec) is None
        if valid and rec["kind"] == "run_header" and rec.get("producer") == "locust":
            self._locust_headers += 1
            if self._locust_headers > 1:
                self._start_segment()
        if valid and rec["kind"] != "window":
            self.data.add(rec)
            if rec["kind"] == "chaos":
                self.data.__dict__.pop("spans", None)  # a cached property: the steps changed
        t = rec.get("t")
        if isinstance(t, int | float):
            self.now = t if self.now is None else max(self.now, t)
            self.data.start = t if self.data.start is None else min(self.data.start, t)
            self.data.end = self.now
        fired = [result for rule_id, rule in list(self.rules.items())
                 if (result := self._fired_by(rule_id, rule, rec, valid)) is not None and result.status == "FAIL"]
        for result in fired:
            del self.rules[result.id]
        self.fired += fired
        return fired

    def _fired_by(self, rule_id: str, rule: _Rule, rec: Any, valid: bool) -> RuleResult | None:
        live = RULE_KINDS[rule.kind].live
        if live == "windows":
            assert isinstance(rule, SustainedRule)
            return self._sustained(rule_id, rule, rec) if valid and rec["kind"] == "window" else None
        if live == "every_second":
            return self._health(rule_id, rule)
        if live is None or not valid:
            return None
        return judge_rule(rule_id, rule, self.data) if live(rule, rec) else None

    def _health(self, rule_id: str, rule: _Rule) -> RuleResult | None:
        """Health rules again when time moved on by a second or more (an outage grows without records)."""
        if self.now is None or not self.data.health:
            return None
        if self.now - self._health_judged_at.get(rule_id, float("-inf")) < 1.0:
            return None
        self._health_judged_at[rule_id] = self.now
        return judge_rule(rule_id, rule, self.data)

    def _sustained(self, rule_id: str, rule: SustainedRule, rec: Any) -> RuleResult | None:
        """Hold each window until its second is complete (a window of a later second arrives), then
        step the completed seconds through the rule's trailing rate, without the chaos spans' windows."""
        state = self._seconds[rule_id]
        second = int(rec["t"])
        if (not rule.traffic or rec["traffic"] in rule.traffic) and (not rule.names or rec["name"] in rule.names):
            outcomes = rec["outcomes"]
            answered = outcomes.get("ok", 0) + outcomes.get("error", 0)
            state.pending[second].append((rec["service"], rec["t"], rec["duration_s"], answered, outcomes.get("error", 0)))
        if state.newest is not None and second <= state.newest:
            return None
        state.newest = second
        spans = chaos_spans(self.data.chaos, float("inf")) if rule.chaos_mode() == "set_aside" else []
        breached = False
        for done in sorted(s for s in state.pending if s < second):
            kept = [w for w in state.pending.pop(done) if not any(s.overlaps(*w[:3]) for s in spans)]
            if kept or state.tracker.last is not None:
                breached |= state.tracker.step(done, sum(w[3] for w in kept), sum(w[4] for w in kept))
        return to_result(rule_id, rule, state.tracker.judgement()) if breached else None
