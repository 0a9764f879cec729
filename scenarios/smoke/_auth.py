"""Control tokens: the JWT each agent must accept, got the way the profile says.

With ``auth.mode = "login"`` smoke logs in on each agent (the checklist's step 8); a failed login
is reported and smoke mints the token from the agent's secret instead, so the other checks still
run. With ``"mint"`` (the as-built contract has no login route) it signs the token itself and
records the missing route as a finding. Tokens are credentials: they never reach the evidence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from scenarios.profiles import Profile
from scenarios.smoke._exchange import Exchange, Redact, send
from scenarios.smoke._outcome import FindingDraft
from scenarios.targets import Secrets

SMOKE_SUBJECT = "stagegate-smoke"


def agent_secret_name(profile: Profile, agent: str, secrets: Secrets) -> str:
    """The variable holding ``agent``'s signing secret: its own, or the profile's shared fallback."""
    own = profile.services[agent].secret_env
    shared = profile.auth.shared_secret_env
    if own and (own in secrets or not shared):
        return own
    if shared:
        return shared
    return own or f"JWT_SECRET_{agent.upper()}"


def control_claims(profile: Profile, agent: str, now: float) -> dict[str, Any]:
    """The claims an agent accepts in this contract (``iss`` only where the contract checks it)."""
    spec = profile.services[agent]
    claims: dict[str, Any] = {"sub": SMOKE_SUBJECT, "role": spec.role, "iat": int(now),
                              "exp": int(now) + profile.auth.token_ttl_s}
    if profile.auth.claims == "iss":
        claims["iss"] = spec.issuer
    return claims


def mint(profile: Profile, agent: str, secrets: Secrets) -> str:
    """A token ``agent`` must accept, signed HS256 with its secret."""
    secret = secrets.require(agent_secret_name(profile, agent, secrets), f"signing {agent} control tokens")
    return jwt.encode(control_claims(profile, agent, time.time()), secret, algorithm="HS256")


@dataclass
class Grant:
    """How smoke got an agent's control token, with the evidence of the login attempt if any."""

    agent: str
    token: str
    how: str  # "login" or "minted"
    login: Exchange | None = None


@dataclass
class TokenBroker:
    """Gets (once) and hands out the control token of each agent."""

    profile: Profile
    secrets: Secrets
    client: httpx.Client
    redact: Redact
    grants: dict[str, Grant] = field(default_factory=dict)

    def token(self, agent: str) -> str:
        return self.grant(agent).token

    def grant(self, agent: str) -> Grant:
        if agent not in self.grants:
            self.grants[agent] = self._obtain(agent)
        return self.grants[agent]

    def _obtain(self, agent: str) -> Grant:
        auth = self.profile.auth
        if auth.mode == "login" and auth.login_path:
            password = self.secrets.get(auth.password_env, auth.password)
            exchange = send(self.client, "POST", self.profile.url(agent, auth.login_path), redact=self.redact,
                            label=f"login on {agent} as {auth.username}",
                            json={"username": auth.username, "password": password})
            body = exchange.json()
            token = body.get("access_token") if exchange.status == 200 and isinstance(body, dict) else None
            if isinstance(token, str) and token:
                return Grant(agent, token, "login", exchange)
            return Grant(agent, mint(self.profile, agent, self.secrets), "minted", exchange)
        return Grant(agent, mint(self.profile, agent, self.secrets), "minted")

    def findings(self) -> list[FindingDraft]:
        """The login gap: declared by the profile (``auth.missing``) or seen (a login that failed)."""
        auth = self.profile.auth
        if auth.mode == "mint":
            if not auth.missing:
                return []
            return [FindingDraft("no_login_route", "§8 R2", "major", "the checklist's login step cannot run: "
                                 "control tokens were minted from the agents' secrets", auth.missing,
                                 "profile auth.missing")]
        failed = [grant for grant in self.grants.values() if grant.how == "minted" and grant.login is not None]
        if not failed:
            return []
        detail = "; ".join(f"{g.agent}: {g.login.request} -> {g.login.outcome()}" for g in failed if g.login)
        return [FindingDraft("login_failed", "§8 R2", "major",
                             f"login on {', '.join(g.agent for g in failed)} failed; control tokens were minted "
                             "from the secrets instead", detail, "checklist §8 step 1")]

    def issued(self) -> list[str]:
        return [grant.token for grant in self.grants.values()]
