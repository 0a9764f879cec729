"""§11 R6: the Trivy report lists no CRITICAL or HIGH vulnerability.

The checklist has a person read the CI log; smoke reads the JSON report Trivy writes
(``trivy fs --format json``) given with ``--trivy-report``. Without one there is no data, which
is never a silent pass. A report that cannot be read is the user's to fix: one line, exit 2.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from scenarios.scenario_errors import ScenarioError
from scenarios.smoke.context import SmokeContext
from scenarios.smoke.outcome import CheckOutcome, FindingDraft
from scenarios.smoke.registry import smoke_check

CHECK = "r6_trivy"
SECTION = "§11 R6"
BLOCKING = ("CRITICAL", "HIGH")
LISTED_IDS = 10


class TrivyReportInvalid(ScenarioError):
    """The ``--trivy-report`` file is missing, unreadable or not a Trivy JSON report."""


class _TrivyModel(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class TrivyVulnerability(_TrivyModel):
    """One entry of a result's ``Vulnerabilities``: an object whose ``Severity`` is a string."""

    Severity: str
    VulnerabilityID: str | None = None


class TrivyResult(_TrivyModel):
    """One object of ``Results``: a scanned target and its (optional) vulnerabilities."""

    Target: str = ""
    Vulnerabilities: list[TrivyVulnerability] | None = None


class TrivyReport(_TrivyModel):
    """The part of Trivy's JSON report (``trivy fs --format json``) R6 reads."""

    Results: list[TrivyResult]


def load_trivy_report(path: Path) -> list[dict[str, Any]]:
    """The vulnerabilities of a Trivy JSON report, each with its ``Target``; one-line error if the file
    is not a Trivy report by its schema (a ``Results`` list of objects, each with an optional
    ``Vulnerabilities`` list of objects holding a ``Severity`` string): anything else is no pass."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TrivyReportInvalid(f"--trivy-report: {path} does not exist") from None
    except IsADirectoryError:
        raise TrivyReportInvalid(f"--trivy-report: {path} is a directory, not a file") from None
    except OSError as exc:
        raise TrivyReportInvalid(f"--trivy-report: {path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise TrivyReportInvalid(f"--trivy-report: {path}: not text (not UTF-8)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TrivyReportInvalid(f"--trivy-report: {path}:{exc.lineno}: not JSON ({exc.msg})") from None
    except (ValueError, RecursionError) as exc:  # digits past Python's limit; nested too deeply
        raise TrivyReportInvalid(f"--trivy-report: {path}: not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("Results"), list):
        raise TrivyReportInvalid(f"--trivy-report: {path}: not a Trivy JSON report (no 'Results' list)")
    try:
        report = TrivyReport.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in error["loc"])
        raise TrivyReportInvalid(f"--trivy-report: {path}: not a Trivy JSON report ({where}: {error['msg']})") from None
    found: list[dict[str, Any]] = []
    for result in report.Results:
        for vulnerability in result.Vulnerabilities or []:
            found.append({**vulnerability.model_dump(), "Target": result.Target})
    return found


@smoke_check(CHECK, SECTION, order=11, label="R6 Trivy")
def check_trivy_report(context: SmokeContext) -> CheckOutcome:
    """R6 on the report given with ``--trivy-report`` (NO_DATA without one)."""
    return check_trivy(context.options.trivy_report)


def check_trivy(report: Path | None) -> CheckOutcome:
    if report is None:
        return CheckOutcome(CHECK, SECTION, "NO_DATA", "no Trivy report given (--trivy-report FILE)", [])
    vulnerabilities = load_trivy_report(report)
    by_severity = Counter(str(v.get("Severity", "UNKNOWN")).upper() for v in vulnerabilities)
    blocking = [v for v in vulnerabilities if str(v.get("Severity", "")).upper() in BLOCKING]
    counts = {severity: by_severity.get(severity, 0) for severity in BLOCKING}
    evidence: list[dict[str, Any]] = [{"request": f"read {report}", "counts": dict(by_severity)}]
    evidence += [{"id": v.get("VulnerabilityID"), "package": v.get("PkgName"), "severity": v.get("Severity"),
                  "installed": v.get("InstalledVersion"), "fixed": v.get("FixedVersion"), "target": v["Target"]}
                 for v in blocking[:LISTED_IDS]]
    problems, findings = [], []
    if blocking:
        ids = ", ".join(str(v.get("VulnerabilityID")) for v in blocking[:LISTED_IDS])
        problems.append(f"{counts['CRITICAL']} CRITICAL and {counts['HIGH']} HIGH vulnerabilities ({ids})")
        findings.append(FindingDraft("trivy_blocking_vulnerabilities", SECTION, "critical",
                                     f"R6: Trivy reports {counts['CRITICAL']} CRITICAL and {counts['HIGH']} HIGH",
                                     ids, str(report)))
    return CheckOutcome.from_problems(CHECK, SECTION, problems=problems, evidence=evidence, findings=findings,
                              ok_summary=f"no CRITICAL/HIGH among {len(vulnerabilities)} vulnerabilities")
