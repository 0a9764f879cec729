"""Agent JWT checks as the real ``shared/auth.py@c2`` makes them (docs/as-built.md §3), defects included.

* The token comes from an HTTP bearer scheme as FastAPI 0.104.1 (the pinned version) has it:
  no header -> 403 "Not authenticated"; another scheme -> 403 "Invalid authentication
  credentials". (FastAPI >= 0.122 answers 401 there; the model follows the pin.)
* ``jwt.decode(token, secret, algorithms=["HS256"])`` with no issuer or audience: ``iss`` is ignored.
* An expired token -> 401 "Token expirado".
* Any other PyJWT error reaches ``except jwt.JWTError``, a name PyJWT does not have: evaluating
  that clause raises AttributeError, so a cross-agent, malformed or ``alg: none`` token gets 500.
* ``require_role(r)``: ``payload["role"] == r`` or 403 "Se requiere rol: r"; ``admin`` does not pass.
* Each container verifies with its own ``JWT_SECRET_KEY``, which compose sets to
  ``JWT_SECRET_<AGENT>`` when that is set (docs/as-built.md §3.2).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import jwt
from fastapi import HTTPException, Request

from reference_stack._errors import ConfigInvalid

SECRET_ENV = {"deposito": "JWT_SECRET_DEPOSITO", "negocio": "JWT_SECRET_NEGOCIO", "ml": "JWT_SECRET_ML"}


def container_secret(agent: str, env: Mapping[str, str]) -> str:
    """The ``JWT_SECRET_KEY`` compose gives ``agent``'s container: its own secret, else the shared one.

    With neither set, ``validate_env_vars`` stops the real service at start-up; so does the model.
    """
    secret = env.get(SECRET_ENV[agent]) or env.get("JWT_SECRET_KEY")
    if not secret:
        raise ConfigInvalid(
            f"{agent}: JWT_SECRET_KEY is not set (nor {SECRET_ENV[agent]}); validate_env_vars stops start-up"
        )
    return secret


def _bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise HTTPException(status_code=403, detail="Not authenticated")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(status_code=403, detail="Invalid authentication credentials")
    return token


def _verify(token: str, secret: str) -> dict[str, Any]:
    try:
        payload: dict[str, Any] = jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.ExpiredSignatureError:
        raise HTTPException(status_code=401, detail="Token expirado") from None
    # The real code's defect, reproduced as written: PyJWT has no JWTError (python-jose does), so
    # evaluating this clause raises AttributeError and the request ends in a 500.
    except jwt.JWTError:  # type: ignore[attr-defined]
        raise HTTPException(status_code=401, detail="Token inválido") from None
    return payload


def require_role(role: str, secret: str) -> Callable[[Request], Awaitable[dict[str, Any]]]:
    """The dependency ``Depends(require_role(role))`` of the real code, bound to this container's secret."""

    async def check(request: Request) -> dict[str, Any]:
        payload = _verify(_bearer_token(request), secret)
        if payload.get("role") != role:
            raise HTTPException(status_code=403, detail=f"Se requiere rol: {role}")
        return payload

    return check
