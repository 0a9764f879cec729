"""§12 metrics: the dashboard's Prometheus counters move the way a healthy service's do.

Two scrapes with the API key around one request to each dashboard page and API path:
``requests_total`` must grow, ``errors_total`` must not (no 5xx on ordinary traffic), and the p95
gauge must be under 500 ms. A metric the profile names but the scrape lacks is a FAIL and a
finding (the as-built dashboard has no p95 gauge at all); so is a scrape the dashboard answers
with anything but Prometheus text. A scrape that got no answer (the dashboard unreachable) is
NO_DATA: the check could not look. A p95 gauge found where the profile declares it absent is
reported back (``not_observed``) so the declared gap is not stated as a fact.
"""

from __future__ import annotations

import time
from typing import Any

from scenarios.smoke.context import SmokeContext
from scenarios.smoke.exchange import Exchange
from scenarios.smoke.outcome import CheckOutcome, FindingDraft
from scenarios.smoke.registry import smoke_check
from scenarios.target.deployment_facts import prometheus_values
from stagegate_core.stream import Record, metrics_record

CHECK = "metrics"
SECTION = "§12 Metrics"
P95_LIMIT_MS = 500.0
"""The checklist's ``dashboard_request_duration_ms_p95 < 500ms``."""
P95_ABSENT = "p95_metric_absent"
"""The finding (and the as-built profile's declared gap) of a scrape without the p95 gauge."""


def _scrape(context: SmokeContext, wanted: list[str], label: str) -> tuple[Exchange, dict[str, float], str | None]:
    exchange = context.request("GET", context.profile.url("dashboard", context.profile.dashboard.metrics.path),
                               label=label, headers=context.api_key())
    if exchange.status != 200:
        return exchange, {}, f"dashboard {label}: {exchange.outcome()}"
    try:
        return exchange, prometheus_values(exchange.body, wanted), None
    except ValueError as exc:
        return exchange, {}, f"{label}: not Prometheus text ({exc})"


def _ordinary_traffic(context: SmokeContext) -> None:
    """One request to each dashboard page and API path (with the key): what the counters must show."""
    dashboard = context.profile.dashboard
    for page in dashboard.pages:
        context.request("GET", context.profile.url("dashboard", page), label=f"page {page} between the scrapes")
    for path in dashboard.api_paths:
        context.request("GET", context.profile.url("dashboard", path), label=f"{path} between the scrapes",
                        headers=context.api_key())


@smoke_check(CHECK, SECTION, order=12, label="metrics")
def check_metrics(context: SmokeContext) -> CheckOutcome:
    spec = context.profile.dashboard.metrics
    wanted = [name for name in (spec.requests_total, spec.errors_total, spec.p95_ms, spec.uptime_s) if name]
    first, before, error_1 = _scrape(context, wanted, "first scrape")
    _ordinary_traffic(context)
    second, after, error_2 = _scrape(context, wanted, "second scrape")
    samples: list[Record] = [metrics_record(time.time(), service="dashboard", values=values, error=error)
               for values, error in ((before, error_1), (after, error_2))]
    evidence: list[dict[str, Any]] = [first.evidence(values=before), second.evidence(values=after)]
    if first.transport or second.transport:
        return CheckOutcome.from_problems(CHECK, SECTION, problems=[], evidence=evidence, records=samples,
                                  could_not_look=context.unreachable([first, second]), ok_summary="")
    if error_1 or error_2:
        return CheckOutcome(CHECK, SECTION, "FAIL", "; ".join(e for e in (error_1, error_2) if e), evidence,
                            records=samples)
    problems: list[str] = []
    findings: list[FindingDraft] = []
    seen: dict[str, str] = {}
    for name in (spec.requests_total, spec.errors_total):
        if name not in after:
            problems.append(f"{name} missing")
            findings.append(FindingDraft(f"metric_missing_{name}", SECTION, "major", f"metrics: {name} is absent",
                                         f"GET {spec.path} (with key) has no {name} sample", "checklist §12"))
    requests, errors = spec.requests_total, spec.errors_total
    if requests in after and requests in before and not after[requests] > before[requests]:  # NaN fails too
        problems.append(f"{requests} did not grow ({before[requests]:g} -> {after[requests]:g})")
    if errors in after and errors in before and after[errors] != before[errors]:
        problems.append(f"{errors} grew ({before[errors]:g} -> {after[errors]:g})")
    if spec.p95_ms is None or spec.p95_ms not in after:
        name = spec.p95_ms or "dashboard_request_duration_ms_p95"
        problems.append(f"{name} missing, so p95 < {P95_LIMIT_MS:g} ms cannot be checked")
        findings.append(FindingDraft(P95_ABSENT, SECTION, "major",
                                     f"metrics: {name} is absent, so the p95 < 500 ms check cannot be made",
                                     spec.p95_missing or f"GET {spec.path} (with key) has no {name} sample",
                                     "docs/as-built.md §6.1" if spec.p95_missing else "checklist §12"))
    else:
        seen[P95_ABSENT] = f"GET {spec.path} (with key) serves {spec.p95_ms} = {after[spec.p95_ms]:g} ms"
        if not after[spec.p95_ms] < P95_LIMIT_MS:  # NaN fails too
            problems.append(f"{spec.p95_ms} = {after[spec.p95_ms]:g} ms (limit {P95_LIMIT_MS:g})")
    summary = ", ".join(f"{name} {before.get(name, 0):g} -> {after.get(name, 0):g}" for name in wanted
                        if name in after)
    return CheckOutcome.from_problems(CHECK, SECTION, problems=problems, evidence=evidence, findings=findings,
                              records=samples, ok_summary=summary, not_observed=seen)
