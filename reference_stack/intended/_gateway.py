"""The intended gateway (docs/contract.md §2): routes, limits and the headers nginx adds on its own answers.

Every route is rate limited and answered with nodelay; nginx's own answers (``/health``, 413, 503)
carry the same security headers as the services, and the 413/503 bodies are JSON.
"""

from __future__ import annotations

from reference_stack._gateway import GatewayConfig, GatewaySite, Route, render_template
from reference_stack._http import CSP

ROUTES = (
    Route("/api/deposito/", "deposito", "/", "api", 20, 60),
    Route("/api/negocio/", "negocio", "/", "api", 20, 120),
    Route("/api/ml/", "ml", "/", "api", 10, 180),
    Route("/", "dashboard", "", "dashboard", 10, 30),
)
HEADERS = (("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
           ("Content-Security-Policy", CSP), ("Referrer-Policy", "no-referrer"))


def gateway_config(site: GatewaySite) -> GatewayConfig:
    """The contract's hook for the launcher: ``nginx.conf`` of the intended gateway."""
    return GatewayConfig(render_template("intended/gateway.conf.j2", site, routes=ROUTES, headers=HEADERS,
                                         zone_size="1m", upstream_options="", keepalive=16))
