"""§6 health: every service and the gateway answer their health route, and say they are healthy.

The status code is not enough (docs/as-built.md §11): the dashboard keeps answering 200 with
``"database": "error"``, so a body that reports itself unhealthy fails too. Where the profile says
``/health`` needs a JWT (the as-built agents), the unauthenticated probe the checklist and compose
use is tried first and its failure becomes a finding, then the service is probed with a token;
where every such service answers healthy without credentials, the profile's declared gap
``health_needs_jwt`` is reported back as not observed.
"""

from __future__ import annotations

import time
from typing import Any

from scenarios.smoke.context import SmokeContext
from scenarios.smoke.exchange import Exchange
from scenarios.smoke.outcome import CheckOutcome, FindingDraft
from scenarios.smoke.registry import smoke_check
from scenarios.target.profiles import AGENTS, Profile, ServiceSpec
from stagegate_core import stream
from stagegate_core.stream import HealthTransition

CHECK = "health"
SECTION = "§6 Health"
HEALTH_NEEDS_JWT = "health_needs_jwt"
UNHEALTHY_WORDS = ("unhealthy", "error", "down", "degraded", "disconnected")


def body_problem(exchange: Exchange) -> str | None:
    """What the body of a 2xx health answer admits to (``status unhealthy``, ``database error``)."""
    body = exchange.json()
    if not isinstance(body, dict):
        return None
    for key in ("status", "database"):
        value = body.get(key)
        if isinstance(value, str) and value.lower() in UNHEALTHY_WORDS:
            return f"body says {key} {value!r}"
    return None


def _verdict(exchange: Exchange, ok_statuses: list[int]) -> str | None:
    if exchange.status is None:
        return exchange.outcome()
    if exchange.status not in ok_statuses:
        return f"status {exchange.status}" + (f": {exchange.excerpt(60)}" if exchange.body else "")
    return body_problem(exchange)


def _probe_service(context: SmokeContext, name: str, spec: ServiceSpec, base_url: str, path: str,
                   evidence: list[dict[str, Any]], unauth_failures: list[str],
                   open_without: dict[str, str]) -> tuple[str | None, Exchange]:
    """Probe one health route; return the problem (None when healthy) and the deciding exchange.
    ``open_without`` collects the services the profile says need credentials that were healthy without."""
    url = base_url + path
    plain = context.request("GET", url, label=f"{name} health")
    problem = _verdict(plain, spec.health_ok_statuses)
    if spec.health_auth == "none" or plain.status is None:
        evidence.append(plain.evidence(ok=problem is None))
        return problem, plain
    if problem is None:
        evidence.append(plain.evidence(ok=True))
        open_without[name] = f"GET {path} -> {plain.status}"
        return None, plain
    evidence.append(plain.evidence(ok=False, note="unauthenticated probe, as compose and curl -f do"))
    unauth_failures.append(f"{name} {path} without credentials: {problem}")
    headers = context.bearer(name) if spec.health_auth == "jwt" else context.api_key()
    authed = context.request("GET", url, label=f"{name} health with {spec.health_auth}", headers=headers)
    problem = _verdict(authed, spec.health_ok_statuses)
    evidence.append(authed.evidence(ok=problem is None))
    return problem, authed


def health_record(check: str, problem: str | None, exchange: Exchange) -> HealthTransition:
    """The stream's ``health`` observation of one check (the analysis's health rules read these)."""
    return stream.health_record(time.time(), check=check, ok=problem is None, status=exchange.status,
                  detail=problem or f"{exchange.status}", latency_ms=round(exchange.elapsed_ms, 1))


@smoke_check(CHECK, SECTION, order=6, label="health")
def check_health(context: SmokeContext) -> CheckOutcome:
    profile = context.profile
    evidence: list[dict[str, Any]] = []
    problems: list[str] = []
    unauth_failures: list[str] = []
    records: list[HealthTransition] = []
    open_without: dict[str, str] = {}
    for name, spec in profile.services.items():
        problem, exchange = _probe_service(context, name, spec, spec.url, spec.health_path, evidence,
                                           unauth_failures, open_without)
        records.append(health_record(name, problem, exchange))
        if problem:
            problems.append(f"{name} unhealthy ({problem})")
    gateway = profile.gateway
    if gateway is not None:
        exchange = context.request("GET", gateway.url + gateway.health_path, label="gateway health")
        problem = _verdict(exchange, [200])
        evidence.append(exchange.evidence(ok=problem is None))
        if problem:
            problem = f"gateway unhealthy ({problem})"
        prefix = gateway.routes.get("deposito")
        if prefix is not None and exchange.status is not None:
            spec = profile.services["deposito"]
            proxied, exchange = _probe_service(context, "deposito", spec, gateway.url, prefix + spec.health_path,
                                               evidence, unauth_failures, open_without)
            if proxied and not problem:
                problem = f"gateway {prefix}{spec.health_path} unhealthy ({proxied})"
        records.append(health_record("gateway", problem, exchange))
        if problem:
            problems.append(problem)
    findings = []
    refused = [record["check"] for record in records
               if record["check"] in AGENTS and record["detail"] == "connection refused"]
    if refused:
        findings.append(FindingDraft(
            "agents_do_not_start", "§5 Deploy", "critical", f"health: {', '.join(refused)} refuse connections",
            "; ".join(f"GET {profile.url(agent, profile.services[agent].health_path)}: connection refused"
                      for agent in refused), "checklist §6"))
    if unauth_failures:
        findings.append(FindingDraft(
            HEALTH_NEEDS_JWT, SECTION, "major",
            "health: /health requires a token, so unauthenticated healthchecks fail",
            "; ".join(unauth_failures), "docs/as-built.md §2.1-§2.3, §8 blocker 4"))
    checked = len(profile.services) + (2 if gateway is not None else 0)
    warnings = [f"healthy only with credentials: {'; '.join(unauth_failures)}"] if unauth_failures else []
    return CheckOutcome.from_problems(CHECK, SECTION, problems=problems, warnings=warnings, evidence=evidence,
                              findings=findings, records=records, ok_summary=f"all {checked} health routes healthy",
                              not_observed=_open_health(profile, open_without))


def _open_health(profile: Profile, open_without: dict[str, str]) -> dict[str, str]:
    """``health_needs_jwt`` contradicted: every service whose health the profile guards answered healthy without."""
    guarded = {name for name, spec in profile.services.items() if spec.health_auth != "none"}
    if not guarded or not guarded <= set(open_without):
        return {}
    return {HEALTH_NEEDS_JWT: "healthy without credentials: " + ", ".join(
        f"{name} {answer}" for name, answer in sorted(open_without.items()))}
