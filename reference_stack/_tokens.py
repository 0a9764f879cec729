"""Per-agent JWTs (docs/contract.md §3, R2): issue them, and verify them by the contract's rules.

An agent accepts a token only if its algorithm is HS256, it verifies with the agent's own secret,
``iss`` is the agent's name, and ``exp`` is present and in the future. The JWT fault switches
loosen exactly one rule each.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Literal

import jwt

from reference_stack._faults import FaultSet

ALGORITHM = "HS256"
TOKEN_TTL_S = 28800
ISSUERS = {"deposito": "deposito", "negocio": "negocio", "ml": "ml", "dashboard": "dashboard"}
SECRET_ENV = {
    "deposito": "JWT_SECRET_DEPOSITO",
    "negocio": "JWT_SECRET_NEGOCIO",
    "ml": "JWT_SECRET_ML",
    "dashboard": "JWT_SECRET_DASHBOARD",
}


def issue_token(
    secret: str, *, issuer: str, subject: str, role: str, ttl_s: int = TOKEN_TTL_S, now: float | None = None
) -> str:
    """An HS256 token with the contract's claims: ``sub``, ``role``, ``iss``, ``iat``, ``exp``."""
    issued = int(time.time() if now is None else now)
    claims = {"sub": subject, "role": role, "iss": issuer, "iat": issued, "exp": issued + ttl_s}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class TokenRejected(Exception):
    """Why a request's token was refused; ``reason`` is also the log line's key phrase."""

    def __init__(self, reason: Literal["missing", "issuer mismatch", "invalid token"], detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class TokenVerifier:
    """Verifies bearer tokens for one agent. ``other_secrets`` are used only by the cross-agent fault."""

    def __init__(self, issuer: str, own_secret: str, other_secrets: Sequence[str] = ()) -> None:
        self.issuer = issuer
        self._own = own_secret
        self._others = tuple(other_secrets)

    def verify(self, authorization: str | None, faults: FaultSet) -> dict[str, Any]:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenRejected("missing", "no bearer token in the Authorization header")
        token = token.strip()
        try:
            alg = jwt.get_unverified_header(token).get("alg")
        except jwt.InvalidTokenError as exc:
            raise TokenRejected("invalid token", f"malformed ({exc})") from None
        if alg == "none" and faults.jwt_accept_alg_none:
            return dict(jwt.decode(token, options={"verify_signature": False}))
        if alg != ALGORITHM:
            raise TokenRejected("invalid token", f"algorithm {alg!r} is not {ALGORITHM}")
        keys = (self._own, *self._others) if faults.jwt_accept_cross_agent else (self._own,)
        payload = self._decode(token, keys)
        if not faults.jwt_accept_cross_agent and payload.get("iss") != self.issuer:
            raise TokenRejected("issuer mismatch", f"iss {payload.get('iss')!r} is not {self.issuer!r}")
        return payload

    @staticmethod
    def _decode(token: str, keys: Sequence[str]) -> dict[str, Any]:
        for key in keys:
            try:
                return dict(
                    jwt.decode(
                        token, key, algorithms=[ALGORITHM], options={"require": ["exp"], "verify_iss": False}
                    )
                )
            except jwt.InvalidSignatureError:
                continue
            except jwt.InvalidTokenError as exc:
                raise TokenRejected("invalid token", str(exc)) from None
        raise TokenRejected("invalid token", "signature verification failed")
