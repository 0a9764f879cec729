"""docs/contract.md §7: API key, pages, JSON API, Prometheus metrics, rate limit, security headers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from generators.catalogue import CATALOGUE
from reference_stack import StackHandle, running_stack
from tests.reference_stack.intended_client import has_security_headers

API_PATHS = ("/api/summary", "/api/providers", "/api/top-products?limit=3", "/api/stock-timeline?days=7", "/metrics")


def keyed(stack: StackHandle) -> dict[str, str]:
    return {"X-API-Key": stack.secrets["DASHBOARD_API_KEY"]}


def metrics(stack: StackHandle) -> dict[str, float]:
    text = httpx.get(stack.services["dashboard"] + "/metrics", headers=keyed(stack)).text
    return {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples}


def test_health_and_page_are_open(stack: StackHandle) -> None:
    health = httpx.get(stack.services["dashboard"] + "/health")
    assert (health.status_code, health.json()) == (200, {"status": "healthy", "database": "connected"})
    page = httpx.get(stack.services["dashboard"] + "/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Inventario retail" in page.text and has_security_headers(page)
    css = httpx.get(stack.services["dashboard"] + "/static/dashboard.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]


@pytest.mark.parametrize("path", API_PATHS)
@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_protected_routes_need_the_api_key(stack: StackHandle, path: str, key: str | None) -> None:
    headers = {"X-API-Key": key} if key else {}
    response = httpx.get(stack.services["dashboard"] + path, headers=headers)
    assert (response.status_code, response.json()) == (401, {"detail": "API key inválida"})
    assert has_security_headers(response)


def test_api_routes_answer_json(stack: StackHandle) -> None:
    base, headers = stack.services["dashboard"], keyed(stack)
    summary = httpx.get(base + "/api/summary", headers=headers).json()
    assert summary["total_productos"] == len(CATALOGUE) and summary["total_proveedores"] >= 1
    providers = httpx.get(base + "/api/providers", headers=headers).json()
    assert sum(p["productos"] for p in providers) == len(CATALOGUE)
    assert len(httpx.get(base + "/api/top-products", params={"limit": 3}, headers=headers).json()) == 3
    timeline = httpx.get(base + "/api/stock-timeline", params={"days": 7}, headers=headers).json()
    assert len(timeline) == 7 and set(timeline[0]) == {"fecha", "entradas", "salidas", "movimientos"}
    too_many = httpx.get(base + "/api/top-products", params={"limit": 101}, headers=headers)
    assert too_many.status_code == 422


def test_metrics_are_prometheus_text_with_the_contract_names(stack: StackHandle) -> None:
    response = httpx.get(stack.services["dashboard"] + "/metrics", headers=keyed(stack))
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    first = metrics(stack)
    httpx.get(stack.services["dashboard"] + "/health")
    second = metrics(stack)
    assert second["dashboard_requests_total"] == first["dashboard_requests_total"] + 2  # the health and a scrape
    assert second["dashboard_errors_total"] == 0
    assert 0 < second["dashboard_request_duration_ms_p95"] < 500
    assert second["dashboard_uptime_seconds"] > 0


def test_rate_limit_per_ip_and_path_answers_429_with_headers(tmp_path: Path) -> None:
    env = {"DASHBOARD_RATELIMIT_MAX": "5", "DASHBOARD_RATELIMIT_WINDOW": "60"}
    with running_stack(tmp_path, services=("dashboard",), gateway=False, env=env) as dash:
        base, headers = dash.services["dashboard"], keyed(dash)
        statuses = [httpx.get(base + "/api/summary", headers=headers).status_code for _ in range(5)]
        limited = httpx.get(base + "/api/summary", headers=headers)
        assert statuses == [200] * 5
        assert (limited.status_code, limited.json()) == (429, {"error": "Rate limit excedido"})
        assert has_security_headers(limited)
        assert httpx.get(base + "/api/providers", headers=headers).status_code == 200  # another path
        assert httpx.get(base + "/health").status_code == 200
        assert metrics(dash)["dashboard_errors_total"] == 0
