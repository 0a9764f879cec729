"""docs/contract.md §2: the nginx gateway's routes, body limit, timeouts and rate limits (real nginx)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from reference_stack import StackHandle, running_stack
from tests.conftest import require_binary
from tests.reference_stack.intended_client import bearer, has_security_headers, own_token

pytestmark = pytest.mark.nginx


@pytest.fixture
def gateway(stack: StackHandle) -> str:
    require_binary("nginx")
    assert "gateway" in stack.services
    return stack.services["gateway"]


def test_health_is_answered_by_nginx_itself(gateway: str) -> None:
    response = httpx.get(gateway + "/health")
    assert (response.status_code, response.text) == (200, "healthy\n")
    assert response.headers["content-type"] == "text/plain" and has_security_headers(response)


@pytest.mark.parametrize("service", ["deposito", "negocio", "ml"])
def test_api_prefixes_route_to_their_agent(stack: StackHandle, gateway: str, service: str) -> None:
    response = httpx.get(f"{gateway}/api/{service}/health")
    assert response.json() == {"status": "healthy", "service": service, "version": "0.10.0"}


def test_authenticated_call_through_the_gateway(stack: StackHandle, gateway: str) -> None:
    response = httpx.get(gateway + "/api/deposito/productos/1", headers=bearer(own_token(stack, "deposito")))
    assert response.status_code == 200 and response.json()["id"] == 1


def test_root_routes_to_the_dashboard(gateway: str) -> None:
    response = httpx.get(gateway + "/")
    assert response.status_code == 200 and "<h1>Inventario retail" in response.text


def test_admin_endpoints_are_not_reachable_through_the_gateway(stack: StackHandle, gateway: str) -> None:
    headers = {"X-Stagegate-Admin": stack.secrets["STAGEGATE_ADMIN_TOKEN"]}
    assert httpx.get(gateway + "/api/deposito/__admin/faults", headers=headers).status_code == 404
    assert httpx.get(gateway + "/__admin/faults", headers=headers).status_code == 404


def test_bodies_over_10_mb_get_413_from_nginx_and_smaller_ones_pass(stack: StackHandle, gateway: str) -> None:
    url = gateway + "/api/negocio/procesar_factura_completa"
    headers = bearer(own_token(stack, "negocio"))
    too_big = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 1)
    refused = httpx.post(url, files={"file": ("big.pdf", too_big, "application/pdf")}, headers=headers, timeout=30)
    assert refused.status_code == 413
    assert refused.json() == {"detail": "Request body exceeds the gateway limit (10M)"}
    assert refused.headers["server"].startswith("nginx")
    not_pdf_but_small = b"PK" + b"0" * (9 * 1024 * 1024)
    passed = httpx.post(url, files={"file": ("z.pdf", not_pdf_but_small, "application/pdf")}, headers=headers, timeout=30)
    assert passed.status_code == 400  # negocio itself answered: the body got through


def test_config_mirrors_the_contract(stack: StackHandle, gateway: str) -> None:
    conf = (stack.state_dir / "gateway" / "nginx.conf").read_text()
    for line in ("client_max_body_size 10M;", "limit_req_zone $binary_remote_addr zone=api:1m rate=100r/m;",
                 "limit_req_zone $binary_remote_addr zone=dashboard:1m rate=30r/m;", "limit_req_status 503;",
                 "limit_req zone=api burst=20 nodelay;", "limit_req zone=api burst=10 nodelay;",
                 "limit_req zone=dashboard burst=10 nodelay;", "proxy_read_timeout 60s;", "proxy_read_timeout 120s;",
                 "proxy_read_timeout 180s;", "proxy_read_timeout 30s;", "daemon off;"):
        assert line in conf
    assert "/etc/nginx" not in conf and str(stack.state_dir) in conf


def test_rate_limit_answers_503(tmp_path: Path) -> None:
    require_binary("nginx")
    with running_stack(tmp_path, services=("ml",)) as small:
        statuses = [httpx.get(small.services["gateway"] + "/api/ml/health").status_code for _ in range(15)]
        assert statuses[:11] == [200] * 11  # one allowed plus a burst of 10
        assert 503 in statuses
        limited = httpx.get(small.services["gateway"] + "/api/ml/health")
        assert limited.json() == {"detail": "Too many requests at the gateway"} and has_security_headers(limited)
