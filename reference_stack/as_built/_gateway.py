"""The as-built gateway: a model of ``IR/nginx/nginx.conf@c2`` from docs/as-built.md §2.5, §6.2 and §7.

What it keeps from the real config: a static ``/health`` (prefix location) answering ``healthy\\n``
without the security headers (its own ``add_header`` stops their inheritance); four http-level
``add_header ... always`` that land on top of the dashboard's own headers; zones ``api`` 100 r/m and
``dashboard`` 30 r/m with bursts 20 (deposito, negocio), 10 (ml) and 10 (``/``, so the dashboard's
``/api/*`` too), all nodelay, rejected with nginx's default 503 and its ``50x.html``; 10 MB bodies
(above: nginx's own 413 page); per-route timeouts 60/120/180/30 s; ``/direct/{deposito,negocio,ml}/``
with no rate limit and nginx's default timeouts; upstreams named as in the real file, with
``max_fails=3 fail_timeout=30s`` and a ``keepalive 32`` that HTTP/1.0 proxying leaves unused.
"""

from __future__ import annotations

from reference_stack._gateway import GatewayConfig, GatewaySite, Route, render_template

ROUTES = (
    Route("/", "dashboard", "", "dashboard", 10, 30),
    Route("/api/deposito/", "deposito", "/", "api", 20, 60),
    Route("/api/negocio/", "negocio", "/", "api", 20, 120),
    Route("/api/ml/", "ml", "/", "api", 10, 180),
    Route("/direct/deposito/", "deposito", "/"),
    Route("/direct/negocio/", "negocio", "/"),
    Route("/direct/ml/", "ml", "/"),
)
UPSTREAM_NAMES = {"deposito": "agente_deposito", "negocio": "agente_negocio", "ml": "ml_service",
                  "dashboard": "dashboard"}
HEADERS = (("X-Frame-Options", "DENY"), ("X-Content-Type-Options", "nosniff"),
           ("X-XSS-Protection", "1; mode=block"), ("Referrer-Policy", "strict-origin-when-cross-origin"))
ERROR_PAGE = (
    "<!DOCTYPE html>\n<html>\n<head>\n<title>Error</title>\n</head>\n<body>\n<h1>An error occurred.</h1>\n"
    "<p>Sorry, the page you are looking for is currently unavailable.<br/>\nPlease try again later.</p>\n"
    "</body>\n</html>\n"
)
"""Stands in for the stock ``/usr/share/nginx/html/50x.html`` of the nginx:alpine image."""


def gateway_config(site: GatewaySite) -> GatewayConfig:
    """The contract's hook for the launcher: ``nginx.conf`` of the as-built gateway, and its 50x page."""
    text = render_template("as_built/gateway.conf.j2", site, routes=ROUTES, upstream_names=UPSTREAM_NAMES,
                           headers=HEADERS, zone_size="10m", upstream_options=" max_fails=3 fail_timeout=30s",
                           keepalive=32)
    return GatewayConfig(text, {"50x.html": ERROR_PAGE})
