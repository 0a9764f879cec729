"""Security headers of the real code (docs/as-built.md §6.2): negocio's and the dashboard's sets.

Both are added with ``add_middleware``, inside Starlette's outermost ``ServerErrorMiddleware``, so
an unhandled-exception 500 carries none of them; the dashboard's rate limiter sits outside its
header middleware, so its 429 carries none either.
"""

from __future__ import annotations

from reference_stack._http import ASGIApp, Receive, Scope, Send
from reference_stack.as_built._asgi import Header, ResponseTap

AGENT_CSP_REPORT_ONLY = (
    "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self' 'unsafe-inline'"
)
DASHBOARD_CSP = (
    "default-src 'self'; img-src 'self' data: https://cdn.jsdelivr.net https://cdn.pixabay.com; "
    "style-src 'self' https://cdn.jsdelivr.net; script-src 'self' https://cdn.jsdelivr.net; "
    "font-src 'self' https://cdn.jsdelivr.net data:; media-src 'self' https://cdn.pixabay.com; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
_COMMON: tuple[Header, ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"geolocation=(), microphone=(), camera=()"),
)
AGENT_HSTS: Header = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
DASHBOARD_HSTS: Header = (b"strict-transport-security", b"max-age=63072000; includeSubDomains; preload")


def agent_headers(*, prod: bool) -> list[Header]:
    """``shared/security_headers.py@c2``: report-only CSP; HSTS only with ``ENV=prod``."""
    headers = [*_COMMON, (b"content-security-policy-report-only", AGENT_CSP_REPORT_ONLY.encode())]
    return [*headers, AGENT_HSTS] if prod else headers


def dashboard_headers(*, hsts: bool) -> list[Header]:
    """``dashboard_app.py@c2 L156-178``: enforced CSP; HSTS only with ``DASHBOARD_ENABLE_HSTS=true``."""
    headers = [*_COMMON, (b"content-security-policy", DASHBOARD_CSP.encode())]
    return [*headers, DASHBOARD_HSTS] if hsts else headers


class AddHeaders:
    """Adds fixed headers to every response that passes through it."""

    def __init__(self, app: ASGIApp, *, headers: list[Header]) -> None:
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, ResponseTap(send, self.headers))
