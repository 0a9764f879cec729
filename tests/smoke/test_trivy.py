"""R6 reads a Trivy JSON report: CRITICAL/HIGH fail with their ids, no report is no data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scenarios.smoke import TrivyReportInvalid
from scenarios.smoke.r6_trivy import check_trivy


def _vulnerability(vid: str, severity: str, package: str) -> dict[str, str]:
    return {"VulnerabilityID": vid, "PkgName": package, "InstalledVersion": "1.0", "FixedVersion": "1.1",
            "Severity": severity}


def test_critical_and_high_fail_with_their_ids(tmp_path: Path) -> None:
    report = tmp_path / "trivy.json"
    report.write_text(json.dumps({"SchemaVersion": 2, "Results": [
        {"Target": "requirements.txt", "Vulnerabilities": [
            _vulnerability("CVE-2024-0001", "CRITICAL", "python-jose"),
            _vulnerability("CVE-2024-0002", "MEDIUM", "jinja2")]},
        {"Target": "web_dashboard/requirements.txt", "Vulnerabilities": [
            _vulnerability("CVE-2024-0003", "HIGH", "pillow")]},
        {"Target": "Dockerfile", "Vulnerabilities": None}]}))

    outcome = check_trivy(report)

    assert outcome.status == "FAIL"
    assert outcome.summary == "1 CRITICAL and 1 HIGH vulnerabilities (CVE-2024-0001, CVE-2024-0003)"
    assert outcome.evidence[0]["counts"] == {"CRITICAL": 1, "MEDIUM": 1, "HIGH": 1}
    assert [f.id for f in outcome.findings] == ["trivy_blocking_vulnerabilities"]
    assert outcome.findings[0].severity == "critical"


def test_medium_only_passes_and_no_report_is_no_data(tmp_path: Path) -> None:
    report = tmp_path / "trivy.json"
    report.write_text(json.dumps({"Results": [{"Target": "x", "Vulnerabilities": [
        _vulnerability("CVE-2024-0002", "MEDIUM", "jinja2")]}]}))

    assert check_trivy(report).status == "PASS"
    assert (check_trivy(None).status, check_trivy(None).summary) == (
        "NO_DATA", "no Trivy report given (--trivy-report FILE)")


@pytest.mark.parametrize(("content", "after_path"), [
    (None, " does not exist"),
    ("[1, 2]", ": not a Trivy JSON report (no 'Results' list)"),
    ('{"Results": [', ":1: not JSON (Expecting value)"),
    ('{"Results": ["abc", 5]}', ": not a Trivy JSON report (Results.0: Input should be a valid dictionary or instance of TrivyResult)"),
    ('{"Results": [{"Vulnerabilities": 3}]}', ": not a Trivy JSON report (Results.0.Vulnerabilities: Input should be a valid list)"),
    ('{"Results": [{"Vulnerabilities": ["CVE-1"]}]}',
     ": not a Trivy JSON report (Results.0.Vulnerabilities.0: Input should be a valid dictionary or instance of TrivyVulnerability)"),
    ('{"Results": [{"Vulnerabilities": [{"Severity": 9}]}]}',
     ": not a Trivy JSON report (Results.0.Vulnerabilities.0.Severity: Input should be a valid string)"),
    ('{"Results": [{"Vulnerabilities": [{"VulnerabilityID": "CVE-1"}]}]}',
     ": not a Trivy JSON report (Results.0.Vulnerabilities.0.Severity: Field required)"),
    ("[" * 100_000, ": not JSON (RecursionError)"),
], ids=["missing", "not_trivy", "cut_json", "results_not_objects", "vulnerabilities_not_list",
        "vulnerability_not_object", "severity_not_text", "severity_missing", "nested"])
def test_unusable_report_is_one_line(tmp_path: Path, content: str | None, after_path: str) -> None:
    report = tmp_path / "trivy.json"
    if content is not None:
        report.write_text(content)

    with pytest.raises(TrivyReportInvalid) as raised:
        check_trivy(report)

    assert str(raised.value) == f"--trivy-report: {report}{after_path}"
