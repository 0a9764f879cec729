"""Credentials the traffic presents: a valid token per agent and the dashboard's API key.

The profile says how tokens are had (``auth.mode``): ``login`` posts the staging test account to
each agent's login route (intended contract); ``mint`` uses the token catalogue's control token,
signed with the agent's own secret (as-built serves no login). Tokens are fetched once per process
and kept; values never leave this object (no logging, no exception text).

A login the deployment cannot answer at start (5xx, timeout, refused) is tried again until the
profile's ``auth.login_retry_s``; then the run starts without that token (a finding says why) and
the users that need it try again during the run (``login_due``/``accept``). A login refused with
401/403 is the user's mistake: ``LoginRefused``, one line, exit 2.
"""

from __future__ import annotations

import functools
import time
from typing import Any

import httpx

from generators import TokenCatalogue
from scenarios.scenario_errors import TargetUnreachable
from scenarios.target.profiles import AGENTS, Profile
from scenarios.target.resolve import Secrets
from scenarios.target.setup_calls import (
    Unavailable,
    for_how_long,
    no_answer,
    retry_until,
    unavailable_status,
)
from stagegate_core.stream import FindingDraft

LOGIN_TIMEOUT_S = 10.0
REFUSED_STATUSES = (401, 403)


class LoginRefused(TargetUnreachable):
    """The deployment refused the configured account (401/403): the user's password, not a broken deployment."""


class Credentials:
    """Authorization headers per service, as the profile says each call authenticates."""

    def __init__(self, profile: Profile, secrets: Secrets, catalogue: TokenCatalogue) -> None:
        self.profile = profile
        self.secrets = secrets
        self.catalogue = catalogue
        self._tokens: dict[str, str] = {}
        self._headers: dict[tuple[str, str], dict[str, str]] = {}
        self._last_try: dict[str, float] = {}

    def headers(self, service: str, auth: str) -> dict[str, str]:
        """Headers for a call to ``service`` with ``auth`` ``none``, ``jwt`` or ``api_key`` (kept: do not change
        them). ``Unavailable`` when the agent's token cannot be had right now."""
        key = (service, auth)
        if key not in self._headers:
            self._headers[key] = self._build_headers(service, auth)
        return self._headers[key]

    def _build_headers(self, service: str, auth: str) -> dict[str, str]:
        if auth == "jwt":
            return {"Authorization": f"Bearer {self.token(service)}"}
        if auth == "api_key":
            dashboard = self.profile.dashboard
            key = self.secrets.require(dashboard.api_key_env, "the dashboard's /api and /metrics")
            return {dashboard.api_key_header: key}
        return {}

    def token(self, agent: str) -> str:
        """A token ``agent`` accepts (cached for the run); one login try when there is none yet."""
        if agent not in self._tokens:
            if self.profile.auth.mode == "login":
                self._tokens[agent] = self._login(agent)
            else:
                self._tokens[agent] = self.catalogue.case(f"control__{agent}").token
        return self._tokens[agent]

    # -- login at start, and again during the run --------------------------------------------

    def log_in_at_start(self) -> list[FindingDraft]:
        """Log in on every agent, retrying a broken deployment until ``auth.login_retry_s`` has passed
        (one deadline for all agents); a finding per agent still without a token."""
        if self.profile.auth.mode != "login":
            return []
        budget_s = self.profile.auth.login_retry_s
        deadline = time.monotonic() + budget_s
        findings = []
        for agent in AGENTS:
            try:
                retry_until(deadline, functools.partial(self.token, agent))
            except Unavailable as exc:
                self._last_try[agent] = time.monotonic()
                findings.append(self._unavailable_finding(agent, for_how_long(exc, budget_s)))
        return findings

    def needs_login(self, service: str, auth: str) -> bool:
        """Whether a call to ``service`` with ``auth`` waits for a login that has not succeeded yet."""
        return auth == "jwt" and self.profile.auth.mode == "login" and service not in self._tokens

    def login_due(self, agent: str) -> bool:
        """True at most every ``auth.relogin_interval_s`` per agent: the caller tries the login now."""
        now = time.monotonic()
        if now - self._last_try.get(agent, float("-inf")) < self.profile.auth.relogin_interval_s:
            return False
        self._last_try[agent] = now
        return True

    def login_request(self, agent: str) -> tuple[str, str, dict[str, Any]]:
        """``(url, path template, json body)`` of ``agent``'s login (the body holds the password: never log it)."""
        auth = self.profile.auth
        path = auth.login_path or ""
        body = {"username": auth.username, "password": self.secrets.get(auth.password_env, auth.password)}
        return self.profile.url(agent, path), path, body

    def accept(self, agent: str, answer: Any) -> bool:
        """Keep the token of a successful login answer (a JSON body); False when it holds none."""
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            return False
        self._tokens[agent] = token
        return True

    def _login(self, agent: str) -> str:
        url, _, body = self.login_request(agent)
        what = f"{agent} login"
        try:
            answer = httpx.post(url, json=body, timeout=LOGIN_TIMEOUT_S, trust_env=False)
        except httpx.HTTPError as exc:
            raise no_answer(what, url, exc) from None
        if answer.status_code in REFUSED_STATUSES:
            auth = self.profile.auth
            raise LoginRefused(f"{what} at {url} answered {answer.status_code} for user {auth.username!r}: the "
                               f"password was refused; set {auth.password_env} to the staging account's password")
        if unavailable_status(answer.status_code):
            raise Unavailable(f"{what} at {url} answered {answer.status_code}")
        try:
            accepted = self.accept(agent, answer.json())
        except ValueError:
            accepted = False
        if answer.status_code != 200 or not accepted:
            raise Unavailable(f"{what} at {url} answered {answer.status_code} without an access_token")
        return self._tokens[agent]

    def _unavailable_finding(self, agent: str, evidence: str) -> FindingDraft:
        interval = self.profile.auth.relogin_interval_s
        return FindingDraft(
            id=f"login_unavailable_{agent}", section="§8 R2", severity="critical",
            title=f"{agent} login failed at start; calls that need its token waited for a login retried every "
                  f"{interval:g} s during the run",
            evidence=evidence, reference="profile auth.login_retry_s",
        )
