"""§10 R4: the configured inflation rate is read at start-up and applied to predictions.

Two pieces of evidence: the ML start-up log line (``predict.log_pattern``, where the log is
reachable) and a prediction, whose rate (``predict.rate_field`` in ``rate_format``) must be the
configured one and whose adjustment, where the contract returns it, must be
``(1 + rate) ** (days / 30) - 1``. A rate of 0 or an adjustment of 0 is "inflation ignored".
"""

from __future__ import annotations

import math
import re
from typing import Any

from scenarios.profiles import PredictSpec
from scenarios.smoke._context import SmokeContext
from scenarios.smoke._outcome import CheckOutcome, FindingDraft

CHECK = "r4_inflation"
SECTION = "§10 R4"
RATE_TOLERANCE = 5e-4
"""``"4.5%"`` carries one decimal of a percent: 0.0005 of a fraction."""
ADJUSTMENT_REL_TOLERANCE = 1e-3


def read_rate(value: Any, rate_format: str) -> float | None:
    """The rate as a fraction (0.045) from ``0.045``, ``4.5`` (read as percent) or ``"4.5%"``."""
    if isinstance(value, str):
        text = value.strip().rstrip("%").strip()
        try:
            number = float(text)
        except ValueError:
            return None
        return number / 100 if rate_format == "percent_string" or value.strip().endswith("%") else number
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 100 if float(value) >= 1 else float(value)
    return None


def dotted(body: Any, path: str) -> Any:
    """``body["a"]["b"]`` for ``"a.b"``; None when any step is missing."""
    for key in path.split("."):
        if not isinstance(body, dict) or key not in body:
            return None
        body = body[key]
    return body


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


def _response_part(context: SmokeContext, spec: PredictSpec, problems: list[str],
                   evidence: list[dict[str, Any]], findings: list[FindingDraft]) -> None:
    exchange = context.request(spec.method, context.profile.url(spec.service, spec.path), label="prediction",
                               headers=context.bearer(spec.service), json=spec.json_body)
    evidence.append(exchange.evidence())
    if not exchange.answered:
        problems += context.unreachable([exchange])
        return
    if exchange.status != 200:
        problems.append(f"{spec.method} {spec.path} answered {exchange.status}" + (
            f": {exchange.excerpt(80)}" if exchange.body else ""))
        if spec.missing and exchange.status in (404, 405, 422):
            findings.append(FindingDraft("predict_contract_differs", SECTION, "major",
                                         f"R4: {spec.method} {spec.path} answered {exchange.status}",
                                         f"{exchange.request} -> {exchange.status}; {spec.missing}",
                                         "as-built.md §4, §10"))
        return
    body = exchange.json()
    raw_rate = dotted(body, spec.rate_field)
    rate = read_rate(raw_rate, spec.rate_format)
    evidence[-1].update(rate_field=spec.rate_field, rate=raw_rate)
    if rate is None:
        problems.append(f"response has no readable {spec.rate_field} (got {raw_rate!r})")
        return
    if rate == 0 or not math.isclose(rate, spec.expected_rate, abs_tol=RATE_TOLERANCE):
        ignored = " (inflation ignored)" if rate == 0 else ""
        problems.append(f"response {spec.rate_field} = {raw_rate!r}, expected {spec.expected_rate:g}{ignored}")
        findings.append(FindingDraft("inflation_not_applied", SECTION, "critical",
                                     f"R4: predictions use inflation {raw_rate!r} instead of {spec.expected_rate:g}",
                                     f"{exchange.request} -> {spec.rate_field}={raw_rate!r}", "checklist §10"))
    if spec.adjustment_field:
        _adjustment(spec, dotted(body, spec.adjustment_field), rate, problems, evidence)


def _adjustment(spec: PredictSpec, raw: Any, rate: float, problems: list[str],
                evidence: list[dict[str, Any]]) -> None:
    days = spec.json_body.get(spec.days_field, 30)
    expected = (1 + rate) ** (float(days) / 30) - 1
    evidence[-1].update(adjustment=raw, expected_adjustment=round(expected, 6))
    if not isinstance(raw, int | float) or isinstance(raw, bool):
        problems.append(f"response has no numeric {spec.adjustment_field} (got {raw!r})")
    elif not math.isclose(float(raw), expected, rel_tol=ADJUSTMENT_REL_TOLERANCE, abs_tol=1e-6):
        ignored = " (inflation ignored)" if float(raw) == 0 else ""
        problems.append(f"{spec.adjustment_field} = {raw:g}, expected {expected:.6f} for rate {rate:g} over "
                        f"{days} days{ignored}")


def check_inflation(context: SmokeContext) -> CheckOutcome:
    spec = context.profile.predict
    problems: list[str] = []
    evidence: list[dict[str, Any]] = []
    findings: list[FindingDraft] = []
    _log_part(context, spec, problems, evidence, findings)
    _response_part(context, spec, problems, evidence, findings)
    return CheckOutcome.judge(CHECK, SECTION, problems=problems, evidence=evidence, findings=findings,
                              ok_summary=f"rate {spec.expected_rate:g} in the start-up log and applied to "
                                         f"{spec.method} {spec.path}")
