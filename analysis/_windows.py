"""Evaluators of time: the sustained error rate and health outages.

The checklist's triggers are about time ("failing for more than 3 minutes", "error rate above
10 % sustained"), which whole-run totals hide. These evaluators work on a dense one-second
timeline and on outage intervals. When a breach is still open at the end of the data and shorter
than the rule's limit, the answer is unknown: NO_DATA, never PASS.

The sustained error rate is the rate over the trailing ``for_s`` seconds, computed every second
and judged only when the window holds ``min_count`` answered requests. Why not a streak of
one-second windows: at 5 req/s one second holds 5 requests, so a real 15 % error rate reads 0 %
in about 44 % of seconds and a 60 s streak above 10 % essentially never happens. The trailing
window holds 300 requests at that traffic: a steady 15 % reads above 10 % at the first full
window in more than 99 % of runs, a steady 5 % reads above 10 % in no window of a 30-minute run
(see tests/analysis/test_sustained.py for the measured rates).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from analysis._chaos import ChaosSpan, set_aside_phrase
from analysis._judge import ChartLine, Judgement, clock, pct, rule_kind
from analysis._load import RunData
from analysis._ruleset import HealthConcurrentRule, HealthOkRule, HealthStreakRule, SustainedRule, _Rule
from analysis._verdict import Span
from stagegate_core.stream import HealthTransition

# ---------------------------------------------------------------- sustained error rate


@dataclass
class _Run:
    """A stretch of consecutive seconds whose trailing window was above the threshold."""

    first: int
    last: int
    peak: float


class TrailingErrorRate:
    """The sustained rule's condition, stepped one second at a time (the batch and the live judge alike).

    ``step(second, answered, errors)`` takes the complete totals of each second in order (a
    missing second counts as no traffic). Once ``for_s`` seconds are in, the window ending in each
    second is judged when it holds at least ``min_count`` answered requests: above ``above`` is a
    breach at that second. ``step`` answers True at the first breach; ``judgement`` says the rest.
    Memory is the last ``for_s`` seconds, whatever the run's length.
    """

    def __init__(self, rule: SustainedRule) -> None:
        self.rule = rule
        self.tail: deque[tuple[int, int]] = deque(maxlen=rule.for_s)
        self.answered = self.errors = 0  # in the trailing window
        self.seconds = 0
        self.last: int | None = None
        self.judged = self.thin = 0
        self.most_answered = 0
        self.peak: float | None = None
        self.runs: list[_Run] = []
        self.first_breach: int | None = None

    def step(self, second: int, answered: int, errors: int) -> bool:
        """Add one second; True when this second is the first breach of the run."""
        if self.last is not None:
            for gap in range(self.last + 1, second):
                self._add(gap, 0, 0)
        return self._add(second, answered, errors)

    def _add(self, second: int, answered: int, errors: int) -> bool:
        if len(self.tail) == self.tail.maxlen:
            old_answered, old_errors = self.tail[0]
            self.answered -= old_answered
            self.errors -= old_errors
        self.tail.append((answered, errors))
        self.answered += answered
        self.errors += errors
        self.seconds += 1
        self.last = second
        if self.seconds < self.rule.for_s:
            return False
        self.most_answered = max(self.most_answered, self.answered)
        if self.answered < self.rule.min_count:
            self.thin += 1
            return False
        self.judged += 1
        rate = self.errors / self.answered
        self.peak = rate if self.peak is None else max(self.peak, rate)
        if rate <= self.rule.above:
            return False
        run = self.runs[-1] if self.runs else None
        if run is not None and run.last == second - 1:
            run.last, run.peak = second, max(run.peak, rate)
        else:
            self.runs.append(_Run(second, second, rate))
        first = self.first_breach is None
        if first:
            self.first_breach = second
        return first

    def open_tail(self) -> tuple[int, int, int] | None:
        """``(seconds, answered, errors)`` of the recent stretch, shorter than ``for_s`` (the whole data
        when it is shorter) and ending with the data, that holds ``min_count`` answered requests and
        has the highest error rate above the threshold (the longest of equals): a breach that may not
        have had the time to show in a full window."""
        entries = list(self.tail)[-(self.rule.for_s - 1):] if self.seconds >= self.rule.for_s else list(self.tail)
        answered = errors = 0
        found: tuple[int, int, int] | None = None
        for k, (a, e) in enumerate(reversed(entries), start=1):
            answered, errors = answered + a, errors + e
            if answered >= self.rule.min_count and errors / answered > self.rule.above and (
                    found is None or errors / answered >= found[2] / found[1]):
                found = (k, answered, errors)
        return found

    def judgement(self) -> Judgement:
        """The rule's answer on everything stepped so far."""
        rule, when = self.rule, clock
        limit = (f"threshold {pct(rule.above)} over the trailing {rule.for_s} s, judged with "
                 f">= {rule.min_count} answered requests")
        values: dict[str, Any] = {"max_error_rate": round(self.peak, 6) if self.peak is not None else None,
                                  "judged_windows": self.judged, "thin_windows": self.thin,
                                  "most_answered_in_a_window": self.most_answered}
        spans = [Span(start=float(r.first - rule.for_s + 1), end=float(r.last + 1), value=round(r.peak, 6),
                      label=f"error rate above {pct(rule.above)} over the trailing {rule.for_s} s "
                            f"(windows ending {when(r.first)}–{when(r.last)})")
                 for r in self.runs]
        if self.first_breach is not None:
            values["first_breach_at"] = float(self.first_breach)
            peak = max(r.peak for r in self.runs)
            return Judgement("FAIL", f"error rate above {pct(rule.above)} over the {rule.for_s} s to "
                             f"{when(self.first_breach)} (max {pct(peak)}); {limit}", values, spans)
        tail = self.open_tail()
        if tail is not None:
            k, answered, errors = tail
            return Judgement("NO_DATA", f"{pct(errors / answered)} of {answered} answered requests over the last "
                             f"{k} s when the data ends: undetermined; {limit}", values)
        if self.judged:
            thin = f", {self.thin} too thin to judge" if self.thin else ""
            return Judgement("PASS", f"max {pct(self.peak or 0.0)} over {self.judged} windows{thin}; {limit}", values)
        if self.seconds < rule.for_s and self.answered >= rule.min_count:
            return Judgement("PASS", f"{pct(self.errors / self.answered)} of {self.answered} answered requests "
                             f"over the whole {self.seconds} s (shorter than {rule.for_s} s); {limit}", values)
        most = max(self.most_answered, self.answered)
        return Judgement("NO_DATA", f"saw too little: at most {most} answered requests in a {rule.for_s} s "
                         f"window; {limit}", values)


@rule_kind(SustainedRule, live="windows", needs_load=True,
           chart=ChartLine("error-rate", "above", lambda v: f"{v * 100:g} %"))
def _sustained(rule: SustainedRule, data: RunData) -> Judgement:
    scope = scope_text(rule.traffic, rule.names)
    picked = data.select(data.names(traffic=rule.traffic or None, names=rule.names or None), rule_spans(rule, data))
    totals = picked.per_second()
    transport = picked.total("transport")
    if not totals:
        return Judgement("NO_DATA", f"no request in scope ({scope})")
    tracker = TrailingErrorRate(rule)
    for row in totals:
        tracker.step(int(row.t), row.ok + row.error, row.error)
    found = tracker.judgement()
    answered = picked.total("ok") + picked.total("error")
    found.values.update(answered=answered, transport=transport, set_aside=picked.set_aside)
    found.summary += seen_phrase(answered, transport, picked.set_aside)
    return found


def rule_spans(rule: _Rule, data: RunData) -> list[ChaosSpan]:
    """The chaos spans whose records ``rule`` sets aside (none when it includes them)."""
    return data.spans if rule.chaos_mode() == "set_aside" else []


def seen_phrase(answered: int, transport: int, set_aside: dict[str, int]) -> str:
    """What a request rule saw: ``" (seen: 840 answered, 12 without an answer; set aside during chaos: ...)"``."""
    unanswered = f", {transport} without an answer" if transport else ""
    return f" (seen: {answered} answered{unanswered}{set_aside_phrase(set_aside)})"


def scope_text(traffic: list[str], names: list[str]) -> str:
    """A rule's request scope in words, for summaries."""
    parts = ([f"traffic {'/'.join(traffic)}"] if traffic else []) + ([f"{len(names)} named requests"] if names else [])
    return ", ".join(parts) or "all requests"


# ---------------------------------------------------------------- health outages


@dataclass(frozen=True)
class Outage:
    """One check failing from ``start`` to ``end``; ``open`` when it still failed when the data ended."""

    check: str
    start: float
    end: float
    open: bool
    detail: str

    @property
    def duration_s(self) -> float:
        return self.end - self.start

    def span(self, label: str) -> Span:
        return Span(start=self.start, end=self.end, value=round(self.duration_s, 3), label=label)


def outages(transitions: Iterable[HealthTransition], checks: Iterable[str], end: float) -> list[Outage]:
    """Every stretch of failure of the listed checks, in time order; open ones end at ``end``."""
    wanted = set(checks)
    found: list[Outage] = []
    down: dict[str, HealthTransition] = {}
    for tr in sorted((h for h in transitions if h["check"] in wanted), key=lambda h: h["t"]):
        began = down.get(tr["check"])
        if not tr["ok"] and began is None:
            down[tr["check"]] = tr
        elif tr["ok"] and began is not None:
            found.append(Outage(tr["check"], began["t"], tr["t"], False, began["detail"]))
            del down[tr["check"]]
    found += [Outage(c, tr["t"], max(end, tr["t"]), True, tr["detail"]) for c, tr in down.items()]
    return sorted(found, key=lambda o: o.start)


def _observed(data: RunData, checks: Iterable[str]) -> set[str]:
    return {h["check"] for h in data.health} & set(checks)


def _outage_item(o: Outage) -> dict[str, object]:
    return {"check": o.check, "start": o.start, "end": o.end, "duration_s": round(o.duration_s, 3),
            "still_failing": o.open, "detail": o.detail}


@rule_kind(HealthStreakRule, live="every_second")
def _health_streak(rule: HealthStreakRule, data: RunData) -> Judgement:
    if not _observed(data, rule.checks):
        return Judgement("NO_DATA", "no health observation of the listed checks (no health watcher?)")
    found = outages(data.health, rule.checks, data.end or 0.0)
    longest = max((o.duration_s for o in found), default=0.0)
    values = {"outages": len(found), "longest_s": round(longest, 3)}
    long = [o for o in found if o.duration_s > rule.max_s]
    if long:
        spans = [o.span(f"{o.check} failing {o.duration_s:.0f} s") for o in long]
        first = long[0]
        return Judgement("FAIL", f"{first.check} failing for {first.duration_s:.0f} s from {clock(first.start)} "
                         f"({first.detail}); limit {rule.max_s:.0f} s", values, spans,
                         [_outage_item(o) for o in long])
    still = [o for o in found if o.open]
    if still:
        o = still[0]
        return Judgement("NO_DATA", f"{o.check} still failing after {o.duration_s:.0f} s when the data ends: "
                         f"undetermined; limit {rule.max_s:.0f} s", values, [], [_outage_item(o) for o in still])
    summary = f"longest failure {longest:.0f} s" if found else "no check failed"
    return Judgement("PASS", f"{summary}; limit {rule.max_s:.0f} s", values,
                     [o.span(f"{o.check} failing") for o in found], [_outage_item(o) for o in found])


def _overlaps(intervals: list[Outage], minimum: int) -> list[tuple[float, float, list[str]]]:
    """Stretches where at least ``minimum`` intervals overlap, with the checks involved."""
    events = sorted([(o.start, 1, o.check) for o in intervals] + [(o.end, -1, o.check) for o in intervals],
                    key=lambda e: (e[0], e[1]))
    active: list[str] = []
    found: list[tuple[float, float, list[str]]] = []
    since: float | None = None
    for t, step, check in events:
        if step > 0:
            active.append(check)
            if len(active) >= minimum and since is None:
                since = t
        else:
            if len(active) == minimum and since is not None:
                if t > since:
                    found.append((since, t, sorted(active)))
                since = None
            active.remove(check)
    return found


@rule_kind(HealthConcurrentRule, live="every_second")
def _health_concurrent(rule: HealthConcurrentRule, data: RunData) -> Judgement:
    if not _observed(data, rule.checks):
        return Judgement("NO_DATA", "no health observation of the listed checks (no health watcher?)")
    found = outages(data.health, rule.checks, data.end or 0.0)
    matured = [Outage(o.check, o.start + rule.after_s, o.end, o.open, o.detail)
               for o in found if o.duration_s > rule.after_s]
    together = _overlaps(matured, rule.min_checks)
    limit = f"limit {rule.min_checks} checks failing at once for more than {rule.after_s:.0f} s"
    if together:
        spans = [Span(start=a, end=b, value=float(len(c)), label=", ".join(c)) for a, b, c in together]
        a, _, checks = together[0]
        return Judgement("FAIL", f"{', '.join(checks)} still failing after {rule.after_s:.0f} s at {clock(a)}; "
                         f"{limit}", {"stretches": len(together)}, spans,
                         [_outage_item(o) for o in found if o.check in checks])
    still = [o for o in found if o.open]
    if len(still) >= rule.min_checks:
        return Judgement("NO_DATA", f"{', '.join(o.check for o in still)} still failing when the data ends: "
                         f"undetermined; {limit}", {}, [], [_outage_item(o) for o in still])
    return Judgement("PASS", f"never {rule.min_checks} checks failing together past {rule.after_s:.0f} s; "
                     f"{limit}", {"outages": len(found)})


@rule_kind(HealthOkRule)
def _health_ok(rule: HealthOkRule, data: RunData) -> Judgement:
    last: dict[str, HealthTransition] = {}
    for tr in sorted(data.health, key=lambda h: h["t"]):
        last[tr["check"]] = tr
    missing = [c for c in rule.checks if c not in last]
    failing = [last[c] for c in rule.checks if c in last and not last[c]["ok"]]
    items = [{"check": tr["check"], "since": tr["t"], "detail": tr["detail"]} for tr in failing]
    values = {"observed": sorted(set(rule.checks) - set(missing)), "missing": missing}
    if failing:
        return Judgement("FAIL", "failing at the end: " + ", ".join(
            f"{tr['check']} ({tr['detail']})" for tr in failing), values, [], items)
    if missing:
        return Judgement("NO_DATA", f"never observed: {', '.join(missing)}", values)
    return Judgement("PASS", f"all {len(rule.checks)} checks pass at the end", values)
