"""A target that does not answer: every check says so in one line, and nothing crashes.

Health judges reachability (FAIL); the checks that could not look at what they judge say so
(NO_DATA naming the refused connection), never a PASS and never a FAIL of something unseen.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.smoke import CHECK_IDS, run_smoke
from scenarios.target.profiles import load_profile
from scenarios.target.resolve import resolve_profile
from tests.conftest import free_port
from tests.smoke.conftest import DUMMY_SECRETS, records, statuses

EXPECTED = {"health": "FAIL", "r1_non_root": "SKIP", "r2_jwt_isolation": "NO_DATA", "r3_ocr_timeout": "NO_DATA",
            "r4_inflation": "NO_DATA", "r6_trivy": "NO_DATA", "metrics": "NO_DATA", "security_headers": "NO_DATA",
            "logs": "SKIP"}
COULD_NOT_LOOK = ("r2_jwt_isolation", "r3_ocr_timeout", "r4_inflation", "metrics", "security_headers")


def test_every_check_reports_the_unreachable_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in DUMMY_SECRETS.items():
        monkeypatch.setenv(name, value)
    base = load_profile("checklist-v0.10.0")
    no_containers = base.model_copy(update={"services": {
        name: spec.model_copy(update={"container": None}) for name, spec in base.services.items()},
        "auth": base.auth.model_copy(update={"login_retry_s": 2.0})})  # the login is retried, for 2 s here
    urls = {name: f"http://127.0.0.1:{free_port()}" for name in ("deposito", "negocio", "ml", "dashboard", "gateway")}
    resolved = resolve_profile(no_containers, ",".join(f"{name}={url}" for name, url in urls.items()))

    report = run_smoke(resolved, results_dir=tmp_path)

    assert statuses(report) == EXPECTED
    for outcome in report.outcomes:
        assert "\n" not in outcome.summary
        if outcome.status == "FAIL" or outcome.check in COULD_NOT_LOOK:
            # the refused connection is named, whether a check's own request met it or discovery did
            assert "connection refused" in outcome.summary or "refused the connection" in outcome.summary, outcome
    assert report.duration_s < 20
    smoke = [r for r in records(tmp_path) if r["kind"] == "smoke"]
    assert sorted(r["check"] for r in smoke) == sorted(CHECK_IDS)
    health = {r["check"]: r for r in records(tmp_path) if r["kind"] == "health"}
    assert set(health) == {"deposito", "negocio", "ml", "dashboard", "gateway"}
    assert not any(r["ok"] for r in health.values())
    assert health["negocio"]["detail"] == "connection refused"
    assert {r["result"] for r in records(tmp_path) if r["kind"] in ("token", "ocr")} == {"transport"}
    metrics = [r for r in records(tmp_path) if r["kind"] == "metrics"]
    assert metrics and all(r["error"] and "connection refused" in r["error"] for r in metrics)
