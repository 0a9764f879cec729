"""Credentials the traffic presents: a valid token per agent and the dashboard's API key.

The profile says how tokens are had (``auth.mode``): ``login`` posts the staging test account to
each agent's login route (intended contract); ``mint`` uses the token catalogue's control token,
signed with the agent's own secret (as-built serves no login). Tokens are fetched once per process
and kept; values never leave this object (no logging, no exception text).
"""

from __future__ import annotations

import httpx

from generators import TokenCatalogue
from scenarios._errors import TargetUnreachable
from scenarios.profiles import Profile
from scenarios.targets import Secrets

LOGIN_TIMEOUT_S = 10.0


class Credentials:
    """Authorization headers per service, as the profile says each call authenticates."""

    def __init__(self, profile: Profile, secrets: Secrets, catalogue: TokenCatalogue) -> None:
        self.profile = profile
        self.secrets = secrets
        self.catalogue = catalogue
        self._tokens: dict[str, str] = {}
        self._headers: dict[tuple[str, str], dict[str, str]] = {}

    def headers(self, service: str, auth: str) -> dict[str, str]:
        """Headers for a call to ``service`` with ``auth`` ``none``, ``jwt`` or ``api_key`` (kept: do not change them)."""
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
        """A token ``agent`` accepts (cached for the run)."""
        if agent not in self._tokens:
            if self.profile.auth.mode == "login":
                self._tokens[agent] = self._login(agent)
            else:
                self._tokens[agent] = self.catalogue.case(f"control__{agent}").token
        return self._tokens[agent]

    def _login(self, agent: str) -> str:
        auth = self.profile.auth
        url = self.profile.url(agent, auth.login_path or "")
        password = self.secrets.get(auth.password_env, auth.password)
        try:
            answer = httpx.post(url, json={"username": auth.username, "password": password}, timeout=LOGIN_TIMEOUT_S,
                                trust_env=False)
        except httpx.HTTPError as exc:
            raise TargetUnreachable(f"{agent}: login at {url} failed ({type(exc).__name__})") from None
        if answer.status_code != 200:
            raise TargetUnreachable(f"{agent}: login at {url} answered {answer.status_code} "
                                    f"(user {auth.username!r}; set {auth.password_env} for another password)")
        token = answer.json().get("access_token")
        if not isinstance(token, str):
            raise TargetUnreachable(f"{agent}: login at {url} returned no access_token")
        return token
