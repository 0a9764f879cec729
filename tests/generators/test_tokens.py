"""Every token case is what it claims: checked with PyJWT against the issuer's and target's secrets.

``verify`` is each contract's acceptance rule written with PyJWT: docs/contract.md §3 (HS256, own
secret, ``iss`` equal to the agent's name, ``exp`` required) and docs/as-built.md §3.3 (HS256, own
secret, ``exp`` checked when present, ``role`` must match, ``iss`` ignored).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import warnings

import jwt
import pytest

from generators import (
    ATTACK_NAMES,
    TokenCase,
    TokenCatalogue,
    build_catalogue,
    load_catalogue,
    write_catalogue,
)
from generators._jws import b64url
from generators.tokens import ATTACKER_KEY, WEAK_SECRETS
from tests.generators.conftest import AGENTS, SECRETS

NOW = int(time.time()) - 60
"""A real clock: PyJWT checks exp, nbf and iat against it."""
BY_NAME = {agent.name: agent for agent in AGENTS}


class RoleMismatch(Exception):
    """as-built ``require_role``: 403."""


def verify(style: str, token: str, secret: str, agent_name: str) -> dict:
    agent = BY_NAME[agent_name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if style == "iss":
            return jwt.decode(token, secret, algorithms=["HS256"], issuer=agent.issuer,
                              options={"require": ["exp", "iss"]})
        claims = jwt.decode(token, secret, algorithms=["HS256"])
    if claims.get("role") != agent.role:
        raise RoleMismatch(claims.get("role"))
    return claims


def outcome(style: str, case: TokenCase, secret_of: str) -> str:
    """``ok`` or the name of the exception that refused the case with ``secret_of``'s secret."""
    try:
        verify(style, case.token, SECRETS[secret_of], secret_of)
    except (jwt.InvalidTokenError, RoleMismatch) as exc:
        return type(exc).__name__
    return "ok"


SIG, ALG, ISS = "InvalidSignatureError", "InvalidAlgorithmError", "InvalidIssuerError"
# attack -> (intended: at target, as-built: at target)
AT_TARGET = {
    "control": ("ok", "ok"),
    "cross_agent": (SIG, SIG),
    "shared_secret_wrong_iss": (ISS, "ok"),  # as-built has no iss check: its R2 gap
    "shared_secret_wrong_role": (ISS, "RoleMismatch"),
    "role_swapped_signature_kept": (SIG, SIG),
    **{f"alg_none_{label}": (ALG, ALG) for label in ("lower", "title", "upper", "mixed")},
    "empty_signature": (SIG, SIG),
    "signature_cut": (SIG, SIG),
    "payload_tampered": (SIG, SIG),
    **{f"weak_secret_{label}": (SIG, SIG) for label in WEAK_SECRETS},
    "expired": ("ExpiredSignatureError", "ExpiredSignatureError"),
    "nbf_future": ("ImmatureSignatureError", "ImmatureSignatureError"),
    "exp_missing": ("MissingRequiredClaimError", "ok"),  # as-built never requires exp
    "iat_far_future": ("ImmatureSignatureError", "ImmatureSignatureError"),
    "alg_rs256_hmac_signed": (ALG, ALG),
    "alg_es256_hmac_signed": (ALG, ALG),
    "kid_path_traversal": (SIG, SIG),
    "kid_sql_injection": (SIG, SIG),
    "jku_loopback": (SIG, SIG),
    "x5u_loopback": (SIG, SIG),
    "embedded_jwk": (SIG, SIG),
    "unknown_crit": ("InvalidTokenError", "InvalidTokenError"),
    "oversized_16kb": (SIG, SIG),
}
# pair attack -> result at the issuer with the issuer's own secret (same for both styles)
AT_ISSUER = {
    "cross_agent": "ok",
    "shared_secret_wrong_iss": SIG,
    "shared_secret_wrong_role": SIG,
    "role_swapped_signature_kept": SIG,
}


def catalogue(style: str, secrets: dict[str, str] = SECRETS) -> TokenCatalogue:
    return build_catalogue(AGENTS, secrets, claim_style=style, rejected_statuses=[401, 403], now=NOW, seed=3)


@pytest.fixture(scope="module", params=["iss", "role"])
def built(request: pytest.FixtureRequest) -> TokenCatalogue:
    return catalogue(request.param)


def test_table_covers_every_attack() -> None:
    assert set(AT_TARGET) == set(ATTACK_NAMES)


def test_cases_for_every_pair_and_target(built: TokenCatalogue) -> None:
    ids = [case.id for case in built.cases]
    assert len(ids) == len(set(ids)) == 3 * (len(ATTACK_NAMES) - len(AT_ISSUER)) + 6 * len(AT_ISSUER)
    assert all(re.fullmatch(r"[a-z0-9_]+__[a-z_]+", case_id) for case_id in ids)
    pairs = {(c.issuer, c.target) for c in built.cases if c.attack == "cross_agent"}
    assert pairs == {(a.name, b.name) for a in AGENTS for b in AGENTS if a != b}
    assert "cross_agent__deposito_to_negocio" in ids and "alg_none_mixed__ml" in ids


def test_every_case_verifies_as_claimed(built: TokenCatalogue) -> None:
    style = built.claim_style
    column = 0 if style == "iss" else 1
    for case in built.cases:
        assert outcome(style, case, case.target) == AT_TARGET[case.attack][column], case.id
        if case.issuer != case.target:
            assert outcome(style, case, case.issuer) == AT_ISSUER[case.attack], case.id


def test_expectations_and_claims_per_style(built: TokenCatalogue) -> None:
    for case in built.cases:
        if case.attack == "control":
            assert case.expect == "accept" and 200 in case.expected_statuses and case.severity == "info"
        else:
            assert case.expect == "reject" and {401, 403} <= set(case.expected_statuses)
            assert all(status >= 400 for status in case.expected_statuses)
    control = built.case("control__ml")
    if built.claim_style == "iss":
        assert control.claims == {"sub": "stagegate-ml", "role": "ml_service", "iss": "ml", "iat": NOW,
                                  "exp": NOW + 28800}
    else:
        assert control.claims == {"sub": "stagegate-ml", "role": "ml_service", "exp": NOW + 28800}
    assert built.case("oversized_16kb__negocio").expected_statuses == [400, 401, 403, 413, 431]


def _hmac_ok(token: str, key: str) -> bool:
    signing_input, signature = token.rsplit(".", 1)
    expected = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(b64url(expected), signature)


def _signature_bytes(token: str) -> bytes:
    signature = token.rsplit(".", 1)[1]
    return base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))


def test_forgeries_are_built_as_described() -> None:
    built = catalogue("iss")
    target_secret = SECRETS["negocio"]
    for label, alg in {"lower": "none", "title": "None", "upper": "NONE", "mixed": "nOnE"}.items():
        case = built.case(f"alg_none_{label}__negocio")
        assert case.header["alg"] == alg and case.token.endswith(".") and case.claims["iss"] == "negocio"
    for label, value in WEAK_SECRETS.items():
        assert _hmac_ok(built.case(f"weak_secret_{label}__negocio").token, value)
    assert _hmac_ok(built.case("kid_path_traversal__negocio").token, "")
    for attack in ("kid_sql_injection", "jku_loopback", "x5u_loopback", "embedded_jwk", "oversized_16kb"):
        assert _hmac_ok(built.case(f"{attack}__negocio").token, ATTACKER_KEY), attack
    assert built.case("kid_path_traversal__negocio").header["kid"].startswith("../")
    assert "UNION SELECT" in built.case("kid_sql_injection__negocio").header["kid"]
    assert built.case("jku_loopback__negocio").header["jku"].startswith("http://127.0.0.1:")
    assert built.case("x5u_loopback__negocio").header["x5u"].startswith("http://127.0.0.1:")
    assert built.case("embedded_jwk__negocio").header["jwk"]["kty"] == "oct"
    for alg in ("rs256", "es256"):
        case = built.case(f"alg_{alg}_hmac_signed__negocio")
        assert case.header["alg"] == alg.upper() and _hmac_ok(case.token, target_secret)
    assert len(built.case("oversized_16kb__negocio").token) >= 16 * 1024
    control = built.case("control__negocio").token
    cut = built.case("signature_cut__negocio").token
    cut_bytes, control_bytes = (_signature_bytes(token) for token in (cut, control))
    assert len(cut_bytes) == 16 and control_bytes.startswith(cut_bytes)
    tampered = built.case("payload_tampered__negocio")
    assert tampered.token.rsplit(".", 1)[1] == control.rsplit(".", 1)[1] and tampered.claims["sub"] == "admin"
    swapped = built.case("role_swapped_signature_kept__deposito_to_negocio")
    original = built.case("cross_agent__deposito_to_negocio")
    assert swapped.claims["role"] == "negocio" and swapped.claims["iss"] == "negocio"
    assert swapped.token.rsplit(".", 1)[1] == original.token.rsplit(".", 1)[1]
    with pytest.raises(jwt.InvalidTokenError, match="critical extension"):
        jwt.decode(built.case("unknown_crit__negocio").token, target_secret, algorithms=["HS256"])


def test_as_built_with_one_shared_secret_isolates_only_by_role() -> None:
    """docs/as-built.md §3.4: per-agent secrets unset -> a cross-agent token differs only by role -> 403."""
    shared = "test-shared-jwt-secret-key-0123456789abc"
    built = catalogue("role", {name: shared for name in SECRETS})
    case = built.case("cross_agent__deposito_to_negocio")
    with pytest.raises(RoleMismatch):
        verify("role", case.token, shared, "negocio")


def test_catalogue_json_round_trip_without_secrets(built: TokenCatalogue, tmp_path) -> None:
    path = write_catalogue(built, tmp_path / "sub" / "tokens.json")
    text = path.read_text()
    for secret in SECRETS.values():
        assert secret not in text
    assert load_catalogue(path) == built
    assert json.loads(text)["claim_style"] == built.claim_style


def test_catalogue_is_private_and_replaced_whole(built: TokenCatalogue, tmp_path) -> None:
    """Control tokens are valid for hours: only the owner may read the file, even when it existed wider."""
    path = tmp_path / "tokens.json"
    path.write_text("old")
    path.chmod(0o644)
    write_catalogue(built, path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_catalogue(path) == built
    assert [p.name for p in tmp_path.iterdir()] == ["tokens.json"]  # no temporary left beside it


def test_same_inputs_same_catalogue() -> None:
    assert catalogue("iss") == catalogue("iss")
