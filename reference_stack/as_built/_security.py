"""negocio's ``apply_fastapi_security`` (``shared/security_headers.py@c2 L8-22``, as-built.md §5.2).

The CSP is report-only, and HSTS comes only with ``ENV=prod``. Added with ``add_middleware``, so an
unhandled-exception 500 (answered by Starlette's outermost ``ServerErrorMiddleware``) has none.
"""

from __future__ import annotations

from reference_stack._http import ASGIApp, Message, Receive, Scope, Send

CSP_REPORT_ONLY = "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self' 'unsafe-inline'"
HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"geolocation=(), microphone=(), camera=()"),
    (b"content-security-policy-report-only", CSP_REPORT_ONLY.encode()),
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class AgentSecurityHeaders:
    """Adds the agents' headers to every response that passes; HSTS when ``prod`` is true."""

    def __init__(self, app: ASGIApp, *, prod: bool) -> None:
        self.app = app
        self.headers = [*HEADERS, HSTS] if prod else list(HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def add(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, add)
