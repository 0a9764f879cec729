"""§10 R4: the configured inflation rate is read at start-up and applied to predictions.

Two pieces of evidence: the ML start-up log line (``predict.log_pattern``, where the log is
reachable) and a prediction, whose rate (``predict.rate_field`` in ``rate_format``) must be the
configured one and whose adjustment, where the contract returns it, must be
``(1 + rate) ** (days / 30) - 1``. A rate of 0 or an adjustment of 0 is "inflation ignored". The
prediction is judged by ``scenarios.target.classify.classify_inflation``, the same judgement (and tolerance)
the load applies to every prediction; the log line's rate is held to the same tolerance.
"""

from __future__ import annotations

import math
import re
from typing import Any

from scenarios.smoke.context import SmokeContext
from scenarios.smoke.outcome import CheckOutcome, FindingDraft
from scenarios.smoke.registry import smoke_check
from scenarios.target.classify import RATE_TOLERANCE, classify_inflation, read_rate
from scenarios.target.discovery import fill, placeholders
from scenarios.target.profiles import PredictSpec

CHECK = "r4_inflation"
SECTION = "§10 R4"


def rate_in_log(lines: list[str], pattern: str) -> tuple[float | None, str | None]:
    """The rate of the last start-up line matching ``pattern`` (group ``rate`` or ``percent``)."""
    regex = re.compile(pattern)
    for line in reversed(lines):
        match = regex.search(line)
        if match:
            groups = match.groupdict()
            if groups.get("percent") is not None:
                return float(groups["percent"]) / 100, line.strip()
            if groups.get("rate") is not None:
                return read_rate(float(groups["rate"]), "fraction"), line.strip()
            return None, line.strip()
    return None, None


def _log_part(context: SmokeContext, spec: PredictSpec, problems: list[str], evidence: list[dict[str, Any]],
              findings: list[FindingDraft]) -> None:
    source = context.logs.get(spec.service)
    if source is None:
        evidence.append({"request": f"{spec.service} start-up log", "note": "no log reachable; log part skipped"})
        return
    rate, line = rate_in_log(source.everything(), spec.log_pattern)
    evidence.append({"request": f"grep /{spec.log_pattern}/ in {source.where}", "line": line, "rate": rate})
    if line is None:
        problems.append(f"no start-up line matching /{spec.log_pattern}/ in {source.where}")
        findings.append(FindingDraft("inflation_log_missing", SECTION, "major",
                                     "R4: the ML start-up log does not show the configured inflation rate",
                                     f"no line matching /{spec.log_pattern}/ in {source.where}", "checklist §10"))
    elif rate is None or not math.isclose(rate, spec.expected_rate, abs_tol=RATE_TOLERANCE):
        problems.append(f"start-up log shows rate {rate} (expected {spec.expected_rate:g}): {line[:120]}")


def _response_part(context: SmokeContext, spec: PredictSpec, problems: list[str], unreachable: list[str],
                   evidence: list[dict[str, Any]], findings: list[FindingDraft]) -> None:
    body = fill(spec.json_body, context.placeholder_values())
    if placeholders(body):
        why = next((f.evidence for f in context.setup_findings if f.id.startswith("discovery_")),
                   "the deployment listed none")
        unreachable.append(f"no discovered product to predict for ({why})")
        return
    exchange = context.request(spec.method, context.profile.url(spec.service, spec.path), label="prediction",
                               headers=context.bearer(spec.service), json=body)
    evidence.append(exchange.evidence())
    if not exchange.answered:
        (unreachable if exchange.transport else problems).extend(context.unreachable([exchange]))
        return
    if exchange.status != 200:
        problems.append(f"{spec.method} {spec.path} answered {exchange.status}" + (
            f": {exchange.excerpt(80)}" if exchange.body else ""))
        if spec.missing and exchange.status in (404, 405, 422):
            findings.append(FindingDraft("predict_contract_differs", SECTION, "major",
                                         f"R4: {spec.method} {spec.path} answered {exchange.status}",
                                         f"{exchange.request} -> {exchange.status}; {spec.missing}",
                                         "docs/as-built.md §5, §10"))
        return
    reading = classify_inflation(exchange.json(), body, spec)
    evidence[-1].update(rate_field=spec.rate_field, rate=reading.raw_rate)
    if spec.adjustment_field:
        expected = None if reading.expected_adjustment is None else round(reading.expected_adjustment, 6)
        evidence[-1].update(adjustment=reading.adjustment, expected_adjustment=expected)
    ignored = " (inflation ignored)" if reading.ignored else ""
    problems += [f"response {problem}{ignored}" for problem in reading.problems[:1]]
    problems += [f"response {problem}" for problem in reading.problems[1:]]
    if reading.rate_wrong:
        findings.append(FindingDraft("inflation_not_applied", SECTION, "critical",
                                     f"R4: predictions use inflation {reading.raw_rate!r} instead of "
                                     f"{spec.expected_rate:g}",
                                     f"{exchange.request} -> {spec.rate_field}={reading.raw_rate!r}", "checklist §10"))


@smoke_check(CHECK, SECTION, order=10, label="R4 inflation")
def check_inflation(context: SmokeContext) -> CheckOutcome:
    spec = context.profile.predict
    problems: list[str] = []
    evidence: list[dict[str, Any]] = []
    findings: list[FindingDraft] = []
    unreachable: list[str] = []
    _log_part(context, spec, problems, evidence, findings)
    _response_part(context, spec, problems, unreachable, evidence, findings)
    return CheckOutcome.from_problems(CHECK, SECTION, problems=problems, evidence=evidence, findings=findings,
                              could_not_look=unreachable,
                              ok_summary=f"rate {spec.expected_rate:g} in the start-up log and applied to "
                                         f"{spec.method} {spec.path}")
