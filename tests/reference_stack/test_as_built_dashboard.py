"""The as-built dashboard over real HTTP: docs/as-built.md §2.4, §3.5, §6 and §11.3, row by row."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reference_stack._faults import FaultSet, LiveFaults
from reference_stack.as_built import MODEL_LABEL, dashboard
from reference_stack.as_built._security import DASHBOARD_CSP
from tests.reference_stack.as_built_servers import captured_logs, config, serve

KEY = "dashboard-key-for-tests"
HEADERS = {"X-API-Key": KEY}
SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "permissions-policy": "geolocation=(), microphone=(), camera=()",
    "content-security-policy": DASHBOARD_CSP,
}


def _wait_for_line(logs, text: str) -> str:
    deadline = time.monotonic() + 2
    while not (found := logs.matching(text)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert found, text
    return found[0]


def _serve(state_dir: Path, faults: LiveFaults | None = None, **env: str):
    cfg = config("dashboard", state_dir, **{"DASHBOARD_API_KEY": KEY, "DASHBOARD_RATELIMIT_WINDOW": "3600", **env})
    return serve(dashboard.build(cfg, faults or LiveFaults("dashboard", FaultSet()), logging.getLogger("dashboard")))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    with captured_logs() as logs, _serve(tmp_path_factory.mktemp("dash"), DASHBOARD_RATELIMIT_MAX="5") as url:
        yield url, logs


def test_api_key_enforced_when_set(site) -> None:
    url, _ = site
    for headers in ({}, {"X-API-Key": "wrong"}):
        answer = httpx.get(url + "/api/summary", headers=headers)
        assert answer.status_code == 401 and answer.json() == {"detail": "API key inválida"}
        assert answer.headers["x-frame-options"] == "DENY"  # the 401 passes the header middleware
    assert httpx.get(url + "/metrics").status_code == 401
    assert httpx.get(url + "/api/export/providers.csv").status_code == 401


def test_open_routes_need_no_key(site) -> None:
    url, _ = site
    for path in ("/", "/providers", "/analytics?start_date=nope", "/static/dashboard.css"):
        assert httpx.get(url + path).status_code == 200, path
    health = httpx.get(url + "/health").json()
    assert health["status"] == "healthy" and health["database"] == "connected"
    assert health["services"] == {"dashboard": "ok", "analytics": "ok", "api": "ok"}
    assert health["model"] == MODEL_LABEL


def test_api_shapes(site) -> None:
    url, _ = site
    summary = httpx.get(url + "/api/summary", headers=HEADERS).json()
    assert set(summary) == {"total_proveedores", "total_pedidos", "total_productos_pedidos", "total_movimientos",
                            "facturas_procesadas", "pedidos_mes", "movimientos_semana", "proveedor_top"}
    assert summary["total_pedidos"] > 0 and set(summary["proveedor_top"]) == {"nombre", "pedidos"}
    assert len(httpx.get(url + "/api/top-products?limit=3", headers=HEADERS).json()) == 3
    assert httpx.get(url + "/api/top-products?limit=0", headers=HEADERS).status_code == 422
    timeline = httpx.get(url + "/api/stock-timeline?days=500", headers=HEADERS).json()  # clamped to 90
    assert 80 <= len(timeline) <= 91
    assert set(httpx.get(url + "/api/trends?months=2", headers=HEADERS).json()) == {"meses", "pedidos", "productos"}
    csv = httpx.get(url + "/api/export/top-products.csv?limit=2", headers=HEADERS)
    assert csv.headers["content-type"].startswith("text/csv") and len(csv.text.strip().splitlines()) == 3


def test_security_headers_exactly_and_no_hsts_by_default(site) -> None:
    url, _ = site
    headers = httpx.get(url + "/health").headers
    assert {name: headers.get(name) for name in SECURITY} == SECURITY
    assert "strict-transport-security" not in headers


def test_rate_limit_429_without_security_headers_and_only_on_api(site) -> None:
    url, _ = site
    statuses = [httpx.get(url + "/api/providers", headers=HEADERS) for _ in range(7)]
    assert [a.status_code for a in statuses] == [200] * 5 + [429] * 2
    limited = statuses[-1]
    assert limited.json() == {"error": "Rate limit excedido"}
    assert not set(SECURITY) & set(limited.headers) and "x-request-id" in limited.headers
    assert httpx.get(url + "/api/weekly-sales", headers=HEADERS).status_code == 200  # per path
    assert all(httpx.get(url + "/health").status_code == 200 for _ in range(7))  # never limited


def test_metrics_are_the_c2_set_without_p95(site) -> None:
    url, _ = site
    httpx.get(url + "/api/nope", headers=HEADERS)
    answer = httpx.get(url + "/metrics", headers=HEADERS)
    assert answer.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    names = {line.split("{")[0].split(" ")[0] for line in answer.text.splitlines() if not line.startswith("#")}
    assert names == {"dashboard_requests_total", "dashboard_errors_total", "dashboard_uptime_seconds",
                     "dashboard_requests_by_path_total", "dashboard_request_duration_ms_sum"}
    assert "p95" not in answer.text
    assert 'dashboard_requests_by_path_total{path="/api/nope"} 1' in answer.text
    assert "dashboard_errors_total 0" in answer.text  # 401, 404 and 429 are not errors


def test_request_id_echo_and_json_access_log(site) -> None:
    url, logs = site
    answer = httpx.get(url + "/health", headers={"X-Request-ID": "req-123"})
    assert answer.headers["x-request-id"] == "req-123"
    line = _wait_for_line(logs, '"request_id": "req-123"')  # logged once the body has gone out
    record = json.loads(line.split(" ", 2)[2])
    assert record["msg"] == "GET /health -> 200" and record["logger"] == "dashboard"
    assert set(record) == {"ts", "level", "logger", "msg", "request_id", "path", "method", "status",
                           "duration_ms", "client_ip"}
    assert logs.matching(f"AS-BUILT MODEL dashboard: {MODEL_LABEL}")


def test_hsts_only_with_its_flag_and_no_key_means_no_auth(tmp_path: Path) -> None:
    with _serve(tmp_path, DASHBOARD_ENABLE_HSTS="true", DASHBOARD_API_KEY="") as url:
        assert httpx.get(url + "/health").headers["strict-transport-security"] == (
            "max-age=63072000; includeSubDomains; preload")
        assert httpx.get(url + "/api/summary").status_code == 200  # empty key: auth disabled


def test_database_fault_is_200_with_error_and_health_stays_200(tmp_path: Path) -> None:
    faults = LiveFaults("dashboard", FaultSet(health_failing=True))
    with _serve(tmp_path, faults) as url:
        summary = httpx.get(url + "/api/summary", headers=HEADERS)
        providers = httpx.get(url + "/api/providers", headers=HEADERS)
        health = httpx.get(url + "/health")
        faults.replace(FaultSet())
        cached = httpx.get(url + "/api/summary", headers=HEADERS).json()
        fresh = httpx.get(url + "/api/providers", headers=HEADERS).json()
        metrics = httpx.get(url + "/metrics", headers=HEADERS).text
    assert summary.status_code == 200 and summary.json()["error"].startswith("Error obteniendo resumen: ")
    assert summary.json()["total_pedidos"] == 0
    assert providers.status_code == 200 and "error" in providers.json()[0]
    assert health.status_code == 200 and health.json()["database"] == "error"
    assert "error" in cached  # the 30 s cache keeps serving the failure
    assert "error" not in fresh[0]  # uncached routes recover at once
    assert "dashboard_errors_total 0" in metrics
