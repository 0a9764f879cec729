"""Tokens: the forged-token catalogue for this profile, and the control token of each agent.

The catalogue (``generators.build_catalogue``) holds every forged and cross-agent case plus one
valid control per agent, signed with the agents' secrets in the profile's claim style. With
``auth.mode = "login"`` smoke logs in on each agent (the checklist's step 8) and uses that token
as the control; a login the deployment cannot answer (5xx, timeout, refused) is tried again until
the profile's ``auth.login_retry_s`` has passed (one deadline for all agents), and a login that
still failed is reported and the catalogue's control is used instead, so the other checks still run. With ``"mint"`` (the as-built contract has no login route) the
catalogue's control is the token and the missing route is a finding. Tokens are credentials:
they never reach the evidence.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx

from generators import TokenCatalogue
from scenarios.smoke.exchange import Exchange, Redact, send
from scenarios.smoke.outcome import FindingDraft
from scenarios.target.profiles import Profile
from scenarios.target.resolve import Secrets
from scenarios.target.setup_calls import Unavailable, retry_until, unavailable_status

SECTION = "§8 R2"
REDACTED = "***"


@dataclass
class Grant:
    """How smoke got an agent's control token, with the evidence of the login attempt if any."""

    agent: str
    token: str
    how: str  # "login" or "catalogue"
    login: Exchange | None = None
    tried_s: float = 0.0
    """How long the login was tried again because the deployment could not answer it."""


class _LoginUnavailable(Unavailable):
    """A login answered 5xx or not at all: worth another try."""

    def __init__(self, exchange: Exchange) -> None:
        super().__init__(f"{exchange.request} -> {exchange.outcome()}")
        self.exchange = exchange


@dataclass
class TokenBroker:
    """Gets (once) and hands out the control token of each agent."""

    profile: Profile
    secrets: Secrets
    catalogue: TokenCatalogue
    client: httpx.Client
    redact: Redact
    grants: dict[str, Grant] = field(default_factory=dict)
    _deadline: float | None = None

    def token(self, agent: str) -> str:
        return self.grant(agent).token

    def grant(self, agent: str) -> Grant:
        if agent not in self.grants:
            self.grants[agent] = self._obtain(agent)
        return self.grants[agent]

    def _obtain(self, agent: str) -> Grant:
        auth = self.profile.auth
        control = self.catalogue.case(f"control__{agent}").token
        if auth.mode != "login" or not auth.login_path:
            return Grant(agent, control, "catalogue")
        password = self.secrets.get(auth.password_env, auth.password)

        def attempt() -> Exchange:
            exchange = send(self.client, "POST", self.profile.url(agent, auth.login_path or ""), redact=self.redact,
                            label=f"login on {agent} as {auth.username}",
                            json={"username": auth.username, "password": password})
            if exchange.status is None or unavailable_status(exchange.status):
                raise _LoginUnavailable(exchange)
            return exchange

        if self._deadline is None:
            self._deadline = time.monotonic() + auth.login_retry_s
        started = time.monotonic()
        try:
            exchange = retry_until(self._deadline, attempt)
        except _LoginUnavailable as exc:
            return Grant(agent, control, "catalogue", exc.exchange, tried_s=time.monotonic() - started)
        body = exchange.json()
        token = body.get("access_token") if exchange.status == 200 and isinstance(body, dict) else None
        if isinstance(token, str) and token:
            exchange.body = exchange.body.replace(token, REDACTED)
            return Grant(agent, token, "login", exchange)
        return Grant(agent, control, "catalogue", exchange)

    def findings(self) -> list[FindingDraft]:
        """The login gap: declared by the profile (``auth.missing``) or seen (a login that failed)."""
        auth = self.profile.auth
        if auth.mode == "mint":
            if not auth.missing:
                return []
            return [FindingDraft("no_login_route", SECTION, "major",
                                 "R2: the checklist's login step cannot run; control tokens were minted from "
                                 "the agents' secrets", auth.missing, "profile auth.missing")]
        failed = [grant for grant in self.grants.values() if grant.how != "login" and grant.login is not None]
        if not failed:
            return []
        detail = "; ".join(f"{g.agent}: {g.login.request} -> {g.login.outcome()}"
                           + (f" (tried again for {g.tried_s:.0f} s)" if g.tried_s >= 1 else "")
                           for g in failed if g.login)
        return [FindingDraft("login_failed", SECTION, "major",
                             f"R2: login on {', '.join(g.agent for g in failed)} failed; control tokens were "
                             "minted from the secrets instead", detail, "checklist §8 step 1")]

    def issued(self) -> list[str]:
        return [grant.token for grant in self.grants.values()]
