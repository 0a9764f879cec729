"""The as-built model as the launcher runs it: real processes, and the ``as-built`` profile talking to it.

Every call, field and metric name the profile names is sent to the model and must get the answer the
profile expects; the "does not start" switch must leave a port that refuses connections.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from PIL import Image

from generators.catalogue import CATALOGUE
from reference_stack import FaultSet, StackError, running_stack
from reference_stack.as_built import MODEL_LABEL
from scenarios.target.discovery import fill
from scenarios.target.profiles import Profile, load_profile


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Profile]]:
    with running_stack(tmp_path_factory.mktemp("stack"), contract="as-built", gateway=False) as stack:
        yield stack, load_profile("as-built").with_targets(stack.services)


def _headers(stack: Any, profile: Profile, service: str) -> dict[str, str]:
    spec = profile.services[service]
    assert spec.secret_env is not None
    claims = {"sub": "stagegate", "role": spec.role, "exp": int(time.time()) + profile.auth.token_ttl_s}
    return {"Authorization": "Bearer " + jwt.encode(claims, stack.secrets[spec.secret_env], algorithm="HS256")}


def _fill(value: Any) -> Any:
    fills = {"{id}": 1, "{tipo}": "entrada", "{cantidad}": 2, "{key}": "stack-test-1", "{codigo}": "7790070012345"}
    return fills.get(value, value) if isinstance(value, str) else value


def test_every_profile_call_gets_the_answer_the_profile_expects(model) -> None:
    stack, profile = model
    for name, call in profile.calls.items():
        url = profile.url(call.service, call.path.replace("{id}", "1"))
        body = {k: _fill(v) for k, v in call.json_body.items()} if call.json_body else None
        answer = httpx.request(call.method, url, params={k: _fill(v) for k, v in call.query.items()}, json=body,
                               headers=_headers(stack, profile, call.service))
        expected = [404] if call.missing else call.ok_statuses
        assert answer.status_code in expected, (name, answer.status_code, answer.text)


def test_health_needs_the_profiles_token_and_says_it_is_a_model(model) -> None:
    stack, profile = model
    for agent in ("deposito", "negocio", "ml"):
        url = profile.url(agent, profile.services[agent].health_path)
        assert httpx.get(url).status_code == 403
        answer = httpx.get(url, headers=_headers(stack, profile, agent))
        assert answer.status_code == 200 and answer.json()["model"] == MODEL_LABEL


def test_negocio_asks_this_stacks_deposito_without_a_token(model) -> None:
    stack, profile = model
    refused_before = stack.log("deposito").count("GET /health 403")
    body = httpx.get(profile.url("negocio", "/health"), headers=_headers(stack, profile, "negocio")).json()
    assert body["deposito_status"] == "disconnected"
    time.sleep(0.2)  # deposito logs the request once its answer has gone out
    assert stack.log("deposito").count("GET /health 403") == refused_before + 1


def test_cross_agent_token_is_500_with_the_stacks_own_secrets(model) -> None:
    stack, profile = model
    forged = _headers(stack, profile, "negocio")  # negocio's secret, sent to deposito
    assert httpx.get(profile.url("deposito", "/productos"), headers=forged).status_code == 500
    assert "Unhandled exception at /productos" in stack.log("deposito")


def test_ocr_and_predict_as_the_profile_describes_them(model) -> None:
    stack, profile = model
    image = io.BytesIO()
    Image.new("RGB", (300, 300), "white").save(image, format="PNG")
    ocr = httpx.post(profile.url("negocio", profile.ocr.path), headers=_headers(stack, profile, "negocio"),
                     files={profile.ocr.field: ("factura.png", image.getvalue(), "image/png")}, timeout=30)
    assert ocr.status_code == 500  # ocr.timeout_missing: served main.py awaits a sync method
    assert httpx.post(profile.url("negocio", "/procesar_factura_completa")).status_code == 404
    body = fill(profile.predict.json_body, {"id": CATALOGUE[0].id})  # a product the model's stack holds
    predicted = httpx.post(profile.url("ml", profile.predict.path), json=body).json()
    for key in profile.predict.rate_field.split("."):
        predicted = predicted[key]
    assert predicted == "4.5%"
    assert "ML Predictor initialized with inflation rate: 4.50% monthly" in stack.log("ml")


def test_dashboard_metrics_headers_and_a_database_fault(model) -> None:
    stack, profile = model
    key = {profile.dashboard.api_key_header: stack.secrets[profile.dashboard.api_key_env]}
    metrics = httpx.get(profile.url("dashboard", profile.dashboard.metrics.path), headers=key).text
    assert profile.dashboard.metrics.requests_total in metrics and "p95" not in metrics
    headers = httpx.get(profile.url("dashboard", "/")).headers
    for name, value in profile.headers.required.items():
        assert name in headers and (not value or headers[name] == value)
    stack.set_fault("dashboard", health_failing=True)
    try:
        providers = httpx.get(profile.url("dashboard", "/api/providers"), headers=key)
    finally:
        stack.clear_faults("dashboard")
    assert providers.status_code == 200 and "error" in providers.json()[0]


def test_injected_errors_answer_with_the_real_codes_500_bodies(model) -> None:
    stack, profile = model
    urls, key = stack.services, {"X-API-Key": stack.secrets["DASHBOARD_API_KEY"]}
    for service in ("deposito", "negocio", "ml", "dashboard"):
        stack.set_fault(service, error_rate=1.0)
    try:
        deposito = httpx.get(urls["deposito"] + "/productos")
        negocio = httpx.get(urls["negocio"] + "/precios/consultar", params={"codigo": "1"})
        ml = httpx.post(urls["ml"] + "/predict/demanda", json=profile.predict.json_body)
        api, page = httpx.get(urls["dashboard"] + "/api/summary", headers=key), httpx.get(urls["dashboard"] + "/")
    finally:
        stack.clear_faults()
    for answer, path in ((deposito, "/productos"), (negocio, "/precios/consultar")):  # shared.errors
        assert (answer.status_code, answer.json()) == (500, {"status": 500, "code": "internal_error",
                                                             "message": "Internal server error", "path": path})
    assert ml.status_code == 500 and set(ml.json()) == {"detail", "timestamp"}
    assert ml.json()["detail"] == "Internal server error"
    assert (api.status_code, api.json()) == (500, {"error": "Error interno"})
    assert "x-frame-options" not in api.headers  # raised outside the dashboard's header middleware
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "Error interno" in page.text


def test_not_started_agent_refuses_connections(tmp_path: Path) -> None:
    env = {"STAGEGATE_AS_BUILT_NOT_STARTED": "negocio"}
    with running_stack(tmp_path, contract="as-built", gateway=False, services=("deposito", "negocio"), env=env) as stack:
        deadline = time.monotonic() + 10
        while stack.alive("negocio") and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(httpx.ConnectError):
            httpx.get(stack.services["negocio"] + "/health")
        assert httpx.get(stack.services["deposito"] + "/health").status_code == 403
        stack.set_fault("deposito", error_rate=1.0)
        stack.clear_faults()  # every service that started; negocio, switched off, is skipped
        assert stack.faults("deposito") == FaultSet()
        with pytest.raises(StackError) as refused:
            stack.set_fault("negocio", error_rate=1.0)
        log = stack.log("negocio")
    assert str(refused.value) == ("fault: negocio does not start (a start-up switch keeps it off), "
                                  "so it has no fault switches")
    assert 'Error loading ASGI app. Could not import module "main".' in log
    assert MODEL_LABEL in log
