"""docs/as-built.md §2.5, §6.2, §7: the as-built stack's nginx models the real ``nginx.conf@c2`` (real nginx).

One small stack (deposito and the dashboard behind the gateway) for the routing and header tests; the
rate-limit test starts its own, because spending the dashboard zone's burst would throttle the others.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from reference_stack import StackHandle, running_stack
from tests.conftest import require_binary

pytestmark = pytest.mark.nginx

NGINX_HEADERS = {"x-frame-options": "DENY", "x-content-type-options": "nosniff",
                 "x-xss-protection": "1; mode=block", "referrer-policy": "strict-origin-when-cross-origin"}
TEN_MB = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackHandle]:
    require_binary("nginx")
    directory = tmp_path_factory.mktemp("stack")
    with running_stack(directory, contract="as-built", services=("deposito", "dashboard")) as stack:
        yield stack


def _gateway(stack: StackHandle) -> str:
    assert "gateway" in stack.services, "nginx is installed but the gateway did not start"
    return stack.services["gateway"]


def _deposito_token(stack: StackHandle) -> dict[str, str]:
    claims = {"sub": "stagegate", "role": "deposito", "exp": int(time.time()) + 600}
    return {"Authorization": "Bearer " + jwt.encode(claims, stack.secrets["JWT_SECRET_DEPOSITO"], algorithm="HS256")}


def test_health_is_static_and_lacks_the_security_headers(model: StackHandle) -> None:
    for path in ("/health", "/healthz"):  # a prefix location: anything under /health is answered by nginx
        response = httpx.get(_gateway(model) + path)
        assert (response.status_code, response.text) == (200, "healthy\n")
        assert not set(NGINX_HEADERS) & set(response.headers)
        assert response.headers.get_list("content-type") == ["application/octet-stream", "text/plain"]


def test_proxied_dashboard_page_carries_both_header_sets(model: StackHandle) -> None:
    response = httpx.get(_gateway(model) + "/")
    assert response.status_code == 200 and "Mini Market" in response.text
    assert response.headers.get_list("referrer-policy") == ["no-referrer", "strict-origin-when-cross-origin"]
    assert response.headers.get_list("x-frame-options") == ["DENY", "DENY"]
    assert response.headers["x-xss-protection"] == "1; mode=block"


def test_api_and_direct_routes_reach_deposito(model: StackHandle) -> None:
    gateway = _gateway(model)
    assert httpx.get(gateway + "/api/deposito/health", headers=_deposito_token(model)).json()["status"] == "healthy"
    refused = httpx.get(gateway + "/direct/deposito/health")
    assert (refused.status_code, refused.json()) == (403, {"status": 403, "code": "http_error",
                                                           "message": "Not authenticated", "path": "/health"})
    statuses = {httpx.get(gateway + "/direct/deposito/metrics").status_code for _ in range(25)}
    assert statuses == {200}  # past the api zone's burst of 20: /direct/ has no rate limit


def test_bodies_over_10_mb_get_nginx_413(model: StackHandle) -> None:
    url = _gateway(model) + "/direct/deposito/productos"
    refused = httpx.post(url, content=b"{" + b" " * TEN_MB + b"}", headers={"Content-Type": "application/json"},
                         timeout=30)
    assert refused.status_code == 413 and "413 Request Entity Too Large" in refused.text
    assert refused.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    passed = httpx.post(url, content=b"{" + b" " * (TEN_MB - 64) + b"}", headers={"Content-Type": "application/json"},
                        timeout=30)
    assert passed.status_code == 403  # deposito itself answered (no token): the body got through


def test_config_models_the_real_file(model: StackHandle) -> None:
    conf = (model.state_dir / "gateway" / "nginx.conf").read_text()
    assert "A model of IR/nginx/nginx.conf@c2" in conf and "limit_req_status 503" not in conf
    for line in ("zone=api:10m rate=100r/m;", "zone=dashboard:10m rate=30r/m;", "client_max_body_size 10M;",
                 "limit_req zone=dashboard burst=10 nodelay;", "limit_req zone=api burst=20 nodelay;",
                 "proxy_read_timeout 60s;", "proxy_read_timeout 30s;", "error_page 500 502 503 504 /50x.html;",
                 f"server 127.0.0.1:{model.info.processes['deposito'].port} max_fails=3 fail_timeout=30s;"):
        assert line in conf
    direct = conf.split("location /direct/deposito/ {")[1].split("}")[0]
    assert "limit_req" not in direct and "timeout" not in direct


def test_dashboard_api_through_the_gateway_gets_503_past_the_burst(tmp_path: Path) -> None:
    require_binary("nginx")
    with running_stack(tmp_path, contract="as-built", services=("dashboard",)) as stack:
        url, key = _gateway(stack) + "/api/summary", {"X-API-Key": stack.secrets["DASHBOARD_API_KEY"]}
        statuses = [httpx.get(url, headers=key).status_code for _ in range(15)]
        limited = httpx.get(url, headers=key)
    assert statuses[:11] == [200] * 11  # one at 30 r/m plus a burst of 10, nodelay
    assert 503 in statuses and limited.status_code == 503
    assert "An error occurred." in limited.text and limited.headers["x-frame-options"] == "DENY"
