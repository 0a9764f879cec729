"""The nginx gateway: the part every contract shares (process frame, routes, command); each contract
supplies its own config through ``gateway_config(site) -> GatewayConfig``.

The base template ``gateway.conf.j2`` holds what the launcher owns (foreground process, prefix, pid,
logs, temp dirs, listen address, upstream ports, the guard that hides ``/__admin``) and renders the
proxied routes; a contract's template extends it with its headers, health location, rate-limit
answers and error pages. Routes, body limit, timeouts and rate limits are the contract's.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

PAGES_DIR = "html"
"""Under the gateway prefix: the static pages a contract's config serves (its error pages)."""
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent), keep_trailing_newline=True,
    undefined=jinja2.StrictUndefined, autoescape=False,
)


@dataclass(frozen=True)
class Route:
    """One proxied prefix: ``strip="/"`` drops the prefix on the way to the upstream."""

    prefix: str
    service: str
    strip: str
    zone: str | None = None
    """``limit_req`` zone (with ``nodelay``); None: no rate limit."""
    burst: int = 0
    timeout_s: int | None = None
    """Proxy send/read timeout (connect: 30 s); None: nginx's defaults (60 s)."""


@dataclass(frozen=True)
class GatewaySite:
    """What the launcher decides for a gateway: where it lives, its port, the running services' ports."""

    prefix: Path
    log_dir: Path
    port: int
    upstreams: Mapping[str, int]
    """Service name -> port, for the services this stack runs."""
    user: str | None = None
    group: str | None = None
    """nginx's ``user`` directive, under root only."""


@dataclass(frozen=True)
class GatewayConfig:
    """A rendered ``nginx.conf`` and the pages it serves (file name -> text, under ``<prefix>/html``)."""

    text: str
    pages: Mapping[str, str] = field(default_factory=dict)


GatewayConfigFactory = Callable[[GatewaySite], GatewayConfig]
"""The hook each contract package exposes as ``gateway_config``."""


def render_template(
    name: str, site: GatewaySite, *, routes: Iterable[Route], upstream_names: Mapping[str, str] | None = None,
    **context: Any,
) -> str:
    """Render a contract's template (``intended/gateway.conf.j2``) for ``site``.

    Routes to services the stack does not run are left out; ``upstream_names`` renames upstream
    blocks (service name by default), ``context`` feeds the contract template's own variables.
    """
    names = {service: (upstream_names or {}).get(service, service) for service in site.upstreams}
    return _TEMPLATES.get_template(name).render(
        template=name, prefix=site.prefix, log_dir=site.log_dir, port=site.port, user=site.user, group=site.group,
        pages_dir=site.prefix / PAGES_DIR, upstreams={names[s]: port for s, port in site.upstreams.items()},
        routes=[(route, names[route.service]) for route in routes if route.service in names], **context,
    )


def nginx_binary() -> str | None:
    """The nginx executable, or None when it is not installed."""
    found = shutil.which("nginx")
    if found is None and os.access("/usr/sbin/nginx", os.X_OK):
        found = "/usr/sbin/nginx"
    return found


def render(
    prefix: Path, log_dir: Path, *, port: int, upstreams: dict[str, int], config: GatewayConfigFactory,
    worker_user: str | None = None,
) -> Path:
    """Write ``<prefix>/nginx.conf`` (with its temp dirs and pages) from the contract's ``config`` hook.

    Under root, workers run as ``worker_user`` (who then owns the temp dirs) or else as root:
    nginx's default ``nobody`` could not write temp dirs inside a root-owned state directory.
    """
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    user = group = None
    if os.geteuid() == 0:
        entry = pwd.getpwnam(worker_user) if worker_user else pwd.getpwuid(os.getuid())
        user, group = entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name
        os.chown(prefix / "temp", entry.pw_uid, entry.pw_gid)
    made = config(GatewaySite(prefix, log_dir, port, dict(upstreams), user, group))
    if made.pages:
        (prefix / PAGES_DIR).mkdir(exist_ok=True)
        for name, text in made.pages.items():
            (prefix / PAGES_DIR / name).write_text(text, encoding="utf-8")
    conf = prefix / "nginx.conf"
    conf.write_text(made.text, encoding="utf-8")
    return conf


def command(binary: str, prefix: Path, conf: Path, log_dir: Path) -> list[str]:
    return [binary, "-p", f"{prefix}/", "-c", str(conf), "-e", str(log_dir / "gateway.error.log")]
