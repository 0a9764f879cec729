"""Judging rollback triggers while the run goes, for ``--abort-on-rollback``.

``LiveJudge.feed(record)`` takes the same stream records the recorder writes, as they are written,
and returns the rollback triggers that fired with this record (each fires once). It uses the same
evaluators as the judgement after the run; only the sustained error rate is computed on a tail of
the timeline (the last ``window_s + for_s`` seconds), so a long run costs the same per second.

Kinds judged live: ``sustained``, ``health_streak``, ``health_concurrent``, ``count``, ``smoke``,
``trivy`` and ``ledger`` (when the end snapshot arrives). Other kinds, even with role ``rollback``,
are judged after the run only.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from analysis import _rules, _windows
from analysis._judge import judge_rule, to_result
from analysis._load import RunData, SecondTotals, record_problem
from analysis._ruleset import (
    CountRule,
    HealthConcurrentRule,
    HealthStreakRule,
    LedgerRule,
    RuleSet,
    SmokeRule,
    SustainedRule,
    TrivyRule,
    _Rule,
)
from analysis._verdict import RuleResult
from stagegate.stream import Record

_HEALTH = (HealthStreakRule, HealthConcurrentRule)
LIVE_KINDS = (SustainedRule, CountRule, SmokeRule, TrivyRule, LedgerRule, *_HEALTH)


class LiveJudge:
    """Evaluates the rollback triggers of ``rules`` incrementally.

    Usage (in a recorder listener)::

        judge = LiveJudge(load_rules())
        for result in judge.feed(record):   # after writing each record
            stop_the_run(reason=f"{result.id}: {result.summary}")   # fired at judge.now

    Window records are not kept (only their per-second totals), so memory stays flat.
    """

    def __init__(self, rules: RuleSet, *, results_dir: Path = Path(".")) -> None:
        self.rules: dict[str, _Rule] = {
            rule_id: rule for rule_id, rule in rules.rules.items()
            if rule.role == "rollback" and isinstance(rule, LIVE_KINDS)
        }
        self.data = RunData(results_dir)
        self.fired: list[RuleResult] = []
        self.now: float | None = None
        self._seconds: dict[str, dict[int, list[int]]] = defaultdict(dict)
        self._newest_second: dict[str, int] = {}
        self._counts: dict[str, int] = defaultdict(int)
        self._health_judged_at: dict[str, float] = {}

    def feed(self, rec: Record | dict[str, Any]) -> list[RuleResult]:
        """Take one record; return the rollback triggers that fired now (never the same twice)."""
        if rec.get("kind") != "window" and record_problem(rec) is None:
            self.data.add(rec)
        t = rec.get("t")
        if isinstance(t, int | float):
            self.now = t if self.now is None else max(self.now, t)
            self.data.start = t if self.data.start is None else min(self.data.start, t)
            self.data.end = self.now
        fired = [result for rule_id, rule in list(self.rules.items())
                 if (result := self._judge(rule_id, rule, rec)) is not None and result.status == "FAIL"]
        for result in fired:
            del self.rules[result.id]
        self.fired += fired
        return fired

    def _judge(self, rule_id: str, rule: _Rule, rec: Any) -> RuleResult | None:
        kind = rec.get("kind")
        if isinstance(rule, SustainedRule):
            return self._sustained(rule_id, rule, rec) if kind == "window" else None
        if isinstance(rule, CountRule):
            if kind == rule.source and _rules.matches(rec, rule.of) and _rules.matches(rec, rule.where):
                self._counts[rule_id] += 1
                return judge_rule(rule_id, rule, self.data) if self._counts[rule_id] > rule.at_most else None
            return None
        if isinstance(rule, SmokeRule | TrivyRule):
            return judge_rule(rule_id, rule, self.data) if kind == "smoke" else None
        if isinstance(rule, LedgerRule):
            end_snapshot = kind == "ledger_snapshot" and rec.get("phase") == "end"
            return judge_rule(rule_id, rule, self.data) if end_snapshot else None
        return self._health(rule_id, rule) if isinstance(rule, _HEALTH) else None

    def _health(self, rule_id: str, rule: _Rule) -> RuleResult | None:
        """Health rules again when time moved on by a second or more (an outage grows without records)."""
        if self.now is None or not self.data.health:
            return None
        if self.now - self._health_judged_at.get(rule_id, float("-inf")) < 1.0:
            return None
        self._health_judged_at[rule_id] = self.now
        return judge_rule(rule_id, rule, self.data)

    def _sustained(self, rule_id: str, rule: SustainedRule, rec: Any) -> RuleResult | None:
        if record_problem(rec) is not None:
            return None
        in_scope = (not rule.traffic or rec["traffic"] in rule.traffic) and (not rule.names or rec["name"] in rule.names)
        second = int(rec["t"])
        seconds = self._seconds[rule_id]
        if in_scope:
            row = seconds.setdefault(second, [0, 0])
            row[0] += rec["count"]
            row[1] += rec["outcomes"].get("error", 0)
        newest = self._newest_second.get(rule_id)
        if newest is None or second <= newest:
            self._newest_second.setdefault(rule_id, second)
            return None
        self._newest_second[rule_id] = second
        keep_from = newest - rule.window_s - rule.for_s - 1
        for old in [s for s in seconds if s < keep_from]:
            del seconds[old]
        complete = [SecondTotals(float(s), c, 0, e, 0) for s, (c, e) in sorted(seconds.items()) if s <= newest]
        found = _windows.judge_rates(_windows.rolling_error_rates(complete, rule.window_s), rule)
        return to_result(rule_id, rule, found) if found.status == "FAIL" else None
