"""Evaluators of records: statistics, counts and shares of outcomes, smoke and Trivy results,
the stock ledger, scraped metrics and the completeness of the stream itself.

Each is one short function declared with ``@rule_kind`` for its rule class. Time-based kinds
(sustained, health) live in ``analysis/_windows.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from analysis._chaos import record_service, set_aside_phrase
from analysis._judge import ChartLine, Judgement, pct, record_item, rule_kind
from analysis._load import RunData
from analysis._ruleset import (
    ANSWER_SOURCES,
    ChaosRecoveryRule,
    CountRule,
    Filter,
    LedgerRule,
    MetricRule,
    RouteLatencyRule,
    ShareRule,
    SmokeRule,
    StatisticRule,
    StreamRule,
    TrivyRule,
)
from analysis._sketches import quantile_ms
from analysis._verdict import RuleStatus
from analysis._windows import rule_spans, scope_text, seen_phrase
from stagegate_core.stream import HealthTransition, SmokeResult

_SMOKE_STATUS: dict[str, RuleStatus] = {"PASS": "PASS", "WARN": "WARN", "FAIL": "FAIL"}
"""Smoke statuses carried over as they are; SKIP and NO_DATA mean the check told us nothing."""


def matches(record: Mapping[str, Any], where: Filter) -> bool:
    """True when every field named in ``where`` holds one of its listed values."""
    return all(record.get(key) in accepted for key, accepted in where.items())


def _describe(where: Filter) -> str:
    return " and ".join(f"{k} in {'/'.join(map(str, v))}" for k, v in where.items())


@rule_kind(StatisticRule, needs_load=True, chart=ChartLine("p95", "below", lambda v: f"{v:g} ms", {"stat": "p95_ms"}))
def _statistic(rule: StatisticRule, data: RunData) -> Judgement:
    picked = data.select(data.names(traffic=rule.traffic or None, names=rule.names or None), rule_spans(rule, data))
    answered, transport = picked.total("answered"), picked.total("transport")
    seen = seen_phrase(answered, transport, picked.set_aside)
    values: dict[str, Any] = {"count": answered, "transport": transport, "names": len(picked.names),
                              "set_aside": picked.set_aside}
    limit = f"must stay below {rule.below:g}"
    if answered < rule.min_count:
        return Judgement("NO_DATA", f"{answered} answered requests in scope ({scope_text(rule.traffic, rule.names)}), "
                         f"need {rule.min_count}; {limit}{seen}", values)
    if rule.stat == "error_rate":
        judged = picked.total("ok") + picked.total("error")
        value = picked.total("error") / judged if judged else 0.0
    elif rule.stat == "max_ms":
        value = picked.max_ms() or 0.0
    else:
        value = quantile_ms(picked.sketch(), int(rule.stat[1:3]) / 100) or 0.0
    shown = pct(value) if rule.stat == "error_rate" else f"{value:.1f} ms"
    values[rule.stat] = round(value, 6)
    status: RuleStatus = "PASS" if value < rule.below else "FAIL"
    return Judgement(status, f"{rule.stat} {shown} over {answered} requests; {limit}{seen}", values)


@rule_kind(RouteLatencyRule, needs_load=True)
def _route_latency(rule: RouteLatencyRule, data: RunData) -> Judgement:
    picked = data.select(data.names(traffic=rule.traffic or None, names=rule.names or None), rule_spans(rule, data))
    routes: list[dict[str, Any]] = []
    thin: list[str] = []
    for name in picked.names:
        answered = picked.total("answered", [name])
        if answered < rule.min_count:
            thin.append(name)
            continue
        p95 = quantile_ms(picked.sketch([name]), 0.95) or 0.0
        routes.append({"name": name, "p95_ms": round(p95, 3), "below_ms": rule.limit(name), "count": answered})
    slow = [r for r in routes if r["p95_ms"] >= r["below_ms"]]
    values: dict[str, Any] = {"routes_judged": len(routes), "routes_too_thin": len(thin),
                              "transport": picked.total("transport"), "set_aside": picked.set_aside}
    seen = (f" ({len(routes)} routes with >= {rule.min_count} answered requests judged, {len(thin)} with fewer not"
            f"{set_aside_phrase(picked.set_aside)})")
    if slow:
        named = "; ".join(f"{r['name']} p95 {r['p95_ms']:.0f} ms (limit {r['below_ms']:g})" for r in slow)
        return Judgement("FAIL", f"{len(slow)} slow route(s): {named}{seen}", values, [], slow)
    if not routes:
        return Judgement("NO_DATA", f"no route had {rule.min_count} answered requests{seen}", values)
    worst = max(routes, key=lambda r: r["p95_ms"] / r["below_ms"])
    return Judgement("PASS", f"every route under its limit; closest: {worst['name']} p95 {worst['p95_ms']:.0f} ms "
                     f"(limit {worst['below_ms']:g}){seen}", values, [], routes)


def no_answer(source: str, rec: Mapping[str, Any]) -> bool:
    """A token or OCR record whose request never got an answer (and a legacy token ``error`` without status)."""
    result = rec.get("result")
    return result == "transport" or (source == "token" and result == "error" and rec.get("status") is None)


@dataclass
class Pool:
    """The records a count or share rule judges, and what it left out and why."""

    records: list[Any]
    hits: list[Any]
    offered: int  # records of the source within ``of``
    unanswered: int
    set_aside: int

    def seen(self) -> str:
        parts = ([f"{self.unanswered} of {self.offered} got no answer"] if self.unanswered else []) + (
            [f"{self.set_aside} set aside during chaos"] if self.set_aside else [])
        return f" ({'; '.join(parts)})" if parts else ""

    def values(self) -> dict[str, Any]:
        return {"matching": len(self.hits), "of": len(self.records), "no_answer": self.unanswered,
                "set_aside": {"records": self.set_aside}}


def _pool(rule: CountRule | ShareRule, data: RunData) -> Pool:
    offered = [r for r in data.records(rule.source) if matches(r, rule.of)]
    answered = [r for r in offered if not no_answer(rule.source, r)]
    spans = rule_spans(rule, data) if rule.source in ANSWER_SOURCES else []
    kept = [r for r in answered
            if not any(s.covers(record_service(rule.source, r, rule.service), r["t"]) for s in spans)]
    return Pool(kept, [r for r in kept if matches(r, rule.where)], len(offered), len(offered) - len(answered),
                len(answered) - len(kept))


def _too_few(rule: CountRule | ShareRule, pool: Pool) -> Judgement:
    within = f" with {_describe(rule.of)}" if rule.of else ""
    if not pool.offered:
        return Judgement("NO_DATA", f"no {rule.source} record{within}", pool.values())
    return Judgement("NO_DATA", f"{len(pool.records)} {rule.source} records{within} to judge, need {rule.min_count}"
                     f"{pool.seen()}", pool.values())


def _count_trigger(rule: CountRule, rec: Mapping[str, Any]) -> bool:
    """A count rule is judged live when a record it counts against arrives."""
    return rec["kind"] == rule.source and matches(rec, rule.of) and matches(rec, rule.where)


def _on_smoke_result(rule: SmokeRule | TrivyRule, rec: Mapping[str, Any]) -> bool:
    return bool(rec["kind"] == "smoke")


@rule_kind(CountRule, live=_count_trigger)
def _count(rule: CountRule, data: RunData) -> Judgement:
    pool = _pool(rule, data)
    if len(pool.records) < rule.min_count and rule.require_records:
        return _too_few(rule, pool)
    what = f"{rule.source} records with {_describe(rule.where)}"
    status: RuleStatus = "PASS" if len(pool.hits) <= rule.at_most else "FAIL"
    return Judgement(status, f"{len(pool.hits)} of {len(pool.records)} {what}; at most {rule.at_most}"
                     f"{pool.seen()}", pool.values(), [], [record_item(r) for r in pool.hits])


@rule_kind(ShareRule)
def _share(rule: ShareRule, data: RunData) -> Judgement:
    pool = _pool(rule, data)
    if len(pool.records) < rule.min_count:
        return _too_few(rule, pool)
    share = len(pool.hits) / len(pool.records)
    values = {**pool.values(), "share": round(share, 6),
              "by_outcome": dict(Counter(str(r.get("result", r.get("status"))) for r in pool.records))}
    status: RuleStatus = "PASS" if share >= rule.at_least else "FAIL"
    others = [record_item(r) for r in pool.records if not matches(r, rule.where)]
    return Judgement(status, f"{pct(share)} ({len(pool.hits)} of {len(pool.records)}) with {_describe(rule.where)}; "
                     f"at least {pct(rule.at_least)}{pool.seen()}", values, [], others)


def latest_smoke(data: RunData, check: str) -> SmokeResult | None:
    """The last smoke result of ``check`` (a re-run replaces an earlier one)."""
    found = [s for s in data.smoke if s["check"] == check]
    return max(found, key=lambda s: s["t"]) if found else None


@rule_kind(SmokeRule, live=_on_smoke_result)
def _smoke(rule: SmokeRule, data: RunData) -> Judgement:
    results = {c: latest_smoke(data, c) for c in rule.checks}
    items = [{"check": c, "status": r["status"] if r else "missing", "summary": r["summary"] if r else "",
              "evidence": r["evidence"] if r else []} for c, r in results.items()]
    statuses = [_SMOKE_STATUS.get(r["status"], "NO_DATA") if r else "NO_DATA" for r in results.values()]
    worst: RuleStatus = next((s for s in ("FAIL", "NO_DATA", "WARN") if s in statuses), "PASS")
    summary = "; ".join(f"{i['check']}: {i['status']}" + (f" ({i['summary']})" if i["summary"] else "")
                        for i in items)
    return Judgement(worst, summary, {"checks": {i["check"]: i["status"] for i in items}}, [], items)


def trivy_severities(report: Mapping[str, Any]) -> Counter[str]:
    """Vulnerabilities by severity in a Trivy JSON report (``Results[].Vulnerabilities[]``)."""
    return Counter(
        str(v.get("Severity", "UNKNOWN")).upper()
        for result in report.get("Results") or [] for v in result.get("Vulnerabilities") or []
    )


@rule_kind(TrivyRule, live=_on_smoke_result)
def _trivy(rule: TrivyRule, data: RunData) -> Judgement:
    smoke = latest_smoke(data, rule.check)
    if smoke is not None:
        status = _SMOKE_STATUS.get(smoke["status"], "NO_DATA")
        return Judgement(status, f"{rule.check}: {smoke['status']} ({smoke['summary']})",
                         {"source": rule.check}, [], list(smoke["evidence"]))
    path = data.results_dir / rule.report
    if not path.is_file():
        return Judgement("NO_DATA", f"no {rule.check} smoke result and no {rule.report} in the results")
    try:
        counts = trivy_severities(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        return Judgement("NO_DATA", f"{rule.report}: not a Trivy JSON report ({type(exc).__name__})")
    bad = {s: counts[s] for s in rule.severities if counts[s]}
    values = {"source": rule.report, "by_severity": dict(counts)}
    if bad:
        return Judgement("FAIL", ", ".join(f"{n} {s}" for s, n in bad.items()) + f" in {rule.report}", values)
    return Judgement("PASS", f"no {'/'.join(rule.severities)} in {rule.report}", values)


@rule_kind(LedgerRule, live=lambda rule, rec: rec["kind"] == "ledger_snapshot" and rec.get("phase") == "end",
           needs_load=True)
def _ledger(rule: LedgerRule, data: RunData) -> Judgement:
    phases = {s["phase"]: s for s in data.snapshots}
    if "start" not in phases or "end" not in phases:
        return Judgement("NO_DATA", f"missing ledger snapshot: {', '.join(p for p in ('start', 'end') if p not in phases)}")
    start, end = phases["start"]["stock"], phases["end"]["stock"]
    tracked = sorted(set(start) & set(end), key=lambda p: (len(p), p))
    if not tracked:
        return Judgement("NO_DATA", "no products to track: the ledger snapshots hold no product in common",
                         {"products": 0, "movements": 0})
    movements = list(_unique_movements(data.ledger))
    moved: Counter[str] = Counter()
    items: list[dict[str, Any]] = []
    for entry in movements:
        moved[str(entry["producto_id"])] += entry["delta"]
        before, after = entry["stock_anterior"], entry["stock_nuevo"]
        if before is not None and after is not None and after - before != entry["delta"]:
            items.append({**record_item(entry), "problem": f"applied {after - before:+d}, asked {entry['delta']:+d}"})
    for product in tracked:
        expected = start[product] + moved[product]
        if end[product] != expected:
            items.append({"producto_id": product, "start": start[product], "acknowledged": moved[product],
                          "expected": expected, "end": end[product], "difference": end[product] - expected,
                          "problem": f"stock {end[product]}, expected {start[product]} {moved[product]:+d} "
                                     f"= {expected} ({end[product] - expected:+d})"})
    seen = sum(1 for m in movements if str(m["producto_id"]) in tracked)
    catch = 1 - (1 - rule.corruption_share) ** seen
    values = {"products": len(tracked), "movements": seen, "inconsistent": len(items),
              "catch_probability": round(catch, 4)}
    if items:
        return Judgement("FAIL", f"{len(items)} inconsistenc{'y' if len(items) == 1 else 'ies'}: "
                         + "; ".join(f"product {i['producto_id']}: {i['problem']}" for i in items[:3]), values, [], items)
    could = (f"a 1-in-{1 / rule.corruption_share:.0f} corruption would be caught with probability {pct(catch)}")
    if catch < rule.confidence:
        return Judgement("NO_DATA", f"saw {seen} movements: {could}; needs {pct(rule.confidence)}", values)
    return Judgement("PASS", f"{seen} acknowledged movements match the stock of {len(tracked)} products; {could}",
                     values)


def _unique_movements(entries: Iterable[Any]) -> Iterable[Any]:
    """Acknowledged movements, a replayed one (same movimiento_id or idempotency key) counted once."""
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        key = ("id", entry["movimiento_id"]) if entry["movimiento_id"] else ("key", entry["idempotency_key"])
        if key[1] is not None and key in seen:
            continue
        seen.add(key)
        yield entry


@rule_kind(MetricRule)
def _metric(rule: MetricRule, data: RunData) -> Judgement:
    mine = [m for m in sorted(data.metrics, key=lambda m: m["t"]) if rule.service in (None, m["service"])]
    scraped = [m for m in mine if m["error"] is None]
    samples = [m for m in scraped if rule.metric in m["values"]]
    failed = [record_item(m) for m in mine if m["error"] is not None]
    counts = {"samples": len(samples), "scrapes": len(scraped), "failed_scrapes": len(failed)}
    if not scraped:
        why = f"{len(failed)} scrape(s), all failed" if failed else "no scrape"
        return Judgement("NO_DATA", f"could not look: {why}{' of ' + rule.service if rule.service else ''}",
                         counts, [], failed)
    if not samples:
        return Judgement("FAIL", f"{rule.metric} absent from {len(scraped)} successful scrape(s)", counts, [], failed)
    needed = 2 if rule.aggregate == "increase" else 1
    if len(samples) < needed:
        return Judgement("NO_DATA", f"{len(samples)} scrape(s) with {rule.metric}, need {needed}", counts, [], failed)
    series = [m["values"][rule.metric] for m in samples]
    value = {"increase": series[-1] - series[0], "max": max(series), "last": series[-1]}[rule.aggregate]
    held = value < rule.below if rule.below is not None else value <= (rule.at_most or 0.0)
    bound = f"below {rule.below:g}" if rule.below is not None else f"at most {rule.at_most:g}"
    values = {rule.aggregate: value, **counts, "first": series[0], "last": series[-1]}
    absent = f" ({len(scraped) - len(samples)} successful scrape(s) without it)" if len(scraped) > len(samples) else ""
    return Judgement("PASS" if held else "FAIL", f"{rule.metric} {rule.aggregate} {value:g} over "
                     f"{len(samples)} scrapes; must be {bound}{absent}", values, [], failed)


@rule_kind(ChaosRecoveryRule, live=lambda rule, rec: rec["kind"] == "chaos" and rec.get("phase") == "not_recovered")
def _chaos_recovery(rule: ChaosRecoveryRule, data: RunData) -> Judgement:
    last_health: dict[str, HealthTransition] = {}
    for tr in sorted(data.health, key=lambda h: h["t"]):
        last_health[tr["check"]] = tr
    items: list[dict[str, Any]] = []
    unknown: list[str] = []
    for span in data.spans:
        if span.closed_by == "recovered":
            continue
        item = {"step_id": span.step_id, "target": span.target, "start": span.start}
        if span.closed_by == "not_recovered":
            items.append({**item, "problem": "not recovered within the plan's recovery timeout"})
            continue
        health = last_health.get(span.target)
        if health is not None and not health["ok"]:
            items.append({**item, "problem": f"recovery never observed and {span.target} still failing at the end "
                                             f"of the data ({health['detail']}): critical service down"})
        elif health is None:
            unknown.append(span.step_id)
    values = {"steps": len(data.spans), "recovered": sum(s.closed_by == "recovered" for s in data.spans),
              "not_recovered": len(items)}
    if items:
        return Judgement("FAIL", "; ".join(f"{i['target']} ({i['step_id']}): {i['problem']}" for i in items),
                         values, [], items)
    if unknown:
        return Judgement("NO_DATA", f"recovery of {', '.join(unknown)} never observed and no health check of its "
                         "target to look at", values)
    return Judgement("PASS", f"{values['recovered']} of {len(data.spans)} chaos step(s) recovered"
                     if data.spans else "no chaos step in this run", values)


@rule_kind(StreamRule)
def _stream(rule: StreamRule, data: RunData) -> Judgement:
    items: list[dict[str, Any]] = [{"file": p.path.name, "line": p.line, "problem": p.problem} for p in data.problems]
    producers = {h["producer"] for h in data.headers}
    if not data.headers:
        items.append({"file": "*", "line": 0, "problem": "no run_header record"})
    if len(data.ends) < len(producers):
        items.append({"file": "*", "line": 0, "problem": f"{len(producers) - len(data.ends)} producer(s) "
                      "without run_end (stopped before finishing)"})
    items += [{"file": "*", "line": 0, "problem": f"run ended {e['reason']}: {e['detail']}"}
              for e in data.ends if e["reason"] != "completed"]
    values = {"files": [p.name for p in data.files], "problems": len(items)}
    if items:
        return Judgement("NO_DATA", f"{len(items)} problem(s), first: {items[0]['file']}:{items[0]['line']}: "
                         f"{items[0]['problem']}", values, [], items)
    return Judgement("PASS", f"{len(data.files)} stream file(s) complete", values)
