"""docs/contract.md §3 on every agent: health, login, per-agent JWT rules, errors, headers, logs."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import jwt
import pytest

from reference_stack import StackHandle
from tests.reference_stack.intended_client import (
    ISSUER,
    PROTECTED,
    SECRET_ENV,
    bearer,
    call,
    has_security_headers,
    log_mark,
    log_since,
    logged,
    own_token,
    peer_token,
)

AGENTS = ("deposito", "negocio", "ml")
PEER = {"deposito": "negocio", "negocio": "deposito", "ml": "negocio"}


@pytest.mark.parametrize("service", AGENTS)
def test_health_answers_without_auth(stack: StackHandle, service: str) -> None:
    response = httpx.get(stack.services[service] + "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "service": service, "version": "0.10.0"}
    assert has_security_headers(response)


@pytest.mark.parametrize("service", AGENTS)
def test_login_issues_a_token_the_agent_signed(stack: StackHandle, service: str) -> None:
    response = httpx.post(stack.services[service] + "/auth/login", json={"username": "admin", "password": "test"})
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer" and body["expires_in"] == 28800
    claims = jwt.decode(body["access_token"], stack.secrets[SECRET_ENV[service]], algorithms=["HS256"],
                        issuer=ISSUER[service])
    assert claims["sub"] == "admin" and claims["role"] == "admin"
    assert claims["exp"] - claims["iat"] == 28800
    assert call(stack, service, body["access_token"]).status_code == 200


@pytest.mark.parametrize("service", AGENTS)
def test_login_refuses_wrong_credentials(stack: StackHandle, service: str) -> None:
    url = stack.services[service] + "/auth/login"
    wrong = httpx.post(url, json={"username": "admin", "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.json() == {"detail": "Credenciales inválidas"}
    malformed = httpx.post(url, json={"username": "admin"})
    assert malformed.status_code == 422
    assert malformed.json() == {"detail": "body.password: Field required"}


@pytest.mark.parametrize("service", AGENTS)
def test_missing_authorization_is_401(stack: StackHandle, service: str) -> None:
    response = call(stack, service, None)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}
    assert has_security_headers(response)


def _expired(stack: StackHandle, service: str) -> str:
    past = int(time.time()) - 3600
    return own_token(stack, service, iat=past - 60, exp=past)


TokenMaker = Callable[[StackHandle, str], str]
REJECTED: dict[str, tuple[TokenMaker, str]] = {
    "cross_agent": (lambda s, svc: peer_token(s, PEER[svc]), "invalid token"),
    "own_secret_wrong_iss": (lambda s, svc: own_token(s, svc, iss=ISSUER[PEER[svc]]), "issuer mismatch"),
    "own_secret_no_iss": (lambda s, svc: own_token(s, svc, iss=None), "issuer mismatch"),
    "expired": (_expired, "invalid token"),
    "no_exp": (lambda s, svc: own_token(s, svc, exp=None), "invalid token"),
    "alg_none": (lambda s, svc: jwt.encode({"iss": ISSUER[svc], "exp": int(time.time()) + 600}, None,
                                           algorithm="none"), "invalid token"),
    "hs512_own_secret": (lambda s, svc: jwt.encode({"iss": ISSUER[svc], "exp": int(time.time()) + 600},
                                                   s.secrets[SECRET_ENV[svc]], algorithm="HS512"), "invalid token"),
    "garbage": (lambda s, svc: "not-a-jwt", "invalid token"),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
@pytest.mark.parametrize("service", AGENTS)
def test_token_rules_reject_with_401_and_a_warning(stack: StackHandle, service: str, case: str) -> None:
    make, phrase = REJECTED[case]
    mark = log_mark(stack, service)
    response = call(stack, service, make(stack, service))
    assert response.status_code == 401
    assert response.json() == {"detail": phrase.capitalize()}
    assert has_security_headers(response)
    warnings = [line for line in log_since(stack, service, mark) if " WARNING " in line]
    assert len(warnings) == 1 and f"WARNING {service} {phrase} on " in warnings[0]


@pytest.mark.parametrize("service", AGENTS)
def test_own_token_is_accepted(stack: StackHandle, service: str) -> None:
    assert call(stack, service, own_token(stack, service)).status_code == 200


@pytest.mark.parametrize("service", AGENTS)
def test_unknown_route_is_a_json_404(stack: StackHandle, service: str) -> None:
    response = httpx.get(stack.services[service] + "/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert has_security_headers(response)


@pytest.mark.parametrize("service", AGENTS)
def test_one_log_line_per_request(stack: StackHandle, service: str) -> None:
    mark = log_mark(stack, service)
    token = own_token(stack, service)
    for _ in range(3):
        call(stack, service, token)
    method, path, _ = PROTECTED[service]
    lines = logged(stack, service, mark, f" {method} {path} ", 3)
    assert len(lines) == 3 and all(" INFO " in line and " 200 " in line for line in lines)


def test_secrets_never_reach_the_logs(stack: StackHandle) -> None:
    httpx.get(stack.services["deposito"] + "/productos", headers=bearer(own_token(stack, "deposito")))
    text = "".join(stack.log(name) for name in ("deposito", "negocio", "ml", "dashboard"))
    assert not any(value in text for value in stack.secrets.values())
