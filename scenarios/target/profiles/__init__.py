"""Target profiles: how the harness talks to one deployment, as validated data.

A profile is a TOML file (``checklist-v0.10.0.toml`` for the intended contract, ``as-built.toml``
for what the real code does). It names every URL, path, field, claim, metric and header the
harness uses, so that no check hard-codes a contract. Where a deployment cannot satisfy a
checklist item (a route that does not exist, a metric that is absent), the profile says so with
a ``missing`` text and a reference; the harness turns that into a finding instead of crashing.

Usage::

    profile = load_profile("as-built")            # a shipped profile, by name
    profile = load_profile("staging.toml")        # or a file of the user's
    profile = profile.with_targets({"negocio": "http://127.0.0.1:18002"})
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from scenarios.scenario_errors import ProfileInvalid
from stagegate_core.models import FrozenModel
from stagegate_core.stream import Severity
from stagegate_core.tomlfile import find_named_file, load_toml_model, shipped_names

PROFILE_DIR = Path(__file__).parent
DEFAULT_PROFILE = "checklist-v0.10.0"
AGENTS = ("deposito", "negocio", "ml")
SERVICES = (*AGENTS, "dashboard")


class ServiceSpec(FrozenModel):
    """One HTTP service of the stack."""

    url: str
    """Base URL, e.g. ``http://127.0.0.1:8001`` (no trailing slash)."""
    health_path: str = "/health"
    health_auth: Literal["none", "jwt", "api_key"] = "none"
    """What ``/health`` needs: the as-built agents want a JWT, which breaks unauthenticated probes."""
    health_ok_statuses: list[int] = [200]
    container: str | None = None
    """Container name in the compose deployment (R1 whoami, logs, chaos)."""
    user: str | None = None
    """Expected non-root user inside the container (R1)."""
    issuer: str | None = None
    """``iss`` this agent puts in and demands from tokens (intended contract only)."""
    role: str | None = None
    """``role`` claim this agent demands (as-built) or puts in its tokens (intended)."""
    secret_env: str | None = None
    """Environment variable holding this agent's JWT secret (never the secret itself)."""
    process_name: str | None = None
    """Name of the reference stack's process for this service (R1 and chaos without Docker)."""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")


class GatewaySpec(FrozenModel):
    """The nginx gateway in front of the services."""

    url: str
    health_path: str = "/health"
    routes: dict[str, str] = {}
    """Service name -> path prefix on the gateway (``/api/deposito``); ``dashboard`` is ``""``."""
    body_limit_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    rate_limited_status: int = 503
    container: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return ServiceSpec._url(value)


class AuthSpec(FrozenModel):
    """How the harness gets tokens the agents accept."""

    mode: Literal["login", "mint"]
    """``login``: POST ``login_path`` on each agent; ``mint``: sign tokens with the agents' secrets."""
    login_path: str | None = None
    username: str = "admin"
    password: str = "test"
    """The checklist's staging test account (step 8); override with ``password_env``."""
    password_env: str = "STAGEGATE_LOGIN_PASSWORD"
    claims: Literal["iss", "role"] = "iss"
    """``iss``: tokens carry ``iss`` and ``role`` and agents check ``iss``; ``role``: only ``role`` matters."""
    token_ttl_s: int = Field(default=28800, gt=0)
    rejected_statuses: list[int] = [401, 403]
    """Statuses that count as a correct rejection of a forged or cross-agent token."""
    shared_secret_env: str | None = None
    """As-built fallback: every agent signs with this when its own secret is unset."""
    missing: str | None = None
    """Why the checklist's login step cannot run against this contract (becomes a finding)."""
    login_retry_s: float = Field(default=30.0, ge=0)
    """How long a login (and the discovery behind it) that fails at start because the deployment
    answers 5xx, times out or refuses is tried again, with backoff, before the run starts without it."""
    relogin_interval_s: float = Field(default=5.0, gt=0)
    """During the run, users that need a token the start could not get try the login again at most
    this often (per process); each try is recorded as traffic under the login call's request name."""

    @model_validator(mode="after")
    def _login_path(self) -> AuthSpec:
        if self.mode == "login" and not self.login_path:
            raise ValueError("mode 'login' needs login_path")
        return self


class CallSpec(FrozenModel):
    """One business call: where it goes and what a success looks like."""

    service: str
    method: Literal["GET", "POST", "PUT", "DELETE"] = "GET"
    path: str
    """Path template; ``{id}`` is filled from what discovery found, and the template is the request name."""
    query: dict[str, str | int | float | bool] = {}
    json_body: dict[str, Any] | None = None
    ok_statuses: list[int] = [200]
    auth: Literal["none", "jwt", "api_key"] = "jwt"
    missing: str | None = None
    """Set when the route does not exist in this contract: the gap and its reference."""


class DiscoverySpec(FrozenModel):
    """How the harness learns what the deployment holds (its products), to fill call placeholders.

    At start one ``call`` of the profile is sent with its own auth (``query`` merged over the call's);
    ``items`` is the dotted path of the list in the answer ("" when the answer is the list itself);
    ``fields`` maps each placeholder it provides (``id``, ``codigo``) to the item field that fills it.
    Items lacking one of the fields are skipped.
    """

    call: str
    items: str = ""
    fields: dict[str, str] = Field(min_length=1)
    query: dict[str, str | int | float | bool] = {}


class OcrSpec(FrozenModel):
    """The invoice OCR route (R3)."""

    service: str = "negocio"
    path: str
    field: str
    upload_format: Literal["pdf", "image"]
    accepted_types: list[str]
    extra_form: dict[str, str] = {}
    timeout_s: float = Field(default=30.0, gt=0)
    grace_s: float = Field(default=5.0, ge=0)
    timeout_status: int = 504
    app_body_limit_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    missing: str | None = None
    """Set when the checklist's OCR route is not served: the gap and its reference."""
    timeout_missing: str | None = None
    """Set when the served route has no timeout at all."""


class PredictSpec(FrozenModel):
    """The ML prediction carrying the inflation rate (R4)."""

    service: str = "ml"
    method: Literal["GET", "POST"] = "POST"
    path: str
    json_body: dict[str, Any]
    days_field: str
    rate_field: str
    """Dotted path of the rate in the response (``inflation_rate_monthly``)."""
    rate_format: Literal["fraction", "percent_string"]
    """``fraction``: 0.045; ``percent_string``: ``"4.5%"``."""
    adjustment_field: str | None = None
    """Dotted path of the applied adjustment, ``(1 + rate) ** (days / 30) - 1``; None when absent."""
    expected_rate: float = 0.045
    rate_env: str = "INFLATION_RATE_MONTHLY"
    log_pattern: str
    """Regular expression the start-up log must match with the configured rate."""
    missing: str | None = None


class MetricsSpec(FrozenModel):
    """Prometheus names on the dashboard's ``/metrics`` (None: absent in this contract)."""

    path: str = "/metrics"
    requests_total: str = "dashboard_requests_total"
    errors_total: str = "dashboard_errors_total"
    p95_ms: str | None = "dashboard_request_duration_ms_p95"
    uptime_s: str | None = "dashboard_uptime_seconds"
    p95_missing: str | None = None


class DashboardSpec(FrozenModel):
    """The web dashboard: API key, pages, API paths, rate limit."""

    api_key_header: str = "X-API-Key"
    api_key_env: str = "DASHBOARD_API_KEY"
    unauthorized_status: int = 401
    pages: list[str] = ["/"]
    api_paths: list[str] = ["/api/summary"]
    rate_limit_max: int = Field(default=120, gt=0)
    rate_limit_window_s: int = Field(default=60, gt=0)
    rate_limited_status: int = 429
    metrics: MetricsSpec = MetricsSpec()


class HeadersSpec(FrozenModel):
    """Security headers (checklist §13): header name -> exact value, or "" for present."""

    required: dict[str, str]
    hsts_header: str = "Strict-Transport-Security"
    on_error_responses: bool = True
    """Whether 401/429 answers must carry them too (the as-built 429 does not)."""


class LogSpec(FrozenModel):
    """Log lines the checklist greps for."""

    issuer_mismatch: str | None = "issuer mismatch"
    invalid_token: str | None = "invalid token"
    ocr_timeout: str | None = "OCR processing exceeded timeout"
    missing: str | None = None


class Gap(FrozenModel):
    """A checklist item this contract cannot satisfy, known from its description."""

    id: str
    section: str
    severity: Severity
    title: str
    reference: str


class Profile(FrozenModel):
    """A whole target profile."""

    name: str
    description: str
    contract: Literal["intended", "as-built"]
    services: dict[str, ServiceSpec]
    gateway: GatewaySpec | None = None
    auth: AuthSpec
    calls: dict[str, CallSpec]
    ocr: OcrSpec
    predict: PredictSpec
    dashboard: DashboardSpec
    headers: HeadersSpec
    logs: LogSpec = LogSpec()
    discovery: dict[str, DiscoverySpec] = {}
    """What to discover at start, by kind (``products``); calls whose placeholders a kind provides are
    filled from the discovered items and are not sent when the deployment holds none."""
    gaps: list[Gap] = []
    source: str = ""
    """The file the profile came from (set by the loader)."""

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        missing = [name for name in SERVICES if name not in self.services]
        if missing:
            raise ValueError(f"services: missing {', '.join(missing)}")
        for call_name, call in self.calls.items():
            if call.service not in self.services:
                raise ValueError(f"calls.{call_name}.service: unknown service {call.service!r}")
        provided: dict[str, str] = {}
        for kind, discovery in self.discovery.items():
            if discovery.call not in self.calls:
                raise ValueError(f"discovery.{kind}.call: unknown call {discovery.call!r}")
            for placeholder in discovery.fields:
                if placeholder in provided:
                    raise ValueError(f"discovery.{kind}.fields.{placeholder}: also provided by discovery.{provided[placeholder]}")
                provided[placeholder] = kind
        for agent in AGENTS:
            spec = self.services[agent]
            if self.auth.claims == "iss" and not spec.issuer:
                raise ValueError(f"services.{agent}.issuer: needed when auth.claims is 'iss'")
            if not spec.role:
                raise ValueError(f"services.{agent}.role: every agent needs a role")
        return self

    def url(self, service: str, path: str = "") -> str:
        """Absolute URL of ``path`` on ``service`` (``gateway`` included)."""
        if service == "gateway":
            if self.gateway is None:
                raise ProfileInvalid(f"{self.source or self.name}: profile has no gateway")
            return self.gateway.url + path
        return self.services[service].url + path

    def targets(self) -> dict[str, str]:
        """Service name -> base URL, the gateway included when the profile has one."""
        found = {name: spec.url for name, spec in self.services.items()}
        if self.gateway is not None:
            found["gateway"] = self.gateway.url
        return found

    def with_targets(self, urls: dict[str, str]) -> Profile:
        """The same profile pointed at other base URLs (``gateway`` may be among them)."""
        unknown = sorted(set(urls) - set(self.services) - {"gateway"})
        if unknown:
            raise ProfileInvalid(f"target: unknown service {unknown[0]!r} (known: {', '.join(SERVICES)}, gateway)")
        services = {
            name: spec.model_copy(update={"url": urls[name].rstrip("/")}) if name in urls else spec
            for name, spec in self.services.items()
        }
        gateway = self.gateway
        if "gateway" in urls:
            gateway = (gateway or GatewaySpec(url=urls["gateway"])).model_copy(
                update={"url": urls["gateway"].rstrip("/")}
            )
        return self.model_copy(update={"services": services, "gateway": gateway})

    def without_gateway(self) -> Profile:
        """The profile for a deployment with no gateway in front (the stack without nginx)."""
        return self.model_copy(update={"gateway": None})


@dataclass(frozen=True)
class HealthCheck:
    """One health route the harness watches: a service's own, or the gateway's."""

    check: str
    """``deposito``, ``negocio``, ``ml``, ``dashboard`` or ``gateway``."""
    path: str
    auth: Literal["none", "jwt", "api_key"]
    ok_statuses: tuple[int, ...]


def health_checks(profile: Profile) -> list[HealthCheck]:
    """The checks of the profile: its services, then the gateway when there is one.

    The load's health watcher and chaos's steady-state probe both watch exactly these.
    """
    checks = [HealthCheck(name, spec.health_path, spec.health_auth, tuple(spec.health_ok_statuses))
              for name, spec in profile.services.items()]
    if profile.gateway is not None:
        checks.append(HealthCheck("gateway", profile.gateway.health_path, "none", (200,)))
    return checks


def available_profiles() -> list[str]:
    """Names of the profiles shipped with stagegate."""
    return shipped_names(PROFILE_DIR)


def load_profile(name_or_path: str | Path) -> Profile:
    """A shipped profile by name, or a profile file by path; ``ProfileInvalid`` with one line if bad."""
    path = find_named_file(name_or_path, PROFILE_DIR, "profile", ProfileInvalid)
    profile = load_toml_model(path, Profile, ProfileInvalid)
    return profile.model_copy(update={"source": path.name})
