"""The as-built profile against the as-built model: the run ends, every gap is a finding, R2 rolls back."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reference_stack._handle import StackHandle, running_stack
from scenarios.smoke import SmokeReport
from scenarios.target.profiles import load_profile
from tests.smoke.conftest import OCR_TIMEOUT_S, Done, outcome, smoke_on, statuses

RUNS_AS_ROOT = os.geteuid() == 0
"""This stack keeps the current user: under root, R1 sees root processes and must fail (its FAIL path)."""
AS_BUILT_OCR_SECONDS_PER_MB = 0.1
"""The served as-built route has no timeout and answers 500 only once OCR ends: keep that short."""


@pytest.fixture(scope="module")
def as_built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackHandle]:
    state_dir = tmp_path_factory.mktemp("as-built-stack")
    with running_stack(state_dir, contract="as-built", ocr_timeout_s=OCR_TIMEOUT_S,
                       ocr_seconds_per_mb=AS_BUILT_OCR_SECONDS_PER_MB) as handle:
        yield handle


@pytest.fixture(scope="module")
def report(as_built: StackHandle, tmp_path_factory: pytest.TempPathFactory) -> SmokeReport:
    return smoke_on(as_built, tmp_path_factory.mktemp("as-built-smoke"), profile="as-built")


def test_every_check_runs_to_the_end(report: SmokeReport) -> None:
    assert statuses(report) == {
        "health": "WARN", "r1_non_root": "FAIL" if RUNS_AS_ROOT else "PASS", "r2_jwt_isolation": "FAIL",
        "r3_ocr_timeout": "FAIL", "r4_inflation": "PASS", "r6_trivy": "NO_DATA", "metrics": "FAIL",
        "security_headers": "FAIL", "logs": "FAIL"}
    if RUNS_AS_ROOT:
        assert "deposito: process" in outcome(report, "r1_non_root").summary
        assert "runs as root" in outcome(report, "r1_non_root").summary


def test_every_declared_gap_is_a_finding(report: SmokeReport) -> None:
    found = {finding.id for finding in report.findings}
    assert {gap.id for gap in load_profile("as-built").gaps} <= found


def test_observed_gaps_carry_their_evidence(report: SmokeReport) -> None:
    findings = {finding.id: finding for finding in report.findings}

    assert findings["jwt_wrong_rejection"].title.startswith(
        "R2: cross-agent token answered 500 (expected 401/403) on negocio /precios/consultar")
    assert "status 403" in findings["health_needs_jwt"].evidence
    assert findings["health_needs_jwt"].reference == "docs/as-built.md §2.1-§2.3, §8 blocker 4"
    assert findings["p95_metric_absent"].severity == "major"
    assert "429 lacks Content-Security-Policy" in findings["security_headers_missing_on_429"].evidence
    assert findings["ocr_no_timeout"].title == "R3: heavy invoice answered 500 instead of 504 at the OCR timeout"
    assert "/api/productos" in findings["cross_agent_target_missing"].title
    assert findings["no_login_route"].evidence.startswith("no login route is served")
    assert "declared by profile as-built" in findings["agents_do_not_start"].evidence
    assert "(inflation ignored)" not in outcome(report, "r4_inflation").summary


def test_cli_verdict_is_rollback(as_built: StackHandle, tmp_path: Path, cli: Callable[..., Done]) -> None:
    done = cli("--profile", "as-built", "--target", "local", "--ocr-grace", "1",
                     "--results-dir", "out", STAGEGATE_STATE_DIR=str(as_built.state_dir))

    assert done.returncode == 1, done.stdout + done.stderr
    verdict = json.loads((tmp_path / "out" / "verdict.json").read_text())
    assert verdict["verdict"] == "ROLLBACK"
    failed = {rule["id"] for rule in verdict["rules"] if rule["status"] == "FAIL" and rule["role"] == "rollback"}
    assert failed == {"jwt_forged_accepted", "jwt_wrong_rejection"}
    assert len(verdict["findings"]) >= len(load_profile("as-built").gaps)


def test_agents_that_do_not_start_are_observed(tmp_path: Path) -> None:
    """As in reality (docs/as-built.md §1): the three agents refuse connections; smoke says so and goes on."""
    with running_stack(tmp_path / "stack", contract="as-built", ocr_timeout_s=OCR_TIMEOUT_S,
                       env={"STAGEGATE_AS_BUILT_NOT_STARTED": "deposito,negocio,ml"}) as not_started:
        report = smoke_on(not_started, tmp_path / "results", profile="as-built")

    found = statuses(report)
    assert (found["health"], found["r2_jwt_isolation"], found["r3_ocr_timeout"]) == ("FAIL", "NO_DATA", "NO_DATA")
    for check in ("r2_jwt_isolation", "r3_ocr_timeout"):  # could not look: not judged, and says why
        assert outcome(report, check).summary.startswith("could not look: ")
        assert "unreachable (connection refused)" in outcome(report, check).summary
    assert all("\n" not in o.summary for o in report.outcomes)
    assert outcome(report, "health").summary.startswith(
        "deposito unhealthy (connection refused); negocio unhealthy (connection refused); "
        "ml unhealthy (connection refused)")
    finding = next(f for f in report.findings if f.id == "agents_do_not_start")
    assert finding.title == "health: deposito, negocio, ml refuse connections"
    assert finding.reference == "docs/as-built.md §1, §8"
