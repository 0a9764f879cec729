"""§13 security headers: on the dashboard, through the gateway, and on error answers.

Error answers are where headers most often go missing (the as-built 429 comes from a middleware
outside the one that adds them), so smoke provokes a 401 (no API key) and a 429 (one ``/api`` path
past the rate limit, bounded in count and time) and checks those too. HSTS is required when the
URL is HTTPS. A header absent from an answer is a FAIL naming the answer; an answer that never
came (the dashboard or gateway unreachable) is NO_DATA: the check could not look.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from scenarios.smoke.context import SmokeContext
from scenarios.smoke.exchange import Exchange, send
from scenarios.smoke.outcome import CheckOutcome, FindingDraft, Severity
from scenarios.smoke.registry import smoke_check

CHECK = "security_headers"
SECTION = "§13 Headers"
RATE_LIMIT_SLACK = 0.5
"""Requests past the profile's rate limit (as a share of it) before smoke gives up waiting for the 429:
earlier requests may have been answered otherwise (a 500) and not counted by the limiter."""
RATE_LIMIT_BUDGET_S = 15.0
PROBE_SOURCE = "127.0.0.2"
"""Source address of the rate-limit probe when the dashboard is on loopback: the limiter counts per
client IP, so the probe empties its own bucket and not the one the load phase then uses."""
WHERE = {"dashboard": "dashboard pages", "dashboard_api": "the dashboard API", "on_401": "401 answers",
         "on_429": "429 answers", "gateway": "the gateway"}


def missing_headers(context: SmokeContext, exchange: Exchange) -> list[str]:
    """The required headers this answer lacks or carries with another value."""
    spec = context.profile.headers
    required = dict(spec.required)
    if exchange.url.startswith("https://"):
        required.setdefault(spec.hsts_header, "")
    missing = []
    for name, value in required.items():
        got = exchange.headers.get(name)
        if got is None or not got.strip():
            missing.append(name)
        elif value and got.strip().lower() != value.lower():
            missing.append(f"{name} ({got!r}, expected {value!r})")
    return missing


def _probe_client(context: SmokeContext, url: str) -> httpx.Client | None:
    """A client sending from another loopback address, when the dashboard is on loopback."""
    host = urlsplit(url).hostname or ""
    try:
        address = ipaddress.ip_address("127.0.0.1" if host == "localhost" else host)
    except ValueError:
        return None
    if address.version != 4 or not address.is_loopback:
        return None
    return httpx.Client(transport=httpx.HTTPTransport(local_address=PROBE_SOURCE), timeout=context.client.timeout,
                        follow_redirects=False, trust_env=False)


def _provoke_429(context: SmokeContext, path: str) -> tuple[Exchange | None, int]:
    """Exceed the rate limit on one path (bounded); from its own source address on loopback.

    Against a remote dashboard the probe shares the harness's address, so that path stays
    limited for up to one rate-limit window after smoke.
    """
    dashboard = context.profile.dashboard
    url = context.profile.url("dashboard", path)
    deadline = time.monotonic() + RATE_LIMIT_BUDGET_S
    headers = context.api_key()
    probe = _probe_client(context, url)
    client = probe or context.client
    try:
        for sent in range(1, int(dashboard.rate_limit_max * (1 + RATE_LIMIT_SLACK)) + 1):
            exchange = send(client, "GET", url, redact=context.redact, label=f"rate limit probe #{sent}",
                            headers=headers)
            if exchange.status == dashboard.rate_limited_status or exchange.status is None:
                return exchange, sent
            if time.monotonic() > deadline:
                break
    finally:
        if probe is not None:
            probe.close()
    return None, sent


@smoke_check(CHECK, SECTION, order=13, label="security headers")
def check_headers(context: SmokeContext) -> CheckOutcome:
    profile = context.profile
    dashboard = profile.dashboard
    api_path = dashboard.api_paths[0]
    probes: list[tuple[str, Severity, Exchange]] = []
    for page in dashboard.pages:
        probes.append(("dashboard", "major", context.request("GET", profile.url("dashboard", page),
                                                              label=f"dashboard page {page}")))
    probes.append(("dashboard_api", "major", context.request("GET", profile.url("dashboard", api_path),
                                                             label="dashboard API with key",
                                                             headers=context.api_key())))
    problems: list[str] = []
    notes: list[str] = []
    if profile.headers.on_error_responses:
        unauthorized = context.request("GET", profile.url("dashboard", api_path), label="dashboard API without key")
        if unauthorized.status == dashboard.unauthorized_status:
            probes.append(("on_401", "major", unauthorized))
        elif unauthorized.answered:
            problems.append(f"{api_path} without API key answered {unauthorized.status} "
                            f"(expected {dashboard.unauthorized_status})")
            probes.append(("on_401", "major", unauthorized))
        limited, sent = _provoke_429(context, dashboard.api_paths[-1])
        if limited is not None:
            probes.append(("on_429", "major", limited))
        else:
            notes.append(f"no {dashboard.rate_limited_status} after {sent} requests to {dashboard.api_paths[-1]}, "
                         "so headers on rate-limited answers were not checked")
    if profile.gateway is not None:
        probes.append(("gateway", "major", context.request("GET", profile.url("gateway", "/"),
                                                           label="dashboard through the gateway")))
    evidence: list[dict[str, Any]] = []
    findings: list[FindingDraft] = []
    exchanges = [exchange for _, _, exchange in probes]
    problems += context.unreachable([exchange for exchange in exchanges if not exchange.transport])
    unreachable = context.unreachable([exchange for exchange in exchanges if exchange.transport])
    for where, severity, exchange in probes:
        if not exchange.answered:
            evidence.append(exchange.evidence())
            continue
        missing = missing_headers(context, exchange)
        seen = {name: exchange.headers.get(name) for name in profile.headers.required}
        evidence.append(exchange.evidence(headers=seen, missing=missing))
        if missing:
            text = f"{exchange.request} -> {exchange.status} lacks {', '.join(missing)}"
            problems.append(f"headers missing on {WHERE[where]}: {text}")
            findings.append(FindingDraft(f"security_headers_missing_{where}", SECTION, severity,
                                         f"headers: {', '.join(missing)} missing on {WHERE[where]}",
                                         text, "checklist §13"))
    return CheckOutcome.from_problems(CHECK, SECTION, problems=problems, warnings=notes, evidence=evidence,
                              findings=findings, could_not_look=unreachable,
                              ok_summary=f"security headers present on {len(probes)} answers "
                                         f"({', '.join(sorted({w for w, _, _ in probes}))})")
