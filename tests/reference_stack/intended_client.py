"""Client-side helpers for the intended stack's tests: tokens, headers, log reading."""

from __future__ import annotations

import time
from typing import Any

import httpx
import jwt

from reference_stack import StackHandle, issue_token

SECRET_ENV = {"deposito": "JWT_SECRET_DEPOSITO", "negocio": "JWT_SECRET_NEGOCIO", "ml": "JWT_SECRET_ML"}
ISSUER = {"deposito": "deposito", "negocio": "negocio", "ml": "ml"}
PROTECTED = {
    "deposito": ("GET", "/productos", None),
    "negocio": ("GET", "/api/productos", None),
    "ml": ("POST", "/predict", {"producto_id": 1, "dias": 7}),
}
"""One JWT-protected route per agent, for the token rules."""
SECURITY_HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY"}


def login(stack: StackHandle, service: str) -> str:
    response = httpx.post(f"{stack.services[service]}/auth/login", json={"username": "admin", "password": "test"})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def own_token(stack: StackHandle, service: str, **claims: Any) -> str:
    """A token ``service`` must accept, with ``claims`` overriding the defaults."""
    now = int(time.time())
    payload = {"sub": "tester", "role": "admin", "iss": ISSUER[service], "iat": now, "exp": now + 600, **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, stack.secrets[SECRET_ENV[service]],
                      algorithm="HS256")


def peer_token(stack: StackHandle, peer: str) -> str:
    return issue_token(stack.secrets[SECRET_ENV[peer]], issuer=ISSUER[peer], subject="tester", role=peer)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def call(stack: StackHandle, service: str, token: str | None) -> httpx.Response:
    method, path, body = PROTECTED[service]
    headers = bearer(token) if token is not None else {}
    return httpx.request(method, stack.services[service] + path, json=body, headers=headers)


def has_security_headers(response: httpx.Response) -> bool:
    return all(response.headers.get(k) == v for k, v in SECURITY_HEADERS.items()) and bool(
        response.headers.get("content-security-policy")
    )


def log_since(stack: StackHandle, service: str, mark: int) -> list[str]:
    """Lines ``service`` logged after ``mark`` (a length from ``log_mark``)."""
    return stack.log(service)[mark:].splitlines()


def log_mark(stack: StackHandle, service: str) -> int:
    return len(stack.log(service))


def logged(stack: StackHandle, service: str, mark: int, needle: str, count: int, timeout_s: float = 3.0) -> list[str]:
    """Lines containing ``needle`` logged after ``mark``, waiting until there are ``count`` of them.

    A request's line is written once its response has gone out, so it may trail the client a little.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        lines = [line for line in log_since(stack, service, mark) if needle in line]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.02)
