"""Hand-built JWS compact tokens, for the forgeries PyJWT refuses to make.

PyJWT will not sign with an empty key, write ``alg: None`` in odd casings, put an HMAC signature
under an ``RS256`` header, cut a signature or swap a payload under a kept signature. These few
functions do exactly that and nothing more; well-formed tokens come from PyJWT itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment(part: dict[str, Any]) -> str:
    return b64url(json.dumps(part, separators=(",", ":")).encode("utf-8"))


def hmac_signed(header: dict[str, Any], claims: dict[str, Any], key: str) -> str:
    """``header.claims.HMAC-SHA256(key)``, whatever ``alg`` the header claims."""
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = hmac.new(key.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """``header.claims.`` with an empty signature segment."""
    return f"{_segment(header)}.{_segment(claims)}."


def with_claims(token: str, claims: dict[str, Any]) -> str:
    """``token`` with its payload replaced and its header and signature kept."""
    header, _, signature = token.split(".")
    return f"{header}.{_segment(claims)}.{signature}"


def decoded_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of ``token``, unverified (for readers of the catalogue)."""
    header, payload, _ = token.split(".")
    return json.loads(_unb64url(header)), json.loads(_unb64url(payload))


def _unb64url(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def cut_signature(token: str, keep_bytes: int) -> str:
    """``token`` with only the first ``keep_bytes`` bytes of its signature, re-encoded canonically.

    Cutting the base64 text instead would leave non-canonical padding bits, which PyJWT and other
    strict decoders refuse as malformed before any signature check: a different defect.
    """
    header, payload, signature = token.split(".")
    return f"{header}.{payload}.{b64url(_unb64url(signature)[:keep_bytes])}"
