"""Each fault switch flips exactly the behaviour it names, and the clean stack is restored after."""

from __future__ import annotations

import random
import time
from pathlib import Path

import httpx
import jwt
import pytest

from reference_stack import FaultInvalid, FaultSet, LatencyRule, StackHandle, parse_fault_args, running_stack
from tests.reference_stack.intended_client import (
    bearer,
    call,
    has_security_headers,
    log_mark,
    logged,
    own_token,
    peer_token,
)


def get(stack: StackHandle, service: str, path: str) -> httpx.Response:
    return httpx.get(stack.services[service] + path, headers=bearer(own_token(stack, service)), timeout=30)


def test_fixed_latency_hits_only_its_route(stack: StackHandle) -> None:
    stack.set_fault("deposito", latency={"dist": "fixed", "ms": 300, "route": "/productos/{id}"})
    slow = get(stack, "deposito", "/productos/5")
    fast = get(stack, "deposito", "/productos")
    assert slow.status_code == fast.status_code == 200
    assert slow.elapsed.total_seconds() >= 0.3
    assert fast.elapsed.total_seconds() < 0.2


def test_uniform_latency_stays_within_its_bounds(stack: StackHandle) -> None:
    stack.set_fault("ml", latency={"dist": "uniform", "low_ms": 100, "high_ms": 150})
    took = [httpx.get(stack.services["ml"] + "/health").elapsed.total_seconds() for _ in range(5)]
    assert all(0.1 <= t < 0.3 for t in took)


def test_lognormal_latency_has_the_stated_median() -> None:
    rule = LatencyRule(dist="lognormal", ms=200, sigma=0.5)
    rng = random.Random(7)
    samples = sorted(rule.sample_ms(rng) for _ in range(2001))
    assert samples[1000] == pytest.approx(200, rel=0.1)


def test_error_rate_fails_exactly_that_share_but_not_health(stack: StackHandle) -> None:
    stack.set_fault("deposito", error_rate=0.25)
    mark = log_mark(stack, "deposito")
    statuses = [get(stack, "deposito", "/productos").status_code for _ in range(8)]
    assert statuses.count(500) == 2 and statuses.count(200) == 6
    assert httpx.get(stack.services["deposito"] + "/health").status_code == 200
    assert len(logged(stack, "deposito", mark, " ERROR deposito GET /productos 500 ", 2)) == 2


def test_error_rate_500s_carry_the_json_envelope_and_count_as_dashboard_errors(stack: StackHandle) -> None:
    stack.set_fault("dashboard", error_rate=1.0)
    headers = {"X-API-Key": stack.secrets["DASHBOARD_API_KEY"]}
    response = httpx.get(stack.services["dashboard"] + "/api/summary", headers=headers)
    assert (response.status_code, response.json()) == (500, {"detail": "Internal server error"})
    assert has_security_headers(response)
    stack.clear_faults("dashboard")
    text = httpx.get(stack.services["dashboard"] + "/metrics", headers=headers).text
    assert "dashboard_errors_total 0.0" not in text


def test_failing_health_is_503_while_routes_still_work(stack: StackHandle) -> None:
    stack.set_fault("negocio", health_failing=True)
    health = httpx.get(stack.services["negocio"] + "/health")
    assert health.status_code == 503
    assert health.json() == {"status": "unhealthy", "service": "negocio", "error": "health check failing (fault injected)"}
    assert get(stack, "negocio", "/api/productos").status_code == 200
    assert httpx.get(stack.services["deposito"] + "/health").status_code == 200


def test_missing_security_headers_on_that_service_only(stack: StackHandle) -> None:
    stack.set_fault("dashboard", security_headers_missing=True)
    bare = httpx.get(stack.services["dashboard"] + "/")
    assert bare.status_code == 200 and "x-frame-options" not in bare.headers
    assert "content-security-policy" not in bare.headers
    assert has_security_headers(httpx.get(stack.services["deposito"] + "/health"))


def test_ocr_cost_multiplier_turns_a_normal_invoice_into_a_timeout(stack: StackHandle, invoices: dict[str, Path]) -> None:
    stack.set_fault("negocio", ocr_cost_multiplier=20)
    files = {"file": ("n.pdf", invoices["normal"].read_bytes(), "application/pdf")}
    response = httpx.post(stack.services["negocio"] + "/procesar_factura_completa", files=files,
                          headers=bearer(own_token(stack, "negocio")), timeout=30)
    assert response.status_code == 504


def test_ocr_timeout_disabled_lets_ocr_run_past_the_timeout(stack: StackHandle, invoices: dict[str, Path]) -> None:
    stack.set_fault("negocio", ocr_cost_multiplier=2, ocr_timeout_disabled=True)
    files = {"file": ("n.pdf", invoices["normal"].read_bytes(), "application/pdf")}
    response = httpx.post(stack.services["negocio"] + "/procesar_factura_completa", files=files,
                          headers=bearer(own_token(stack, "negocio")), timeout=30)
    assert response.status_code == 200
    assert response.elapsed.total_seconds() > 2.0  # the session stack's OCR timeout


def test_cross_agent_tokens_accepted(stack: StackHandle) -> None:
    foreign = peer_token(stack, "deposito")
    assert call(stack, "negocio", foreign).status_code == 401
    stack.set_fault("negocio", jwt_accept_cross_agent=True)
    assert call(stack, "negocio", foreign).status_code == 200
    assert call(stack, "deposito", peer_token(stack, "negocio")).status_code == 401  # other agents unchanged


def test_alg_none_accepted(stack: StackHandle) -> None:
    unsigned = jwt.encode({"iss": "ml", "exp": int(time.time()) + 600}, None, algorithm="none")
    stack.set_fault("ml", jwt_accept_alg_none=True)
    assert call(stack, "ml", unsigned).status_code == 200
    assert call(stack, "ml", peer_token(stack, "negocio")).status_code == 401


def test_invalid_token_answered_with_500(stack: StackHandle) -> None:
    stack.set_fault("deposito", jwt_invalid_500=True)
    mark = log_mark(stack, "deposito")
    response = call(stack, "deposito", peer_token(stack, "negocio"))
    assert (response.status_code, response.json()) == (500, {"detail": "Internal server error"})
    assert logged(stack, "deposito", mark, "ERROR deposito unhandled exception at /productos: AttributeError", 1)
    assert call(stack, "deposito", None).status_code == 401
    assert call(stack, "deposito", own_token(stack, "deposito")).status_code == 200


def test_inflation_ignored(stack: StackHandle) -> None:
    stack.set_fault("ml", inflation_ignored=True)
    stack.set_fault("negocio", inflation_ignored=True)
    body = httpx.post(stack.services["ml"] + "/predict", json={"producto_id": 1, "dias": 30},
                      headers=bearer(own_token(stack, "ml"))).json()
    assert body["inflation_rate_monthly"] == 0 and body["ajuste_inflacion"] == 0
    assert body["demanda_ajustada"] == body["demanda_base"]
    price = get(stack, "negocio", "/precios/consultar?codigo=7790070012345&dias_desde_compra=30").json()
    assert price["inflacion_aplicada"] == 0


@pytest.mark.parametrize(("mode", "factor"), [("lose", 0), ("double", 2)])
def test_ledger_corruption(stack: StackHandle, mode: str, factor: int) -> None:
    stack.set_fault("deposito", ledger_corruption=mode)
    before = get(stack, "deposito", "/productos/20").json()["stock_actual"]
    ack = httpx.post(stack.services["deposito"] + "/stock/update", headers=bearer(own_token(stack, "deposito")),
                     json={"producto_id": 20, "tipo_movimiento": "entrada", "cantidad": 5}).json()
    assert (ack["stock_anterior"], ack["stock_nuevo"]) == (before, before + 5)  # acknowledged as correct
    assert get(stack, "deposito", "/productos/20").json()["stock_actual"] == before + factor * 5


def test_crash_exits_the_process(tmp_path: Path) -> None:
    with running_stack(tmp_path, services=("deposito",), gateway=False) as lone:
        lone.set_fault("deposito", crash_after_s=0)
        deadline = time.monotonic() + 5
        while lone.alive("deposito") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lone.children["deposito"].returncode == 70
        with pytest.raises(httpx.ConnectError):
            httpx.get(lone.services["deposito"] + "/health")


def test_faults_set_at_start(tmp_path: Path) -> None:
    faults = parse_fault_args(["ml.inflation_ignored=true", "ml.error_rate=0.5"])
    with running_stack(tmp_path, services=("ml",), gateway=False, faults=faults) as lone:
        assert lone.faults("ml") == FaultSet(inflation_ignored=True, error_rate=0.5)
        assert "INFLATION_RATE_MONTHLY=" not in lone.log("ml")
        statuses = [call(lone, "ml", own_token(lone, "ml")).status_code for _ in range(4)]
        assert statuses.count(500) == 2


def test_admin_endpoint_needs_the_token(stack: StackHandle) -> None:
    url = stack.services["deposito"] + "/__admin/faults"
    assert httpx.put(url, json={"error_rate": 1}).status_code == 401
    wrong = httpx.put(url, json={"error_rate": 1}, headers={"X-Stagegate-Admin": "guess"})
    assert wrong.status_code == 401
    assert stack.faults("deposito") == FaultSet()


def test_admin_endpoint_refuses_unknown_switches(stack: StackHandle) -> None:
    headers = {"X-Stagegate-Admin": stack.secrets["STAGEGATE_ADMIN_TOKEN"]}
    response = httpx.put(stack.services["ml"] + "/__admin/faults", json={"ledger_corruption": "lose"}, headers=headers)
    assert (response.status_code, response.json()) == (
        400, {"detail": "fault: ledger_corruption does not apply to ml (applies to: deposito)"})


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["deposito.errors=1"], ("fault: unknown switch 'errors' (known: latency, error_rate, error_mode, "
         "login_fail_for_s, login_fail_status, slow_start_s, health_failing, security_headers_missing, crash_after_s, ocr_cost_multiplier, ocr_timeout_disabled, "
         "jwt_accept_cross_agent, jwt_accept_alg_none, jwt_invalid_500, inflation_ignored, ledger_corruption)")),
        (["cache.error_rate=1"], "fault: unknown service 'cache' (known: deposito, negocio, ml, dashboard)"),
        (["deposito.error_rate=2"], "fault: deposito.error_rate: Input should be less than or equal to 1"),
        (["deposito.health_failing=maybe"], "fault: health_failing: expected true or false (got 'maybe')"),
        (["deposito-error_rate"],
         "fault: 'deposito-error_rate': expected SERVICE.SWITCH=VALUE (e.g. deposito.error_rate=0.2)"),
        (["ml.latency=gauss:3"], ("fault: latency 'gauss:3': expected fixed:MS, uniform:LOW-HIGH or "
         "lognormal:MEDIAN[:SIGMA], optionally @/route, then optionally %SHARE")),
        (["ml.latency=fixed:800@/predict%x"], ("fault: latency 'fixed:800@/predict%x': expected fixed:MS, "
         "uniform:LOW-HIGH or lognormal:MEDIAN[:SIGMA], optionally @/route, then optionally %SHARE")),
        (["deposito.latency=fixed:800@/productos%1.5"],
         "fault: deposito.latency.0.share: Input should be less than or equal to 1"),
        (["ml.error_mode=crash"], "fault: error_mode: expected handled or unhandled (got 'crash')"),
        (["ml.login_fail_status=404"], "fault: login_fail_status: expected 500 or 503 (got '404')"),
        (["dashboard.login_fail_for_s=20"],
         "fault: login_fail_for_s does not apply to dashboard (applies to: deposito, negocio, ml)"),
        (["negocio.slow_start_s=-1"], "fault: negocio.slow_start_s: Input should be greater than or equal to 0"),
    ],
)
def test_bad_fault_switches_are_one_line_errors(items: list[str], message: str) -> None:
    with pytest.raises(FaultInvalid) as error:
        parse_fault_args(items)
    assert str(error.value) == message


def test_fault_syntax_for_latency() -> None:
    faults = parse_fault_args(["deposito.latency=uniform:50-150@/productos/{id}", "deposito.latency=fixed:20",
                               "deposito.latency=fixed:800@/productos%0.1", "deposito.latency=lognormal:100:0.3%0.5"])
    assert faults["deposito"].latency == [
        LatencyRule(dist="uniform", low_ms=50, high_ms=150, route="/productos/{id}"), LatencyRule(ms=20),
        LatencyRule(ms=800, route="/productos", share=0.1), LatencyRule(dist="lognormal", ms=100, sigma=0.3, share=0.5)]
    assert faults["deposito"].latency[0].matches("/productos/7")
    assert not faults["deposito"].latency[0].matches("/productos")
