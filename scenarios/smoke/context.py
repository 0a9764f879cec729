"""Everything a smoke check needs about the deployment, built once per run.

The context holds the resolved profile and secrets, one HTTP client, the control tokens, the
Docker client (when there is a daemon), the service logs it can reach (marked at the start of the
run), what the deployment holds (discovered through the profile's ``[discovery]`` calls, as the
load does) and the options. ``redact`` scrubs every secret and issued token out of evidence text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from generators import TokenCatalogue
from scenarios.smoke.containers import DockerAccess
from scenarios.smoke.control_tokens import REDACTED, TokenBroker
from scenarios.smoke.exchange import Exchange, send, unreachable
from scenarios.smoke.log_sources import DockerLog, FileLog, LogSource
from scenarios.target.deployment_facts import configured_ocr_timeout, token_catalogue
from scenarios.target.discovery import Discovered, Item, discover
from scenarios.target.profiles import Profile
from scenarios.target.resolve import Resolved, Secrets
from stagegate_core.stream import FindingDraft

DEFAULT_HTTP_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 2.0
"""A host that drops packets costs this much per request, not the whole read timeout."""


@dataclass(frozen=True)
class SmokeOptions:
    """What the user chose on the command line (never a secret)."""

    trivy_report: Path | None = None
    ocr_grace_s: float | None = None
    """Allowed lateness of the 504 after the OCR timeout; None: the profile's ``ocr.grace_s``."""
    ocr_timeout_s: float | None = None
    """The deployment's OCR timeout; None: from negocio's start-up log when reachable, else the profile's."""
    http_timeout_s: float = DEFAULT_HTTP_TIMEOUT_S

    def settings(self) -> dict[str, Any]:
        return {"trivy_report": str(self.trivy_report) if self.trivy_report else None,
                "ocr_grace_s": self.ocr_grace_s, "ocr_timeout_s": self.ocr_timeout_s,
                "http_timeout_s": self.http_timeout_s}


@dataclass
class SmokeContext:
    """The deployment as the checks see it; ``provoked`` lets the logs check tell provoked lines apart."""

    profile: Profile
    secrets: Secrets
    stack_state: dict[str, Any] | None
    options: SmokeOptions
    client: httpx.Client
    catalogue: TokenCatalogue
    docker: DockerAccess = field(default_factory=DockerAccess)
    tokens: TokenBroker = field(init=False)
    logs: dict[str, LogSource] = field(default_factory=dict)
    provoked: dict[str, int] = field(default_factory=dict)
    """What the checks provoked on purpose (``jwt_rejections``, ``ocr_timeouts``), for the logs check."""
    discovered: Discovered = field(default_factory=Discovered)
    setup_findings: list[FindingDraft] = field(default_factory=list)
    """What discovery could not learn (the R2 check reports them)."""

    def __post_init__(self) -> None:
        self.tokens = TokenBroker(self.profile, self.secrets, self.catalogue, self.client, self.redact)

    @classmethod
    def open(cls, resolved: Resolved, options: SmokeOptions) -> SmokeContext:
        """Check the secrets every check needs (one-line error if one is missing), then open clients."""
        profile, secrets = resolved.profile, resolved.secrets
        catalogue = token_catalogue(profile, secrets)
        secrets.require(profile.dashboard.api_key_env, "the dashboard API (metrics, headers)")
        client = httpx.Client(timeout=httpx.Timeout(options.http_timeout_s, connect=CONNECT_TIMEOUT_S),
                              follow_redirects=False, trust_env=False)
        context = cls(profile, secrets, resolved.stack_state, options, client, catalogue)
        try:
            context.logs = context._find_logs()
        except BaseException:
            context.close()
            raise
        for source in context.logs.values():
            source.mark()
        try:
            context.discovered, context.setup_findings = discover(
                profile, context.headers_for, deadline=time.monotonic() + profile.auth.login_retry_s, client=client)
        except BaseException:
            context.close()
            raise
        return context

    def close(self) -> None:
        self.client.close()
        self.docker.close()

    # --- secrets out of evidence -------------------------------------------------------------

    def redact(self, text: str) -> str:
        for value in [*self.secrets.values(), *self.tokens.issued()]:
            if value and value in text:
                text = text.replace(value, REDACTED)
        return text

    # --- requests ----------------------------------------------------------------------------

    def request(self, method: str, url: str, *, label: str = "", **kwargs: Any) -> Exchange:
        return send(self.client, method, url, redact=self.redact, label=label, **kwargs)

    def unreachable(self, exchanges: list[Exchange]) -> list[str]:
        """One problem per service that did not answer, named as the profile names it."""
        return unreachable(exchanges, self.profile.targets())

    def headers_for(self, service: str, auth: str) -> dict[str, str]:
        """Headers for a profile call of ``service`` with ``auth`` ``none``, ``jwt`` or ``api_key``."""
        return self.bearer(service) if auth == "jwt" else self.api_key() if auth == "api_key" else {}

    def placeholder_values(self) -> Item:
        """Call placeholders filled from the first discovered item of each kind (empty kinds fill nothing)."""
        values: Item = {}
        for kind in self.discovered.items:
            values.update(next(iter(self.discovered.first(kind, 1)), {}))
        return values

    def bearer(self, agent: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens.token(agent)}"}

    def api_key(self) -> dict[str, str]:
        dashboard = self.profile.dashboard
        return {dashboard.api_key_header: self.secrets.require(dashboard.api_key_env, "the dashboard API")}

    # --- where the deployment runs -------------------------------------------------------------

    def container_name(self, service: str) -> str | None:
        """The container of ``service``: as the local stack's state names it, else as the profile does."""
        named = (self.stack_state or {}).get("containers")
        if isinstance(named, dict) and isinstance(named.get(service), str):
            return str(named[service])
        spec = self.profile.services.get(service)
        return spec.container if spec else (self.profile.gateway.container if self.profile.gateway else None)

    def container(self, service: str) -> Any | None:
        return self.docker.container(self.container_name(service))

    def stack_processes(self) -> dict[str, dict[str, Any]]:
        """The local reference stack's processes (service -> {pid, port}), empty when not local."""
        processes = (self.stack_state or {}).get("processes")
        return processes if isinstance(processes, dict) else {}

    def ocr_timeout_s(self) -> float:
        """The deployment's OCR timeout: the option, else its start-up log line, else the profile's."""
        if self.options.ocr_timeout_s is not None:
            return self.options.ocr_timeout_s
        source = self.logs.get(self.profile.ocr.service)
        logged = configured_ocr_timeout(source.everything() if source else [])
        return logged if logged is not None else self.profile.ocr.timeout_s

    def ocr_grace_s(self) -> float:
        return self.options.ocr_grace_s if self.options.ocr_grace_s is not None else self.profile.ocr.grace_s

    def _find_logs(self) -> dict[str, LogSource]:
        found: dict[str, LogSource] = {}
        log_dir = (self.stack_state or {}).get("log_dir")
        for service in self.profile.services:
            if log_dir and (Path(log_dir) / f"{service}.log").is_file():
                found[service] = FileLog(Path(log_dir) / f"{service}.log")
            elif (container := self.container(service)) is not None:
                found[service] = DockerLog(container)
        return found
