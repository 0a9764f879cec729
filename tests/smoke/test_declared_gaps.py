"""A declared gap meets the run's observation: a gap the same smoke run saw not to hold is reported
as ``<gap>__not_observed`` (info), never as the gap; one it could not look at stays declared."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from scenarios.smoke import run_smoke
from scenarios.target.profiles import load_profile
from scenarios.target.resolve import resolve_profile
from tests.conftest import free_port
from tests.loopback import serving
from tests.smoke.conftest import outcome, records

API_KEY = "k" * 24
P95_MS = 12.5


class _Dashboard(BaseHTTPRequestHandler):
    """A dashboard whose ``/metrics`` (behind the API key) serves the p95 gauge the as-built profile declares absent."""

    served = 0

    def do_GET(self) -> None:
        type(self).served += 1
        if self.path == "/metrics":
            if self.headers.get("X-API-Key") != API_KEY:
                self._answer(401, "text/plain", "no key")
                return
            self._answer(200, "text/plain; version=0.0.4", (
                f"dashboard_requests_total {type(self).served}\ndashboard_errors_total 0\n"
                f"dashboard_request_duration_ms_p95 {P95_MS}\ndashboard_uptime_seconds 30\n"))
            return
        self._answer(200, "application/json", "{}")

    def _answer(self, status: int, content_type: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads the smoke stream, not the server's log."""


@pytest.fixture
def dashboard_with_p95() -> Iterator[str]:
    with serving(_Dashboard) as url:
        yield url


def test_a_declared_gap_the_run_saw_not_to_hold_is_info_not_the_gap(
        dashboard_with_p95: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET_KEY", "s" * 32)
    monkeypatch.setenv("DASHBOARD_API_KEY", API_KEY)
    base = load_profile("as-built")
    assert "p95_metric_absent" in {gap.id for gap in base.gaps}
    no_containers = base.model_copy(update={"services": {
        name: spec.model_copy(update={"container": None}) for name, spec in base.services.items()}})
    urls = {name: f"http://127.0.0.1:{free_port()}" for name in ("deposito", "negocio", "ml", "gateway")}
    urls["dashboard"] = dashboard_with_p95
    resolved = resolve_profile(no_containers, ",".join(f"{name}={url}" for name, url in urls.items()))

    report = run_smoke(resolved, results_dir=tmp_path)

    assert outcome(report, "metrics").status == "PASS", outcome(report, "metrics").summary
    findings = {finding.id: finding for finding in report.findings}
    assert "p95_metric_absent" not in findings
    contradicted = findings["p95_metric_absent__not_observed"]
    assert contradicted.severity == "info"
    assert contradicted.title.startswith("declared gap not observed: dashboard_request_duration_ms_p95")
    assert f"dashboard_request_duration_ms_p95 = {P95_MS:g} ms" in contradicted.evidence
    # the agents refused connections, so health could not see whether /health needs a token: still declared
    assert findings["health_needs_jwt"].severity == "major"
    assert "declared by profile as-built" in findings["health_needs_jwt"].evidence
    written = {r["id"]: r for r in records(tmp_path) if r["kind"] == "finding"}
    assert written["p95_metric_absent__not_observed"]["severity"] == "info"
    assert "p95_metric_absent" not in written


def test_agents_healthy_without_a_token_contradict_health_needs_jwt(
        dashboard_with_p95: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same loopback server plays the agents: its ``/health`` answers 200 to a request without a token."""
    monkeypatch.setenv("JWT_SECRET_KEY", "s" * 32)
    monkeypatch.setenv("DASHBOARD_API_KEY", API_KEY)
    base = load_profile("as-built")
    no_containers = base.model_copy(update={"gateway": None, "services": {
        name: spec.model_copy(update={"container": None}) for name, spec in base.services.items()}})
    target = ",".join(f"{name}={dashboard_with_p95}" for name in ("deposito", "negocio", "ml", "dashboard"))

    report = run_smoke(resolve_profile(no_containers, target), results_dir=tmp_path, ocr_timeout_s=1.0,
                       ocr_grace_s=1.0)

    findings = {finding.id: finding for finding in report.findings}
    assert "health_needs_jwt" not in findings
    contradicted = findings["health_needs_jwt__not_observed"]
    assert contradicted.severity == "info"
    assert all(f"{agent} GET /health -> 200" in contradicted.evidence for agent in ("deposito", "negocio", "ml"))
