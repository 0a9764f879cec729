"""Smoke against the real reference stack: clean, then with each fault switch flipped at run time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest

from reference_stack._handle import StackHandle
from scenarios.smoke import CHECK_IDS
from tests.smoke.conftest import outcome, records, smoke_on, statuses


def clean_statuses() -> dict[str, str]:
    return dict.fromkeys(CHECK_IDS, "PASS")


def test_clean_stack_passes_every_check(stack: StackHandle, tmp_path: Path, clean_trivy_report: Path) -> None:
    report = smoke_on(stack, tmp_path, trivy_report=clean_trivy_report)

    assert statuses(report) == clean_statuses(), {o.check: o.summary for o in report.outcomes}
    assert report.findings == []
    assert all(item["uid"] != 0 for item in outcome(report, "r1_non_root").evidence)
    found = records(tmp_path)
    kinds = [r["kind"] for r in found]
    assert kinds[0] == "run_header" and kinds[-1] == "run_end" and found[-1]["reason"] == "completed"
    assert [r["check"] for r in found if r["kind"] == "smoke"] == sorted(CHECK_IDS, key=_written_order)
    tokens = [r for r in found if r["kind"] == "token"]
    assert {t["result"] for t in tokens} == {"rejected", "control_ok"}
    assert {t["target"] for t in tokens} == {"deposito", "negocio", "ml"}
    ocr = {r["invoice_kind"]: r for r in found if r["kind"] == "ocr"}
    assert ocr["heavy"]["result"] == "timeout_ok" and ocr["heavy"]["status"] == 504
    assert ocr["normal"]["result"] == "processed"
    busy = [e for e in outcome(report, "r3_ocr_timeout").evidence if "while the heavy invoice" in e.get("what", "")]
    assert len(busy) == 1 and busy[0]["ok"] and busy[0]["status"] == 200
    assert {h["check"] for h in found if h["kind"] == "health"} >= {"deposito", "negocio", "ml", "dashboard"}
    text = (tmp_path / "smoke.jsonl").read_text()
    assert not [name for name, value in stack.secrets.items() if value in text]
    assert "eyJ" not in text  # no JWT (base64 of '{"') anywhere, login answers included
    samples = [m for m in found if m["kind"] == "metrics"]
    assert len(samples) == 2 and samples[1]["values"]["dashboard_requests_total"] > samples[0]["values"][
        "dashboard_requests_total"]


def _written_order(check: str) -> int:
    """R3 runs beside the others and is written when it ends; logs comes last."""
    order = [c for c in CHECK_IDS if c not in ("r3_ocr_timeout", "logs")] + ["r3_ocr_timeout", "logs"]
    return order.index(check)


FAULTS: list[tuple[str, dict[str, Any], set[str], str, tuple[str, str] | None]] = [
    ("negocio", {"jwt_accept_cross_agent": True}, {"r2_jwt_isolation"}, "tokens accepted (negocio:",
     ("jwt_forged_accepted", "R2: cross-agent token answered 200 (expected 401/403) on negocio /api/productos")),
    ("ml", {"jwt_accept_alg_none": True}, {"r2_jwt_isolation"}, "token accepted (ml: 1)",
     ("jwt_forged_accepted", "R2: alg-none-lower token answered 200 (expected 401/403) on ml /predict")),
    ("deposito", {"jwt_invalid_500": True}, {"r2_jwt_isolation", "logs"}, "answered with other than 401/403",
     ("jwt_wrong_rejection", "R2: cross-agent token answered 500 (expected 401/403) on deposito /productos")),
    ("negocio", {"ocr_timeout_disabled": True}, {"r3_ocr_timeout"}, "heavy invoice: no timely 504 (no answer",
     ("ocr_no_timeout", "R3: heavy invoice got no answer (timeout after 4 s) instead of 504 at the OCR timeout")),
    ("dashboard", {"security_headers_missing": True}, {"security_headers"}, "lacks Content-Security-Policy",
     ("security_headers_missing_on_401", ("headers: Content-Security-Policy, X-Content-Type-Options, "
                                          "X-Frame-Options missing on 401 answers"))),
    ("ml", {"inflation_ignored": True}, {"r4_inflation"}, "(inflation ignored)",
     ("inflation_not_applied", "R4: predictions use inflation 0.0 instead of 0.045")),
    ("deposito", {"health_failing": True}, {"health", "logs"}, "deposito unhealthy (status 503", None),
    ("negocio", {"ocr_cost_multiplier": 20.0}, {"r3_ocr_timeout", "logs"}, "normal invoice timed out (504", None),
    ("dashboard", {"error_rate": 0.25}, {"metrics", "logs"}, "dashboard_errors_total grew",
     ("log_5xx_lines", "logs: 5xx answers logged during the smoke run")),
    ("negocio", {"latency": [{"dist": "fixed", "ms": 2500, "route": "/health"}]}, {"r3_ocr_timeout"},
     "negocio stopped answering while OCR ran (timeout after 2 s on /health)", None),
]


@pytest.mark.parametrize(("service", "switches", "failing", "evidence", "finding"), FAULTS,
                         ids=[next(iter(f[1])) for f in FAULTS])
def test_each_fault_fails_its_check_and_only_it(stack: StackHandle, tmp_path: Path, clean_trivy_report: Path,
                                               service: str, switches: dict[str, Any], failing: set[str],
                                               evidence: str, finding: tuple[str, str] | None) -> None:
    stack.set_fault(service, **switches)
    try:
        report = smoke_on(stack, tmp_path, trivy_report=clean_trivy_report)
    finally:
        stack.clear_faults(service)

    expected = {check: "FAIL" if check in failing else status for check, status in clean_statuses().items()}
    assert statuses(report) == expected, {o.check: o.summary for o in report.outcomes}
    first = min(failing - {"logs"})
    assert evidence in outcome(report, first).summary
    if finding is not None:
        titles = {f.id: f.title for f in report.findings}
        assert titles.get(finding[0], "").startswith(finding[1]), titles
    if "jwt_accept_cross_agent" in switches:
        breaches = [r for r in records(tmp_path) if r["kind"] == "token" and r["result"] == "breach"]
        assert {r["target"] for r in breaches} == {"negocio"}
        assert all(r["case_id"].startswith(("cross_agent__", "shared_secret_wrong_")) for r in breaches)


def test_login_token_is_a_real_token_of_the_agent(stack: StackHandle, tmp_path: Path) -> None:
    """The control R2 uses comes from the agent's login and verifies with that agent's own secret."""
    from scenarios.smoke.context import SmokeContext, SmokeOptions
    from scenarios.target.resolve import resolve_profile

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STAGEGATE_STATE_DIR", str(stack.state_dir))
        resolved = resolve_profile("checklist-v0.10.0", "local")
    context = SmokeContext.open(resolved, SmokeOptions())
    try:
        grant = context.tokens.grant("negocio")
    finally:
        context.close()
    claims = jwt.decode(grant.token, stack.secrets["JWT_SECRET_NEGOCIO"], algorithms=["HS256"], issuer="negocio")
    assert grant.how == "login" and claims["sub"] == "admin"
