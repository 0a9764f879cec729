"""The as-built model's agents over real HTTP: each row of docs/as-built.md §2.1-§2.3 and §3 the
``as-built`` profile relies on, and each documented defect reproduced."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from PIL import Image

from reference_stack._errors import ConfigInvalid, FaultInvalid
from reference_stack._faults import FaultSet, LiveFaults
from reference_stack._ledger import create_database
from reference_stack.as_built import (
    MODEL_LABEL,
    AsBuiltSwitches,
    deposito,
    ml,
    negocio,
    ready_path,
    switched_off,
)
from tests.reference_stack.as_built_servers import SECRETS, bearer, captured_logs, config, serve, token

DEPOSITO = bearer("deposito", "deposito")
NEGOCIO = bearer("negocio", "negocio")
ML = bearer("ml", "ml_service")


def _png(side_px: int) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((side_px, side_px), 64).convert("RGB").save(out, format="PNG")
    return out.getvalue()


def _start(module, state_dir: Path, **kwargs):
    cfg = config(module.__name__.rsplit(".", 1)[1], state_dir, **kwargs)
    if not cfg.database.exists():
        create_database(cfg.database, cfg.catalogue)
    faults = LiveFaults(cfg.service, FaultSet())
    return serve(module.build(cfg, faults, logging.getLogger(cfg.service)))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    state = tmp_path_factory.mktemp("as-built")
    with (
        captured_logs() as logs,
        _start(deposito, state) as dep_url,
        _start(negocio, state, AGENTE_DEPOSITO_URL=dep_url) as neg_url,
        _start(ml, state) as ml_url,
    ):
        yield {"deposito": dep_url, "negocio": neg_url, "ml": ml_url, "logs": logs}


def get(stack, service: str, path: str, **kwargs) -> httpx.Response:
    return httpx.get(str(stack[service]) + path, **kwargs)


def post(stack, service: str, path: str, **kwargs) -> httpx.Response:
    return httpx.post(str(stack[service]) + path, timeout=30, **kwargs)


# --- §3: JWT, as the real shared/auth.py checks it -------------------------------------------

def test_health_needs_a_jwt_and_missing_header_is_403_not_authenticated(stack) -> None:
    for service in ("deposito", "negocio", "ml"):
        answer = get(stack, service, "/health")
        assert answer.status_code == 403, service
        assert answer.json() == {"status": 403, "code": "http_error", "message": "Not authenticated",
                                 "path": "/health"}


def test_own_token_with_the_right_role_passes_and_health_says_it_is_a_model(stack) -> None:
    body = get(stack, "deposito", "/health", headers=DEPOSITO).json()
    assert body["status"] == "healthy" and body["service"] == "agente_deposito" and body["version"] == "1.0.0"
    assert set(body) >= {"timestamp", "uptime_seconds", "database", "endpoints_disponibles"}
    assert body["model"] == MODEL_LABEL
    assert get(stack, "ml", "/health", headers=ML).json()["model"] == MODEL_LABEL


def test_cross_agent_token_gets_500_internal_error_and_an_unhandled_exception_log(stack) -> None:
    forged = bearer("negocio", "deposito")  # right role, another agent's secret
    answer = get(stack, "deposito", "/productos", headers=forged)
    assert answer.status_code == 500
    assert answer.json() == {"status": 500, "code": "internal_error", "message": "Internal server error",
                             "path": "/productos"}
    assert stack["logs"].matching("ERROR shared.errors Unhandled exception at /productos")
    answer = get(stack, "negocio", "/precios/consultar", params={"codigo": "7790070012345"},
                 headers=bearer("deposito", "negocio"))
    assert answer.status_code == 500


@pytest.mark.parametrize("case", ["alg_none", "malformed", "wrong_alg"])
def test_invalid_tokens_get_500_from_the_jwterror_bug(stack, case: str) -> None:
    claims = {"sub": "x", "role": "deposito", "exp": int(time.time()) + 600}
    raw = {"alg_none": jwt.encode(claims, None, algorithm="none"), "malformed": "not-a-jwt",
           "wrong_alg": jwt.encode(claims, SECRETS["JWT_SECRET_DEPOSITO"] * 2, algorithm="HS512")}[case]
    answer = get(stack, "deposito", "/health", headers={"Authorization": f"Bearer {raw}"})
    assert answer.status_code == 500 and answer.json()["code"] == "internal_error"


def test_expired_token_is_401_token_expirado(stack) -> None:
    expired = {"Authorization": f"Bearer {token('deposito', 'deposito', ttl_s=-60)}"}
    answer = get(stack, "deposito", "/health", headers=expired)
    assert answer.status_code == 401 and answer.json()["message"] == "Token expirado"


def test_role_mismatch_is_403_and_admin_does_not_pass(stack) -> None:
    for role in ("negocio", "admin"):
        answer = get(stack, "deposito", "/health", headers=bearer("deposito", role))
        assert answer.status_code == 403 and answer.json()["message"] == "Se requiere rol: deposito"
    answer = get(stack, "ml", "/health", headers=bearer("ml", "ml"))  # the role string is ml_service
    assert answer.status_code == 403 and answer.json()["message"] == "Se requiere rol: ml_service"
    assert stack["logs"].matching("WARNING shared.errors HTTPException: Se requiere rol: deposito")


def test_iss_is_ignored(stack) -> None:
    answer = get(stack, "deposito", "/health", headers=bearer("deposito", "deposito", iss="negocio"))
    assert answer.status_code == 200


def test_basic_scheme_is_403_invalid_credentials(stack) -> None:
    answer = get(stack, "deposito", "/health", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert answer.status_code == 403 and answer.json()["message"] == "Invalid authentication credentials"


def test_no_login_route_anywhere(stack) -> None:
    for service in ("deposito", "negocio", "ml"):
        answer = post(stack, service, "/auth/login", json={"username": "admin", "password": "test"})
        assert answer.status_code == 404, service


def test_shared_secret_fallback_makes_cross_agent_tokens_differ_only_by_role(tmp_path: Path) -> None:
    with _start(deposito, tmp_path, JWT_SECRET_DEPOSITO="", JWT_SECRET_NEGOCIO="") as url:
        shared = jwt.encode({"role": "negocio", "exp": int(time.time()) + 60}, SECRETS["JWT_SECRET_KEY"], "HS256")
        answer = httpx.get(url + "/health", headers={"Authorization": f"Bearer {shared}"})
    assert answer.status_code == 403 and answer.json()["message"] == "Se requiere rol: deposito"


def test_no_secret_at_all_stops_start_up(tmp_path: Path) -> None:
    cfg = config("deposito", tmp_path, JWT_SECRET_DEPOSITO="", JWT_SECRET_KEY="")
    create_database(cfg.database, cfg.catalogue)
    with pytest.raises(ConfigInvalid, match="JWT_SECRET_KEY is not set"):
        deposito.build_app(cfg, LiveFaults("deposito", FaultSet()))


# --- §2.1 deposito ----------------------------------------------------------------------------

def test_deposito_products_stock_and_critical(stack) -> None:
    listing = get(stack, "deposito", "/productos", params={"limit": 20}, headers=DEPOSITO).json()
    assert set(listing) == {"productos", "total", "skip", "limit"} and listing["limit"] == 20
    assert len(listing["productos"]) == 20 and listing["total"] >= 40
    one = get(stack, "deposito", "/productos/3", headers=DEPOSITO).json()
    assert {"id", "codigo", "activo", "created_at", "updated_at", "proveedor_nombre"} <= set(one)
    missing = get(stack, "deposito", "/productos/9999", headers=DEPOSITO)
    assert missing.status_code == 404 and missing.json()["code"] == "http_error"
    move = {"producto_id": 2, "tipo_movimiento": "salida", "cantidad": 3, "idempotency_key": "k-agents-1"}
    first = post(stack, "deposito", "/stock/update", json=move, headers=DEPOSITO).json()
    again = post(stack, "deposito", "/stock/update", json=move, headers=DEPOSITO).json()
    assert first["success"] is True and first["stock_nuevo"] == first["stock_anterior"] - 3
    assert again["movimiento_id"] == first["movimiento_id"]
    too_many = post(stack, "deposito", "/stock/update", headers=DEPOSITO,
                    json={"producto_id": 2, "tipo_movimiento": "salida", "cantidad": 10**6})
    assert too_many.status_code == 400 and too_many.json()["error"] == "stock_insuficiente"
    critical = get(stack, "deposito", "/stock/critical", headers=DEPOSITO).json()
    assert critical and all(row["stock_actual"] <= row["stock_minimo"] for row in critical)


def test_deposito_unknown_product_movement_is_the_custom_404(stack) -> None:
    answer = post(stack, "deposito", "/stock/update", headers=DEPOSITO,
                  json={"producto_id": 9999, "tipo_movimiento": "entrada", "cantidad": 1})
    assert answer.status_code == 404 and answer.json()["error"] == "producto_no_encontrado"


def test_fault_switches_reach_the_model_through_the_admin_endpoint(stack) -> None:
    admin = {"X-Stagegate-Admin": SECRETS["STAGEGATE_ADMIN_TOKEN"]}
    url = f"{stack['deposito']}/__admin/faults"
    assert httpx.put(url, json={"health_failing": True}, headers=admin).status_code == 200
    try:
        answer = get(stack, "deposito", "/health", headers=DEPOSITO)
    finally:
        httpx.delete(url, headers=admin)
    assert answer.status_code == 503
    assert answer.json()["status"] == "unhealthy" and answer.json()["model"] == MODEL_LABEL
    assert httpx.put(url, json={"health_failing": True}).status_code == 401  # no admin token
    assert get(stack, "deposito", "/health", headers=DEPOSITO).status_code == 200


def test_deposito_create_is_201_and_update_needs_no_auth(stack) -> None:
    created = post(stack, "deposito", "/productos", headers=DEPOSITO,
                   json={"codigo": "AB-1", "nombre": "Producto nuevo", "precio_compra": 10.0})
    assert created.status_code == 201 and created.json()["categoria"] == "General"
    duplicate = post(stack, "deposito", "/productos", headers=DEPOSITO,
                     json={"codigo": "AB-1", "nombre": "Otro", "precio_compra": 10.0})
    assert duplicate.status_code == 400
    updated = httpx.put(f"{stack['deposito']}/productos/{created.json()['id']}", json={"nombre": "Renombrado"})
    assert updated.status_code == 200 and updated.json()["nombre"] == "Renombrado"


def test_deposito_validation_error_envelope(stack) -> None:
    answer = post(stack, "deposito", "/stock/update", json={"producto_id": "x"}, headers=DEPOSITO)
    assert answer.status_code == 422
    assert answer.json()["code"] == "validation_error" and answer.json()["message"] == "Validation error"


def test_deposito_metrics_are_open_and_use_the_real_names(stack) -> None:
    text = get(stack, "deposito", "/metrics").text
    assert 'agente_deposito_requests_total{endpoint="/health",http_status="403",method="GET"}' in text
    assert "agente_deposito_request_latency_seconds_bucket" in text


def test_deposito_trusted_host_switch_gives_400_invalid_host_header(tmp_path: Path) -> None:
    with _start(deposito, tmp_path, STAGEGATE_AS_BUILT_DEPOSITO_CORS_ORIGINS="http://localhost:8080") as url:
        for path in ("/metrics", "/health", "/productos"):
            answer = httpx.get(url + path, headers=DEPOSITO)
            assert (answer.status_code, answer.text) == (400, "Invalid host header"), path


def test_deposito_start_up_lines(stack) -> None:
    logs = stack["logs"]
    assert logs.matching(f"AS-BUILT MODEL deposito: {MODEL_LABEL}")
    assert logs.matching("🏭 AgenteDepósito iniciado") and logs.matching("Puerto: 8002")


# --- §2.2 negocio (served main.py) ------------------------------------------------------------

def test_negocio_health_reads_deposito_disconnected(stack) -> None:
    body = get(stack, "negocio", "/health", headers=NEGOCIO).json()
    assert body["status"] == "healthy" and body["deposito_status"] == "disconnected"
    assert body["model"] == MODEL_LABEL


def test_negocio_price_lookup_is_404_because_deposito_gets_no_token(stack) -> None:
    answer = get(stack, "negocio", "/precios/consultar", params={"codigo": "7790070012345", "dias_desde_compra": 30},
                 headers=NEGOCIO)
    assert answer.status_code == 404
    assert answer.json()["message"] == "Producto 7790070012345 no encontrado en depósito"


def test_negocio_facturas_procesar_is_500_typeerror(stack) -> None:
    answer = post(stack, "negocio", "/facturas/procesar", headers=NEGOCIO,
                  files={"file": ("factura.png", _png(200), "image/png")})
    assert answer.status_code == 500
    assert "can't be used in 'await' expression" in answer.json()["message"]


def test_negocio_routes_the_checklist_expects_do_not_exist(stack) -> None:
    pdf = {"file": ("f.pdf", b"%PDF-1.4\n", "application/pdf")}
    assert post(stack, "negocio", "/procesar_factura_completa", headers=NEGOCIO, files=pdf).status_code == 404
    assert get(stack, "negocio", "/api/productos", headers=NEGOCIO).status_code == 404
    assert get(stack, "negocio", "/metrics").status_code == 404


def test_negocio_headers_have_report_only_csp(stack) -> None:
    headers = get(stack, "negocio", "/health", headers=NEGOCIO).headers
    assert headers["content-security-policy-report-only"] == (
        "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self' 'unsafe-inline'")
    assert "content-security-policy" not in headers and "strict-transport-security" not in headers
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"


def test_negocio_start_up_banner_names_the_wrong_port(stack) -> None:
    assert stack["logs"].matching("🧠 AgenteNegocio iniciado - Puerto 8001")
    assert stack["logs"].matching(f"AS-BUILT MODEL negocio: {MODEL_LABEL}")


# --- §4 negocio, the unserved R3 file as a variant ------------------------------------------

@pytest.fixture(scope="module")
def r3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    state = tmp_path_factory.mktemp("r3")
    with captured_logs() as logs, _start(negocio, state, ocr_seconds_per_mb=40.0, OCR_TIMEOUT_SECONDS="1",
                                         STAGEGATE_AS_BUILT_NEGOCIO_VARIANT="r3-main-complete") as url:
        yield {"negocio": url, "logs": logs}


def test_r3_accepts_images_only(r3) -> None:
    answer = post(r3, "negocio", "/facturas/procesar", headers=NEGOCIO,
                  files={"image": ("f.pdf", b"%PDF-1.4\n", "application/pdf")})
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("Invalid file type") and "timestamp" in answer.json()
    wrong_field = post(r3, "negocio", "/facturas/procesar", headers=NEGOCIO,
                       files={"file": ("f.png", _png(8), "image/png")})
    assert wrong_field.status_code == 422


def test_r3_ocr_timeout_is_504_with_its_log_line(r3) -> None:
    image = _png(160)  # about 77 KB: 3 s of modelled OCR at 40 s/MB, past the 1 s timeout
    started = time.monotonic()
    answer = post(r3, "negocio", "/facturas/procesar", headers=NEGOCIO, files={"image": ("f.png", image, "image/png")})
    elapsed = time.monotonic() - started
    assert answer.status_code == 504 and elapsed < 2.5
    assert answer.json()["error"] == "OCR processing exceeded timeout (1s). Try with a clearer image or smaller file."
    assert r3["logs"].matching("ERROR agente_negocio OCR processing timed out after 1s")
    assert r3["logs"].matching("OCR timeout configured: 1 seconds")


def test_r3_ocr_test_swallows_the_504_into_a_200(r3) -> None:
    answer = post(r3, "negocio", "/ocr/test", headers=NEGOCIO, files={"image": ("f.png", _png(160), "image/png")})
    assert answer.status_code == 200
    assert answer.json() == {"success": False,
                             "message": "OCR testing failed: 504: OCR processing exceeded timeout (1s)"}


def test_r3_small_image_has_no_products_422(r3) -> None:
    answer = post(r3, "negocio", "/facturas/procesar", headers=NEGOCIO, files={"image": ("f.png", _png(20), "image/png")})
    assert answer.status_code == 422 and answer.json()["error"] == "No se detectaron productos en la factura"


def test_r3_over_50_mb_is_413(r3) -> None:
    answer = post(r3, "negocio", "/facturas/procesar", headers=NEGOCIO,
                  files={"image": ("big.png", b"\x00" * (50 * 1024 * 1024 + 1), "image/png")})
    assert answer.status_code == 413 and answer.json()["error"] == "File too large. Maximum size is 50MB."


# --- §2.3 and §5 ml ---------------------------------------------------------------------------

def test_ml_predict_demanda_carries_the_rate_as_a_percent_string(stack) -> None:
    answer = post(stack, "ml", "/predict/demanda", json={"producto_id": 1, "dias_prediccion": 7})
    assert answer.status_code == 200
    assert answer.json()["contexto_argentino"]["inflacion_mensual_estimada"] == "4.5%"
    assert len(answer.json()["prediccion"]) == 7
    assert post(stack, "ml", "/predict/demanda", json={"producto_id": 1, "dias_prediccion": 5}).status_code == 422
    assert stack["logs"].matching("ML Predictor initialized with inflation rate: 4.50% monthly")


def test_ml_served_predict_has_no_models(stack) -> None:
    answer = post(stack, "ml", "/predict", headers=ML, json={"model_name": "demanda", "features": {"x": 1}})
    assert answer.status_code == 404 and answer.json()["message"] == "Model 'demanda' not found"
    assert post(stack, "ml", "/predict", headers=ML, json={"producto_id": 1}).status_code == 422


def test_ml_metrics_shadow_and_500_body(stack) -> None:
    assert "ml_service_requests_total" in get(stack, "ml", "/metrics").text
    crashed = get(stack, "ml", "/health", headers=bearer("deposito", "ml_service"))
    assert crashed.status_code == 500
    assert set(crashed.json()) == {"detail", "timestamp"} and crashed.json()["detail"] == "Internal server error"


def test_ml_rate_without_percent_detection(tmp_path: Path) -> None:
    with captured_logs() as logs, _start(ml, tmp_path, INFLATION_RATE_MONTHLY="4.5") as url:
        answer = httpx.post(url + "/predict/demanda", json={"producto_id": 1})
    assert answer.json()["contexto_argentino"]["inflacion_mensual_estimada"] == "450.0%"
    assert logs.matching("ML Predictor initialized with inflation rate: 450.00% monthly")
    with pytest.raises(ConfigInvalid, match="could not convert string to float: 'abc'"):
        ml.build_app(config("ml", tmp_path, INFLATION_RATE_MONTHLY="abc"), LiveFaults("ml", FaultSet()))


# --- switches and readiness -------------------------------------------------------------------

def test_readiness_answers_without_credentials_even_when_deposito_answers_400(tmp_path: Path) -> None:
    with _start(deposito, tmp_path, STAGEGATE_AS_BUILT_DEPOSITO_CORS_ORIGINS="http://localhost:8080") as url:
        answer = httpx.get(url + ready_path("deposito"))
    assert answer.status_code == 200 and answer.json()["model"] == MODEL_LABEL


def test_switches_come_from_the_environment_with_one_line_errors() -> None:
    switches = AsBuiltSwitches.from_env({"STAGEGATE_AS_BUILT_NOT_STARTED": "negocio, ml",
                                         "STAGEGATE_AS_BUILT_NEGOCIO_VARIANT": "r3-main-complete"})
    assert switches.not_started == {"negocio", "ml"} and switches.negocio_variant == "r3-main-complete"
    assert AsBuiltSwitches.from_env({}) == AsBuiltSwitches()
    with pytest.raises(FaultInvalid) as bad:
        AsBuiltSwitches.from_env({"STAGEGATE_AS_BUILT_NEGOCIO_VARIANT": "r9"})
    assert str(bad.value) == (
        "STAGEGATE_AS_BUILT_NEGOCIO_VARIANT: Input should be 'served-main' or 'r3-main-complete' (got 'r9')")
    with pytest.raises(FaultInvalid) as unknown:
        AsBuiltSwitches.from_env({"STAGEGATE_AS_BUILT_NOT_STARTD": "ml"})
    assert str(unknown.value) == (
        "STAGEGATE_AS_BUILT_NOT_STARTD: unknown switch (known: STAGEGATE_AS_BUILT_NOT_STARTED, "
        "STAGEGATE_AS_BUILT_NEGOCIO_VARIANT, STAGEGATE_AS_BUILT_DEPOSITO_CORS_ORIGINS)")
    assert switched_off({"STAGEGATE_AS_BUILT_NOT_STARTED": "ml"}) == {"ml"} and switched_off({}) == set()


def test_public_api_is_pinned() -> None:
    import reference_stack.as_built as package

    assert set(package.__all__) == {"ENV_PREFIX", "MODEL_LABEL", "NAME", "SERVICES", "AsBuiltSwitches",
                                    "build_app", "gateway_config", "ready_path", "switched_off"}
    assert package.NAME == "as-built" and package.SERVICES == ("deposito", "negocio", "ml", "dashboard")
