"""Evaluators of time: rolling-window error rates and health outages.

The checklist's triggers are about time ("failing for more than 3 minutes", "error rate above
10 % sustained"), which whole-run totals hide. These evaluators work on a dense one-second
timeline and on outage intervals. When a breach is still open at the end of the data and shorter
than the rule's limit, the answer is unknown: NO_DATA, never PASS.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from analysis._judge import Judgement, clock, evaluate_kind, pct
from analysis._load import RunData, SecondTotals
from analysis._ruleset import HealthConcurrentRule, HealthOkRule, HealthStreakRule, SustainedRule
from analysis._verdict import Span
from stagegate.stream import HealthTransition

# ---------------------------------------------------------------- rolling error rate


@dataclass(frozen=True)
class RollingRates:
    """Error rate of each full rolling window, indexed by the second the window ends in."""

    seconds: np.ndarray  # window-end second (epoch, whole)
    rates: np.ndarray  # errors / requests in the window; NaN when it had no request


def rolling_error_rates(totals: Sequence[SecondTotals], window_s: int) -> RollingRates:
    """Rates over every full ``window_s`` window of the dense timeline spanned by ``totals``."""
    if not totals:
        return RollingRates(np.empty(0), np.empty(0))
    t0 = int(totals[0].t)
    size = int(totals[-1].t) - t0 + 1
    counts = np.zeros(size + 1)
    errors = np.zeros(size + 1)
    for row in totals:
        counts[int(row.t) - t0 + 1] += row.count
        errors[int(row.t) - t0 + 1] += row.error
    counts, errors = np.cumsum(counts), np.cumsum(errors)
    if size < window_s:
        return RollingRates(np.empty(0), np.empty(0))
    in_window = counts[window_s:] - counts[:-window_s]
    bad = errors[window_s:] - errors[:-window_s]
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(in_window > 0, bad / in_window, np.nan)
    return RollingRates(np.arange(t0 + window_s - 1, t0 + size, dtype=float), rates)


def true_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` index pairs of each stretch of consecutive True values."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def judge_rates(rolling: RollingRates, rule: SustainedRule) -> Judgement:
    """The sustained rule on precomputed rolling rates (shared by the batch and the live judge)."""
    limit = f"threshold {pct(rule.above)} over {rule.window_s} s windows for {rule.for_s} s"
    if rolling.rates.size == 0:
        return Judgement("NO_DATA", f"less than one {rule.window_s} s window of traffic in scope; {limit}")
    with np.errstate(invalid="ignore"):
        mask = np.nan_to_num(rolling.rates, nan=0.0) > rule.above
    runs = true_runs(mask)
    peak = float(np.nanmax(rolling.rates)) if np.any(~np.isnan(rolling.rates)) else 0.0
    longest = max((b - a for a, b in runs), default=0)
    values = {"max_error_rate": round(peak, 6), "longest_breach_s": longest, "windows": int(rolling.rates.size)}
    spans = [
        Span(start=float(rolling.seconds[a]), end=float(rolling.seconds[b - 1]) + 1.0,
             value=round(float(np.nanmax(rolling.rates[a:b])), 6),
             label=f"error rate above {pct(rule.above)} for {b - a} s")
        for a, b in runs
    ]
    sustained = [s for s, (a, b) in zip(spans, runs) if b - a >= rule.for_s]
    if sustained:
        first = sustained[0]
        return Judgement("FAIL", f"{first.label} from {clock(first.start)} (max {pct(peak)}); {limit}",
                         values, sustained)
    if runs and runs[-1][1] == mask.size:
        open_s = runs[-1][1] - runs[-1][0]
        return Judgement("NO_DATA", f"still above {pct(rule.above)} for the last {open_s} s when the data "
                         f"ends: undetermined; {limit}", values, spans)
    return Judgement("PASS", f"max {pct(peak)}, longest stretch above {longest} s; {limit}", values, spans)


@evaluate_kind.register
def _sustained(rule: SustainedRule, data: RunData) -> Judgement:
    names = data.names(traffic=rule.traffic or None, names=rule.names or None)
    totals = data.per_second(names)
    if not totals:
        return Judgement("NO_DATA", f"no request in scope ({scope_text(rule.traffic, rule.names)})")
    return judge_rates(rolling_error_rates(totals, rule.window_s), rule)


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


@evaluate_kind.register
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


@evaluate_kind.register
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


@evaluate_kind.register
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
