"""What the three agents share (docs/contract.md §3): ``/health``, ``/auth/login`` and token checks."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from reference_stack._config import VERSION, ServiceConfig
from reference_stack._faults import LiveFaults
from reference_stack._http import ADMIN_TOKEN_ENV, LOGIN_PATH, install_admin, new_app
from reference_stack._tokens import (
    ISSUERS,
    SECRET_ENV,
    TOKEN_TTL_S,
    TokenRejected,
    TokenVerifier,
    issue_token,
)

USERS_ENV = "AUTH_USERS"
DEFAULT_USERS = "admin:test:admin"
"""``user:password:role`` entries, comma-separated; the checklist's staging account by default."""

Claims = dict[str, Any]


class LoginRequest(BaseModel):
    username: str
    password: str


def _users(text: str) -> dict[str, tuple[str, str]]:
    users: dict[str, tuple[str, str]] = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        name, _, rest = entry.partition(":")
        password, _, role = rest.partition(":")
        users[name] = (password, role or "admin")
    return users


def agent_app(config: ServiceConfig, faults: LiveFaults, health_problem: Callable[[], str | None]) -> FastAPI:
    """An agent's app with health, login and the admin endpoint; its routes are added by the caller.

    Cheap handlers are ``async def``: a sync handler costs two thread hand-offs per request, which
    dominates on a loaded machine. Writes and anything that may wait on a lock stay sync.
    """
    name = config.service
    secret = config.secret(SECRET_ENV[name])
    users = _users(config.setting(USERS_ENV, DEFAULT_USERS))
    app = new_app(f"{name} (reference stack, intended contract)")
    install_admin(app, faults, config.env.get(ADMIN_TOKEN_ENV, ""))

    @app.get("/health")
    async def health() -> JSONResponse:
        problem = "health check failing (fault injected)" if faults.current.health_failing else health_problem()
        if problem is not None:
            return JSONResponse({"status": "unhealthy", "service": name, "error": problem}, status_code=503)
        return JSONResponse({"status": "healthy", "service": name, "version": VERSION})

    @app.post(LOGIN_PATH)
    async def login(body: LoginRequest) -> dict[str, Any]:
        known = users.get(body.username)
        if known is None or not hmac.compare_digest(known[0].encode(), body.password.encode()):
            raise HTTPException(401, "Credenciales inválidas")
        token = issue_token(secret, issuer=ISSUERS[name], subject=body.username, role=known[1])
        return {"access_token": token, "token_type": "bearer", "expires_in": TOKEN_TTL_S}

    return app


def token_check(
    config: ServiceConfig, faults: LiveFaults, logger: logging.Logger
) -> Callable[[Request], Awaitable[Claims]]:
    """A FastAPI dependency enforcing the agent's token rules (R2); its value is the token's claims.

    A refusal is 401 with a WARNING naming ``issuer mismatch`` or ``invalid token`` (never the
    token). With ``jwt_invalid_500`` an invalid token raises instead, as the real code does.
    """
    name = config.service
    others = [config.env.get(SECRET_ENV[peer], "") for peer in SECRET_ENV if peer != name]
    verifier = TokenVerifier(ISSUERS[name], config.secret(SECRET_ENV[name]), [s for s in others if s])

    async def require_token(request: Request) -> Claims:
        try:
            return verifier.verify(request.headers.get("authorization"), faults.current)
        except TokenRejected as exc:
            if exc.reason == "missing":
                raise HTTPException(401, "Not authenticated", headers={"WWW-Authenticate": "Bearer"}) from None
            logger.warning("%s on %s %s: %s", exc.reason, request.method, request.url.path, exc.detail)
            if faults.current.jwt_invalid_500:
                raise AttributeError("module 'jwt' has no attribute 'JWTError'") from None
            raise HTTPException(401, exc.reason.capitalize(), headers={"WWW-Authenticate": "Bearer"}) from None

    return require_token
