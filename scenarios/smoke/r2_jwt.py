"""§8 R2: each agent accepts its own token and refuses every forged or cross-agent one with 401/403.

Every case of the token catalogue goes to the agent it targets, on a JWT-protected route of that
agent (negocio's ``/api/productos``, the checklist's probe target, where the profile has it). Each
answer is classified by ``scenarios.target.classify.classify_token``, as the load's token forger does: a
good answer of the route on a forged token is a breach, any status but 401/403 a wrong rejection;
both are rollback triggers. An agent that cannot be reached (refused, reset) is not judged: the
check says it could not look (NO_DATA) and the health check names the agent down. Where the
agents' logs are reachable, a token refused only for its ``iss`` must leave an ``issuer mismatch`` line. Each case also becomes a ``token`` record for the analysis.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from generators import TokenCase
from scenarios.smoke.context import SmokeContext
from scenarios.smoke.exchange import Exchange
from scenarios.smoke.outcome import CheckOutcome, FindingDraft, Severity
from scenarios.smoke.registry import smoke_check
from scenarios.target.classify import Classified, classify_token
from scenarios.target.discovery import fill, placeholders
from scenarios.target.profiles import AGENTS, Profile
from stagegate_core.stream import Record, TokenResult, token_record

CHECK = "r2_jwt_isolation"
SECTION = "§8 R2"
CHECKLIST_PROBE = "negocio_products"
"""The checklist's cross-agent probe: ``GET :8002/api/productos`` with a deposito token."""
ISSUER_ONLY_ATTACK = "shared_secret_wrong_iss"
LISTED_CASES = 12


@dataclass(frozen=True)
class Probe:
    """The protected route a token is presented on."""

    method: str
    path: str
    params: dict[str, str]
    json_body: dict[str, Any] | None
    ok_statuses: tuple[int, ...] = (200,)
    """What the route answers once the token is accepted (as-built negocio's price lookup: 200 or 404)."""


def probe_route(profile: Profile, agent: str, values: Mapping[str, Any] | None = None) -> Probe:
    """A JWT-protected route of ``agent`` that exists in this contract.

    A GET call of the profile where the agent has one whose placeholders ``values`` (what discovery
    found on the deployment) can fill; else its ``/health`` when that needs a JWT (as-built ml,
    whose ``/predict/demanda`` checks no token at all); else the prediction.
    """
    values = values or {}
    names = [CHECKLIST_PROBE] if agent == "negocio" else []
    names += [name for name in profile.calls if name != CHECKLIST_PROBE]
    for name in names:
        call = profile.calls.get(name)
        if (call and call.service == agent and call.auth == "jwt" and call.method == "GET" and not call.missing
                and placeholders([call.path, call.query]) <= set(values)):
            return Probe("GET", fill(call.path, values), {key: str(fill(value, values)) for key, value in call.query.items()},
                         None, tuple(call.ok_statuses))
    spec = profile.services[agent]
    if spec.health_auth == "jwt" or profile.predict.service != agent:
        return Probe("GET", spec.health_path, {}, None, tuple(spec.health_ok_statuses))
    return Probe(profile.predict.method, profile.predict.path, {}, fill(profile.predict.json_body, values))


def classify(case: TokenCase, exchange: Exchange, probe: Probe) -> Classified[TokenResult]:
    """The case's answer, classified as the load classifies it (the probe's good statuses count as accepted)."""
    return classify_token(exchange.status, rejected_statuses=case.expected_statuses,
                          control=case.expect == "accept", accepted_statuses=probe.ok_statuses,
                          exception=exchange.exception)


def _present(context: SmokeContext, agent: str, token: str, label: str, probe: Probe) -> Exchange:
    return context.request(probe.method, context.profile.url(agent, probe.path), label=label,
                           headers={"Authorization": f"Bearer {token}"}, params=probe.params or None,
                           json=probe.json_body)


def _headline_first(hit: tuple[TokenCase, Exchange, Probe]) -> tuple[bool, bool]:
    """The checklist's own scenario leads: a cross-agent token presented to negocio."""
    case = hit[0]
    return case.target != "negocio", case.attack != "cross_agent"


def _finding(finding_id: str, what: str, hits: list[tuple[TokenCase, Exchange, Probe]], expected: str,
             severity: Severity) -> FindingDraft:
    hits = sorted(hits, key=_headline_first)
    case, exchange, probe = hits[0]
    more = f" (and {len(hits) - 1} more cases)" if len(hits) > 1 else ""
    answer = exchange.status if exchange.status is not None else exchange.error
    title = (f"R2: {case.attack.replace('_', '-')} token answered {answer} (expected {expected}) on "
             f"{case.target} {probe.path}{more}")
    evidence = "; ".join(f"{c.id}: {e.request} -> {e.outcome()}" for c, e, _ in hits[:LISTED_CASES])
    return FindingDraft(finding_id, SECTION, severity, title, f"{what}: {evidence}",
                        "checklist §8, docs/contract.md §3")


def _issuer_log(context: SmokeContext, rejected_iss_only: set[str], problems: list[str],
                evidence: list[dict[str, Any]], findings: list[FindingDraft]) -> None:
    phrase = context.profile.logs.issuer_mismatch
    if not phrase or context.profile.logs.missing or context.profile.auth.claims != "iss":
        return
    for agent in sorted(rejected_iss_only):
        source = context.logs.get(agent)
        if source is None:
            continue
        lines = [line for line in source.since_mark() if phrase.lower() in line.lower()]
        evidence.append({"request": f"grep '{phrase}' in {source.where}", "lines": len(lines),
                         "example": context.redact(lines[0])[:160] if lines else None})
        if not lines:
            problems.append(f"{agent} refused a token with a foreign iss but logged no '{phrase}'")
            findings.append(FindingDraft("issuer_mismatch_not_logged", SECTION, "major",
                                         f"R2: {agent} logs no '{phrase}' line for a token with a foreign iss",
                                         f"{source.where}: no line matching '{phrase}' after "
                                         f"{ISSUER_ONLY_ATTACK}__*_to_{agent}", "checklist §8 step 4"))


@dataclass
class _Sent:
    """Every case presented, by result, with what the check needs afterwards."""

    probes: dict[str, Probe]
    results: dict[str, list[tuple[TokenCase, Exchange, Probe]]] = field(default_factory=dict)
    records: list[Record] = field(default_factory=list)
    evidence: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)
    rejected_iss_only: set[str] = field(default_factory=set)

    def counts(self) -> dict[str, int]:
        return {result: len(hits) for result, hits in self.results.items()}


def _cases_for(context: SmokeContext, agent: str, sent: _Sent) -> list[TokenCase]:
    """The catalogue's cases for ``agent``, led by its login token where smoke logged in."""
    cases = context.catalogue.for_target(agent)
    grant = context.tokens.grant(agent)
    if grant.login is not None:
        sent.evidence.append(grant.login.evidence(token_from=grant.how))
    if grant.how == "login":
        control = context.catalogue.case(f"control__{agent}")
        cases.insert(0, control.model_copy(update={"id": f"login_control__{agent}", "token": grant.token}))
    return cases


def _send_all(context: SmokeContext, sent: _Sent) -> None:
    for agent in AGENTS:
        probe = sent.probes[agent]
        for case in _cases_for(context, agent, sent):
            exchange = _present(context, agent, case.token, case.id, probe)
            answer = classify(case, exchange, probe)
            result = answer.result
            sent.results.setdefault(result, []).append((case, exchange, probe))
            sent.records.append(token_record(time.time(), case_id=case.id, target=agent, status=exchange.status,
                                       result=result, severity=case.severity,
                                       detail=f"{probe.method} {probe.path} -> {answer.detail}"))
            if case.expect == "accept":
                sent.evidence.append(exchange.evidence(case=case.id, result=result))
            if result == "rejected" and case.attack == ISSUER_ONLY_ATTACK:
                sent.rejected_iss_only.add(agent)
            if not exchange.answered:  # a dead or hanging agent: one line, not a timeout per case
                (sent.unreachable if result == "transport" else sent.problems).extend(context.unreachable([exchange]))
                break


def _problems_from_results(profile: Profile, sent: _Sent, findings: list[FindingDraft]) -> None:
    """Problems and findings from the results: refused controls, breaches, wrong rejections."""
    rejected_statuses = "/".join(str(s) for s in profile.auth.rejected_statuses)
    if control_refused := sent.results.get("control_refused", []):
        sent.problems.append("control token refused by " + ", ".join(
            f"{c.target} ({e.outcome()})" for c, e, _ in control_refused))
    kinds: list[tuple[str, str, str]] = [
        ("breach", "jwt_forged_accepted", "accepted"),
        ("wrong_rejection", "jwt_wrong_rejection", f"answered with other than {rejected_statuses}")]
    for result, finding_id, what in kinds:
        hits = sent.results.get(result, [])
        if not hits:
            continue
        by_target = Counter(c.target for c, _, _ in hits)
        sent.problems.append(f"{len(hits)} forged/cross-agent token{'s' if len(hits) > 1 else ''} {what} ("
                             + ", ".join(f"{t}: {n}" for t, n in sorted(by_target.items())) + ")")
        findings.append(_finding(finding_id, what, hits, rejected_statuses, "critical"))
        sent.evidence += [e.evidence(case=c.id, result=result) for c, e, _ in hits[:LISTED_CASES]]
    checklist_probe = profile.calls.get(CHECKLIST_PROBE)
    if checklist_probe is not None and checklist_probe.missing:
        findings.append(FindingDraft("cross_agent_target_missing", SECTION, "minor",
                                     f"R2: the checklist's probe target {checklist_probe.path} does not exist on "
                                     f"negocio; tokens went to {sent.probes['negocio'].path}",
                                     checklist_probe.missing, "docs/as-built.md §10"))


@smoke_check(CHECK, SECTION, order=8, label="R2 JWT isolation")
def check_jwt_isolation(context: SmokeContext) -> CheckOutcome:
    profile = context.profile
    values = context.placeholder_values()
    sent = _Sent({agent: probe_route(profile, agent, values) for agent in AGENTS})
    findings: list[FindingDraft] = [*context.tokens.findings(), *context.setup_findings]
    _send_all(context, sent)
    _problems_from_results(profile, sent, findings)
    _issuer_log(context, sent.rejected_iss_only, sent.problems, sent.evidence, findings)
    counts = sent.counts()
    context.provoked["jwt_rejections"] = counts.get("rejected", 0) + counts.get("wrong_rejection", 0)
    sent.evidence.insert(0, {"request": f"{sum(counts.values())} catalogue cases to {', '.join(AGENTS)}",
                             "counts": counts,
                             "routes": {agent: f"{p.method} {p.path}" for agent, p in sent.probes.items()}})
    rejected_statuses = "/".join(str(s) for s in profile.auth.rejected_statuses)
    return CheckOutcome.from_problems(CHECK, SECTION, problems=sent.problems, evidence=sent.evidence, findings=findings,
                              records=sent.records, could_not_look=sent.unreachable,
                              ok_summary=f"controls accepted; {counts.get('rejected', 0)} forged/cross-agent "
                                         f"tokens refused with {rejected_statuses}")
