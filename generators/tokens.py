"""The forged-JWT catalogue for the R2 checks: every case a correct agent must refuse, plus controls.

Each case has exactly one defect, so a rejection proves that defect is caught:

- pair cases (every ordered pair issuer -> target): ``cross_agent`` (issuer's valid token),
  ``shared_secret_wrong_iss`` (target's secret, only ``iss`` foreign), ``shared_secret_wrong_role``
  (target's secret, issuer's claims: what shared secrets make possible), ``role_swapped_signature_kept``;
- target cases (claims are the target's own, issuer = target): alg ``none`` in four casings, empty and
  cut signatures, a tampered payload, weak and default secrets, expired, ``nbf`` ahead, ``exp``
  missing, ``iat`` far ahead, RS256/ES256 headers over an HMAC signature, ``kid`` path traversal and
  SQL injection, ``jku``/``x5u`` to loopback, an embedded ``jwk``, an unknown ``crit``, a 16 KB token;
- one ``control`` per target: valid in every respect, must be accepted.

Two claim styles: ``iss`` (intended contract: ``sub``, ``role``, ``iss``, ``iat``, ``exp``) and
``role`` (as-built: ``sub``, ``role``, ``exp``; no ``iss`` check exists, so isolation rests on each
container's own secret). Secrets sign the tokens and are never written: the catalogue names only
which key signed a case (``signed_with``). Usage::

    catalogue = build_catalogue(agents, secrets, claim_style="iss", rejected_statuses=[401, 403])
    write_catalogue(catalogue, "tokens.json")
    for case in load_catalogue("tokens.json").for_target("negocio"): ...
"""

from __future__ import annotations

import random
import string
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from generators._errors import CatalogueInvalid
from generators._jsonfile import load_json_model
from generators._jws import b64url, cut_signature, decoded_parts, hmac_signed, unsigned, with_claims
from stagegate_core.atomicfile import write_text_atomic
from stagegate_core.models import FrozenModel
from stagegate_core.stream import Severity

ClaimStyle = Literal["iss", "role"]
SignedWith = Literal["issuer", "target", "weak", "attacker", "nothing"]
ACCEPTED_STATUSES = [200, 201, 202, 204]
"""What a control must get: any of these (2xx)."""
OVERSIZE_STATUSES = [400, 413, 431]
"""A 16 KB header may also be refused for its size before any token check."""
OVERSIZE_TOKEN_CHARS = 16 * 1024
ATTACKER_KEY = "stagegate-attacker-controlled-hmac-key-0001"
"""Key an attacker controls (published via jku/x5u/jwk, or chosen through kid); not a secret."""
WEAK_SECRETS = {
    "empty": "",
    "secret": "secret",
    "change_me_in_production": "CHANGE-ME-IN-PRODUCTION",
    "change_me": "change-me",
}
"""Label -> well-known weak value: the as-built default JWT_SECRET_KEY and the Dockerfile's key default."""
ALG_NONE_CASINGS = {"lower": "none", "title": "None", "upper": "NONE", "mixed": "nOnE"}
KID_TRAVERSAL = "../../../../../../../dev/null"
KID_SQL_INJECTION = f"x' UNION SELECT '{ATTACKER_KEY}' -- "
LOOPBACK_JWKS_URL = "http://127.0.0.1:9/.well-known/jwks.json"
LOOPBACK_X5U_URL = "http://127.0.0.1:9/cert.pem"
UNKNOWN_CRIT = "stagegate-unknown-extension"


class AgentIdentity(FrozenModel):
    """An agent as tokens see it: the claims it issues and demands, and its secret's variable."""

    name: str
    issuer: str
    role: str
    secret_env: str


class TokenCase(FrozenModel):
    """One token to present to one agent, and what a correct agent answers."""

    id: str
    """Stable snake_case: ``<attack>__<issuer>_to_<target>`` for pairs, ``<attack>__<target>`` otherwise."""
    attack: str
    description: str
    issuer: str
    target: str
    token: str
    expect: Literal["accept", "reject"]
    expected_statuses: list[int]
    severity: Severity
    signed_with: SignedWith
    """Which key made the signature (never the key itself)."""
    header: dict[str, Any]
    claims: dict[str, Any]


class TokenCatalogue(FrozenModel):
    """Every case for one profile, built at ``generated_at``; tokens expire ``ttl_s`` later."""

    version: Literal[1] = 1
    profile: str
    claim_style: ClaimStyle
    generated_at: int
    expires_at: int
    rejected_statuses: list[int]
    agents: list[AgentIdentity]
    cases: list[TokenCase]

    def for_target(self, target: str) -> list[TokenCase]:
        return [case for case in self.cases if case.target == target]

    def case(self, case_id: str) -> TokenCase:
        for case in self.cases:
            if case.id == case_id:
                return case
        raise KeyError(case_id)


@dataclass(frozen=True)
class _Context:
    """What one attack builder needs: both agents, their secrets, the clock, the claim style."""

    issuer: AgentIdentity
    target: AgentIdentity
    secrets: Mapping[str, str]
    style: ClaimStyle
    now: int
    ttl_s: int
    filler: random.Random

    def claims(self, agent: AgentIdentity, **changes: Any) -> dict[str, Any]:
        """``agent``'s valid claims in this style, with ``changes`` applied (None removes a claim)."""
        claims: dict[str, Any] = {"sub": f"stagegate-{agent.name}", "role": agent.role}
        if self.style == "iss":
            claims.update(iss=agent.issuer, iat=self.now)
        claims["exp"] = self.now + self.ttl_s
        claims.update(changes)
        return {key: value for key, value in claims.items() if value is not None}

    def signed(self, agent: AgentIdentity, claims: dict[str, Any]) -> str:
        """A well-formed HS256 token over ``claims`` with ``agent``'s own secret, made by PyJWT.

        PyJWT warns about keys under 32 bytes; the warning would go to the user's terminal and
        tell the length of a real secret, so it is silenced here.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InsecureKeyLengthWarning)
            return jwt.encode(claims, self.secrets[agent.name], algorithm="HS256")

    def padding(self, chars: int) -> str:
        return "".join(self.filler.choices(string.ascii_letters, k=chars))


@dataclass(frozen=True)
class _Attack:
    name: str
    pair: bool
    """True: one case per ordered (issuer, target) pair; False: one per target, issuer = target."""
    severity: Severity
    signed_with: SignedWith
    description: str
    """Why a correct agent refuses it; ``{issuer}`` and ``{target}`` are filled in."""
    build: Callable[[_Context], str]


def _role_swapped(c: _Context) -> str:
    original = c.signed(c.issuer, c.claims(c.issuer))
    swapped = c.claims(c.issuer, role=c.target.role, iss=c.target.issuer if c.style == "iss" else None)
    return with_claims(original, swapped)


def _tampered(c: _Context) -> str:
    original = c.signed(c.target, c.claims(c.target))
    return with_claims(original, c.claims(c.target, sub="admin", exp=c.now + 365 * 86400))


def _cut(c: _Context) -> str:
    token = c.signed(c.target, c.claims(c.target))
    return cut_signature(token, keep_bytes=16)


def _oversized(c: _Context) -> str:
    base = hmac_signed({"alg": "HS256", "typ": "JWT"}, c.claims(c.target, pad=""), ATTACKER_KEY)
    pad = c.padding((OVERSIZE_TOKEN_CHARS - len(base)) * 3 // 4 + 4)
    return hmac_signed({"alg": "HS256", "typ": "JWT"}, c.claims(c.target, pad=pad), ATTACKER_KEY)


def _header_attack(header: dict[str, Any], key: str | None = None) -> Callable[[_Context], str]:
    """A target-claims token under ``header``, HMAC-signed with ``key`` (None: the target's own secret)."""

    def build(c: _Context) -> str:
        secret = c.secrets[c.target.name] if key is None else key
        return hmac_signed({"typ": "JWT", **header}, c.claims(c.target), secret)

    return build


def _unsigned(alg: str) -> Callable[[_Context], str]:
    def build(c: _Context) -> str:
        return unsigned({"alg": alg, "typ": "JWT"}, c.claims(c.target))

    return build


def _own(**changes: Any) -> Callable[[_Context], str]:
    """The target's own well-formed token with ``changes`` to its claims (the one defect)."""

    def build(c: _Context) -> str:
        resolved = {key: value(c) if callable(value) else value for key, value in changes.items()}
        return c.signed(c.target, c.claims(c.target, **resolved))

    return build


_HS256 = {"alg": "HS256"}
_ATTACKS: tuple[_Attack, ...] = (
    _Attack(
        "control", False, "info", "target",
        "valid {target} token signed with its own secret: must be accepted, or the other cases prove nothing",
        _own(),
    ),
    _Attack(
        "cross_agent", True, "critical", "issuer",
        "valid {issuer} token (its own secret, iss and role) presented to {target}",
        lambda c: c.signed(c.issuer, c.claims(c.issuer)),
    ),
    _Attack(
        "shared_secret_wrong_iss", True, "critical", "target",
        "{target}'s secret and role but iss={issuer}: only an issuer check refuses it",
        lambda c: c.signed(c.target, c.claims(c.target, iss=c.issuer.issuer)),
    ),
    _Attack(
        "shared_secret_wrong_role", True, "critical", "target",
        "{issuer}'s claims signed with {target}'s secret, as when the agents share one secret",
        lambda c: c.signed(c.target, c.claims(c.issuer)),
    ),
    _Attack(
        "role_swapped_signature_kept", True, "critical", "issuer",
        "{issuer}'s token with role (and iss) rewritten to {target}'s, original signature kept",
        _role_swapped,
    ),
    *(
        _Attack(
            f"alg_none_{label}", False, "critical", "nothing",
            f"{{target}}'s claims under alg={alg!r} with an empty signature",
            _unsigned(alg),
        )
        for label, alg in ALG_NONE_CASINGS.items()
    ),
    _Attack(
        "empty_signature", False, "critical", "nothing",
        "{target}'s claims under alg=HS256 with an empty signature",
        _unsigned("HS256"),
    ),
    _Attack(
        "signature_cut", False, "critical", "target",
        "valid {target} token with its signature cut in half (16 of its 32 bytes)",
        _cut,
    ),
    _Attack(
        "payload_tampered", False, "critical", "target",
        "valid {target} token whose payload was rewritten after signing (sub=admin, exp one year on)",
        _tampered,
    ),
    *(
        _Attack(
            f"weak_secret_{label}", False, "critical", "weak",
            f"{{target}}'s claims signed with the well-known weak secret {label!r}",
            _header_attack(_HS256, value),
        )
        for label, value in WEAK_SECRETS.items()
    ),
    _Attack(
        "expired", False, "major", "target",
        "{target}'s own token, expired an hour ago",
        _own(iat=lambda c: c.now - c.ttl_s - 3600, exp=lambda c: c.now - 3600),
    ),
    _Attack(
        "nbf_future", False, "major", "target",
        "{target}'s own token, not valid before an hour from now",
        _own(nbf=lambda c: c.now + 3600),
    ),
    _Attack(
        "exp_missing", False, "major", "target",
        "{target}'s own token without exp: it would never expire",
        _own(exp=None),
    ),
    _Attack(
        "iat_far_future", False, "minor", "target",
        "{target}'s own token issued ten years from now",
        _own(iat=lambda c: c.now + 10 * 365 * 86400),
    ),
    _Attack(
        "alg_rs256_hmac_signed", False, "critical", "target",
        "header alg=RS256 over an HMAC-SHA256 signature made with {target}'s secret (algorithm confusion)",
        _header_attack({"alg": "RS256"}),
    ),
    _Attack(
        "alg_es256_hmac_signed", False, "critical", "target",
        "header alg=ES256 over an HMAC-SHA256 signature made with {target}'s secret (algorithm confusion)",
        _header_attack({"alg": "ES256"}),
    ),
    _Attack(
        "kid_path_traversal", False, "major", "weak",
        "kid reaches /dev/null through ../ and the token is signed with the empty key that would load",
        _header_attack({**_HS256, "kid": KID_TRAVERSAL}, ""),
    ),
    _Attack(
        "kid_sql_injection", False, "major", "attacker",
        "kid carries a SQL UNION selecting the attacker's key, which signed the token",
        _header_attack({**_HS256, "kid": KID_SQL_INJECTION}, ATTACKER_KEY),
    ),
    _Attack(
        "jku_loopback", False, "major", "attacker",
        "jku points at a JWKS on loopback holding the attacker's key, which signed the token",
        _header_attack({**_HS256, "jku": LOOPBACK_JWKS_URL}, ATTACKER_KEY),
    ),
    _Attack(
        "x5u_loopback", False, "major", "attacker",
        "x5u points at a certificate on loopback; the token is signed with the attacker's key",
        _header_attack({**_HS256, "x5u": LOOPBACK_X5U_URL}, ATTACKER_KEY),
    ),
    _Attack(
        "embedded_jwk", False, "major", "attacker",
        "the header embeds the attacker's key as a jwk, and that key signed the token",
        _header_attack({**_HS256, "jwk": {"kty": "oct", "k": b64url(ATTACKER_KEY.encode())}}, ATTACKER_KEY),
    ),
    _Attack(
        "unknown_crit", False, "minor", "target",
        "{target}'s own token declaring a critical header extension nobody implements (RFC 7515 4.1.11)",
        _header_attack({**_HS256, "crit": [UNKNOWN_CRIT], UNKNOWN_CRIT: True}),
    ),
    _Attack(
        "oversized_16kb", False, "minor", "attacker",
        "a 16 KB token (padding claim) signed with the attacker's key: refuse it, never crash",
        _oversized,
    ),
)
ATTACK_NAMES = tuple(attack.name for attack in _ATTACKS)


def build_catalogue(
    agents: Sequence[AgentIdentity],
    secrets: Mapping[str, str],
    *,
    claim_style: ClaimStyle,
    rejected_statuses: Sequence[int],
    ttl_s: int = 28800,
    now: int | None = None,
    seed: int = 0,
    profile: str = "",
) -> TokenCatalogue:
    """Every attack for every target (and every ordered pair), plus one control per target.

    ``secrets`` maps agent name -> secret (``load_agent_secrets``); ``seed`` fixes the padding
    of the oversized token, ``now`` (epoch seconds) the clock, so both make the output repeatable.
    """
    issued_at = int(time.time()) if now is None else now
    filler = random.Random(seed)
    cases: list[TokenCase] = []
    for target in agents:
        for attack in _ATTACKS:
            issuers = [agent for agent in agents if agent.name != target.name] if attack.pair else [target]
            for issuer in issuers:
                context = _Context(issuer, target, secrets, claim_style, issued_at, ttl_s, filler)
                cases.append(_case(attack, context, rejected_statuses))
    return TokenCatalogue(
        profile=profile,
        claim_style=claim_style,
        generated_at=issued_at,
        expires_at=issued_at + ttl_s,
        rejected_statuses=list(rejected_statuses),
        agents=list(agents),
        cases=cases,
    )


def _case(attack: _Attack, c: _Context, rejected_statuses: Sequence[int]) -> TokenCase:
    token = attack.build(c)
    header, claims = decoded_parts(token)
    control = attack.name == "control"
    statuses = ACCEPTED_STATUSES if control else sorted(set(rejected_statuses))
    if attack.name == "oversized_16kb":
        statuses = sorted({*statuses, *OVERSIZE_STATUSES})
    suffix = f"{c.issuer.name}_to_{c.target.name}" if attack.pair else c.target.name
    return TokenCase(
        id=f"{attack.name}__{suffix}",
        attack=attack.name,
        description=attack.description.format(issuer=c.issuer.name, target=c.target.name),
        issuer=c.issuer.name,
        target=c.target.name,
        token=token,
        expect="accept" if control else "reject",
        expected_statuses=list(statuses),
        severity=attack.severity,
        signed_with=attack.signed_with,
        header=header,
        claims=claims,
    )


def write_catalogue(catalogue: TokenCatalogue, path: str | Path) -> Path:
    """Write the catalogue whole, readable by its owner only (0600): its control tokens are valid for hours."""
    out = Path(path)
    try:
        write_text_atomic(out, catalogue.model_dump_json(indent=2) + "\n", mode=0o600)
    except OSError as exc:
        raise CatalogueInvalid(f"{out}: cannot write ({exc.strerror or exc})") from None
    return out


def load_catalogue(path: str | Path) -> TokenCatalogue:
    """A catalogue written by ``stagegate generate tokens``; ``CatalogueInvalid`` with one line if unusable."""
    return load_json_model(Path(path), TokenCatalogue, CatalogueInvalid)
