"""The nginx gateway (intended.md §1): its config, rendered from ``gateway.conf.j2``, and its command.

Routes, body limit, read timeouts and rate limits are the contract's; only the ports and paths
come from the stack. nginx runs in the foreground (``daemon off``) as a child of the launcher.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
from dataclasses import dataclass
from pathlib import Path

import jinja2

from reference_stack._http import CSP

TEMPLATE = Path(__file__).with_name("gateway.conf.j2")
BODY_LIMIT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Route:
    prefix: str
    upstream: str
    strip: str
    zone: str
    burst: int
    timeout_s: int


ROUTES = (
    Route("/api/deposito/", "deposito", "/", "api", 20, 60),
    Route("/api/negocio/", "negocio", "/", "api", 20, 120),
    Route("/api/ml/", "ml", "/", "api", 10, 180),
    Route("/", "dashboard", "", "dashboard", 10, 30),
)
HEADERS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
           ("Content-Security-Policy", CSP), ("Referrer-Policy", "no-referrer"))


def nginx_binary() -> str | None:
    """The nginx executable, or None when it is not installed."""
    found = shutil.which("nginx")
    if found is None and os.access("/usr/sbin/nginx", os.X_OK):
        found = "/usr/sbin/nginx"
    return found


def render(
    prefix: Path, log_dir: Path, *, port: int, upstreams: dict[str, int], worker_user: str | None = None
) -> Path:
    """Write ``<prefix>/nginx.conf`` (and its temp dirs) for a gateway on ``port``.

    Under root, workers run as ``worker_user`` (who then owns the temp dirs) or else as root:
    nginx's default ``nobody`` could not write temp dirs inside a root-owned state directory.
    """
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    user = group = None
    if os.geteuid() == 0:
        entry = pwd.getpwnam(worker_user) if worker_user else pwd.getpwuid(os.getuid())
        user, group = entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name
        os.chown(prefix / "temp", entry.pw_uid, entry.pw_gid)
    text = jinja2.Template(TEMPLATE.read_text(encoding="utf-8"), keep_trailing_newline=True).render(
        prefix=prefix, log_dir=log_dir, port=port, upstreams=upstreams, user=user, group=group,
        routes=[r for r in ROUTES if r.upstream in upstreams], headers=HEADERS,
    )
    conf = prefix / "nginx.conf"
    conf.write_text(text, encoding="utf-8")
    return conf


def command(binary: str, prefix: Path, conf: Path, log_dir: Path) -> list[str]:
    return [binary, "-p", f"{prefix}/", "-c", str(conf), "-e", str(log_dir / "gateway.error.log")]
