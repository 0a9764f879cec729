"""Evaluators of records: statistics, counts and shares of outcomes, smoke and Trivy results,
the stock ledger, scraped metrics and the completeness of the stream itself.

Each is one short function registered on ``evaluate_kind`` for its rule class. Time-based kinds
(sustained, health) live in ``analysis/_windows.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from analysis._judge import Judgement, evaluate_kind, pct, record_item
from analysis._load import RunData
from analysis._ruleset import (
    CountRule,
    Filter,
    LedgerRule,
    MetricRule,
    ShareRule,
    SmokeRule,
    StatisticRule,
    StreamRule,
    TrivyRule,
)
from analysis._sketches import quantile_ms
from analysis._verdict import RuleStatus
from analysis._windows import scope_text
from stagegate.stream import SmokeResult

_SMOKE_STATUS: dict[str, RuleStatus] = {"PASS": "PASS", "WARN": "WARN", "FAIL": "FAIL"}
"""Smoke statuses carried over as they are; SKIP and NO_DATA mean the check told us nothing."""


def matches(record: Mapping[str, Any], where: Filter) -> bool:
    """True when every field named in ``where`` holds one of its listed values."""
    return all(record.get(key) in accepted for key, accepted in where.items())


def _describe(where: Filter) -> str:
    return " and ".join(f"{k} in {'/'.join(map(str, v))}" for k, v in where.items())


@evaluate_kind.register
def _statistic(rule: StatisticRule, data: RunData) -> Judgement:
    names = data.names(traffic=rule.traffic or None, names=rule.names or None)
    count = sum(data.series[n].count for n in names)
    limit = f"must stay below {rule.below:g}"
    if count < rule.min_count:
        return Judgement("NO_DATA", f"{count} requests in scope ({scope_text(rule.traffic, rule.names)}), "
                         f"need {rule.min_count}; {limit}")
    if rule.stat == "error_rate":
        value = sum(data.series[n].outcome("error") for n in names) / count
    elif rule.stat == "max_ms":
        value = max(m for n in names if (m := data.series[n].max_ms) is not None)
    else:
        value = quantile_ms(data.merged_sketch(names), int(rule.stat[1:3]) / 100) or 0.0
    shown = pct(value) if rule.stat == "error_rate" else f"{value:.1f} ms"
    values = {rule.stat: round(value, 6), "count": count, "names": len(names)}
    status: RuleStatus = "PASS" if value < rule.below else "FAIL"
    return Judgement(status, f"{rule.stat} {shown} over {count} requests; {limit}", values)


def _counted(rule: CountRule | ShareRule, data: RunData) -> tuple[list[Any], list[Any]]:
    pool = [r for r in data.records(rule.source) if matches(r, rule.of)]
    return pool, [r for r in pool if matches(r, rule.where)]


@evaluate_kind.register
def _count(rule: CountRule, data: RunData) -> Judgement:
    pool, hits = _counted(rule, data)
    what = f"{rule.source} records with {_describe(rule.where)}"
    values = {"matching": len(hits), "of": len(pool)}
    if not pool and rule.require_records:
        return Judgement("NO_DATA", f"no {rule.source} record{' with ' + _describe(rule.of) if rule.of else ''}",
                         values)
    status: RuleStatus = "PASS" if len(hits) <= rule.at_most else "FAIL"
    return Judgement(status, f"{len(hits)} of {len(pool)} {what}; at most {rule.at_most}", values, [],
                     [record_item(r) for r in hits])


@evaluate_kind.register
def _share(rule: ShareRule, data: RunData) -> Judgement:
    pool, hits = _counted(rule, data)
    if not pool:
        return Judgement("NO_DATA", f"no {rule.source} record with {_describe(rule.of)}")
    share = len(hits) / len(pool)
    values = {"share": round(share, 6), "matching": len(hits), "of": len(pool),
              "by_outcome": dict(Counter(str(r.get("result", r.get("status"))) for r in pool))}
    status: RuleStatus = "PASS" if share >= rule.at_least else "FAIL"
    others = [record_item(r) for r in pool if not matches(r, rule.where)]
    return Judgement(status, f"{pct(share)} ({len(hits)} of {len(pool)}) with {_describe(rule.where)}; "
                     f"at least {pct(rule.at_least)}", values, [], others)


def latest_smoke(data: RunData, check: str) -> SmokeResult | None:
    """The last smoke result of ``check`` (a re-run replaces an earlier one)."""
    found = [s for s in data.smoke if s["check"] == check]
    return max(found, key=lambda s: s["t"]) if found else None


@evaluate_kind.register
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


@evaluate_kind.register
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


@evaluate_kind.register
def _ledger(rule: LedgerRule, data: RunData) -> Judgement:
    phases = {s["phase"]: s for s in data.snapshots}
    if "start" not in phases or "end" not in phases:
        return Judgement("NO_DATA", f"missing ledger snapshot: {', '.join(p for p in ('start', 'end') if p not in phases)}")
    start, end = phases["start"]["stock"], phases["end"]["stock"]
    movements = list(_unique_movements(data.ledger))
    moved: Counter[str] = Counter()
    items: list[dict[str, Any]] = []
    for entry in movements:
        moved[str(entry["producto_id"])] += entry["delta"]
        before, after = entry["stock_anterior"], entry["stock_nuevo"]
        if before is not None and after is not None and after - before != entry["delta"]:
            items.append({**record_item(entry), "problem": f"applied {after - before:+d}, asked {entry['delta']:+d}"})
    tracked = sorted(set(start) & set(end), key=lambda p: (len(p), p))
    for product in tracked:
        expected = start[product] + moved[product]
        if end[product] != expected:
            items.append({"producto_id": product, "start": start[product], "acknowledged": moved[product],
                          "expected": expected, "end": end[product], "difference": end[product] - expected,
                          "problem": f"stock {end[product]}, expected {start[product]} {moved[product]:+d} "
                                     f"= {expected} ({end[product] - expected:+d})"})
    values = {"products": len(tracked), "movements": len(movements), "inconsistent": len(items)}
    if items:
        return Judgement("FAIL", f"{len(items)} inconsistenc{'y' if len(items) == 1 else 'ies'}: "
                         + "; ".join(f"product {i['producto_id']}: {i['problem']}" for i in items[:3]), values, [], items)
    return Judgement("PASS", f"{values['movements']} acknowledged movements match the stock of "
                     f"{values['products']} products", values)


def _unique_movements(entries: Iterable[Any]) -> Iterable[Any]:
    """Acknowledged movements, a replayed one (same movimiento_id or idempotency key) counted once."""
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        key = ("id", entry["movimiento_id"]) if entry["movimiento_id"] else ("key", entry["idempotency_key"])
        if key[1] is not None and key in seen:
            continue
        seen.add(key)
        yield entry


@evaluate_kind.register
def _metric(rule: MetricRule, data: RunData) -> Judgement:
    samples = [m for m in sorted(data.metrics, key=lambda m: m["t"])
               if rule.service in (None, m["service"]) and m["error"] is None and rule.metric in m["values"]]
    needed = 2 if rule.aggregate == "increase" else 1
    failed = [record_item(m) for m in data.metrics if m["error"] is not None and rule.service in (None, m["service"])]
    if len(samples) < needed:
        return Judgement("NO_DATA", f"{len(samples)} scrape(s) with {rule.metric}, need {needed}",
                         {"samples": len(samples), "failed_scrapes": len(failed)}, [], failed)
    series = [m["values"][rule.metric] for m in samples]
    value = {"increase": series[-1] - series[0], "max": max(series), "last": series[-1]}[rule.aggregate]
    held = value < rule.below if rule.below is not None else value <= (rule.at_most or 0.0)
    bound = f"below {rule.below:g}" if rule.below is not None else f"at most {rule.at_most:g}"
    values = {rule.aggregate: value, "samples": len(samples), "first": series[0], "last": series[-1]}
    return Judgement("PASS" if held else "FAIL", f"{rule.metric} {rule.aggregate} {value:g} over "
                     f"{len(samples)} scrapes; must be {bound}", values, [], failed)


@evaluate_kind.register
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
