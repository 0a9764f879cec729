"""HTTP behaviour every service shares: request log, security headers, JSON errors, faults, admin.

The middleware order, outermost first, is ``RequestLog`` (one line per request, 5xx at ERROR,
and the dashboard's metrics), ``SecurityHeaders`` (so 401, 429 and 500 carry them too),
``FaultInjection`` (slow start, added latency, failing logins, a share of 500s), then any
service-specific middleware (the dashboard's rate limit) and the FastAPI app. Pure ASGI, because
this sits on every request.

An unhandled exception is answered 500 by the app's handler (Starlette's ``ServerErrorMiddleware``),
which then re-raises it. uvicorn, seeing an exception after the answer went out, closes the
keep-alive connection. ``RequestLog`` stops it there (the connection stays open) unless the
``error_mode`` switch is ``unhandled``: then it goes on to uvicorn, as in the real services.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from reference_stack._errors import FaultInvalid
from reference_stack._faults import FaultSet, LiveFaults, fault_set

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Observer = Callable[[str, int, float], None]
ErrorAnswer = Callable[[str], Response]
"""The 500 a service answers, for the request path, when ``error_rate`` fails a request."""

ADMIN_PREFIX = "/__admin"
LOGIN_PATH = "/auth/login"
"""The agents' login route (intended contract), which the ``login_fail_for_s`` switch fails."""
ADMIN_HEADER = "X-Stagegate-Admin"
ADMIN_TOKEN_ENV = "STAGEGATE_ADMIN_TOKEN"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"no-referrer"),
)
HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


async def send_json(send: Send, status: int, body: object) -> None:
    payload = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


class InjectedError(Exception):
    """The unhandled exception behind an injected 500 when ``error_mode`` is ``unhandled``."""


class RequestLog:
    """One log line per request (method, path, status, duration); 5xx at ERROR.

    An exception that escaped the app was already answered with a 500 by the app's handler; it is
    logged here, once, and re-raised into uvicorn (which then closes the connection) only when the
    ``error_mode`` switch is ``unhandled``.
    """

    def __init__(self, app: ASGIApp, logger: logging.Logger, faults: LiveFaults, observe: Observer | None = None) -> None:
        self.app, self.logger, self.faults, self.observe = app, logger, faults, observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tap(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        unhandled: Exception | None = None
        try:
            await self.app(scope, receive, tap)
        except Exception as exc:  # noqa: BLE001 - already answered 500 by the app's handler; log it once
            self.logger.error("unhandled exception at %s: %s", scope["path"], type(exc).__name__)
            unhandled = exc
        elapsed_ms = (time.perf_counter() - started) * 1000
        level = logging.ERROR if status >= 500 else logging.INFO
        self.logger.log(level, "%s %s %d %.1fms", scope["method"], scope["path"], status, elapsed_ms)
        if self.observe is not None and not scope["path"].startswith(ADMIN_PREFIX):
            self.observe(scope["path"], status, elapsed_ms)
        if unhandled is not None and self.faults.current.error_mode == "unhandled":
            raise unhandled


class SecurityHeaders:
    """docs/contract.md §3: nosniff, DENY, CSP (and HSTS over HTTPS) on every response."""

    def __init__(self, app: ASGIApp, faults: LiveFaults) -> None:
        self.app, self.faults = app, faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.faults.current.security_headers_missing:
            await self.app(scope, receive, send)
            return
        extra = [*SECURITY_HEADERS, HSTS] if scope.get("scheme") == "https" else list(SECURITY_HEADERS)

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, add_headers)


def internal_error(path: str) -> Response:
    """The intended services' 500: ``{"detail": "Internal server error"}``."""
    return JSONResponse({"detail": "Internal server error"}, status_code=500)


class FaultInjection:
    """On every route but admin: a slow start's 503, added latency, a failing login, a share of 500s.

    The 500 is the service's own answer to an unhandled exception (``error_answer``), so an
    injected error looks like a real one to the harness; with ``error_mode`` ``unhandled`` it is
    followed by an ``InjectedError`` that ends the connection as a real one does. Health is never
    failed by ``error_rate``, only by a slow start.
    """

    def __init__(self, app: ASGIApp, faults: LiveFaults, logger: logging.Logger, *,
                 error_answer: ErrorAnswer = internal_error) -> None:
        self.app, self.faults, self.logger, self.error_answer = app, faults, logger, error_answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        if self.faults.starting_slowly():
            await send_json(send, 503, {"detail": "Service starting"})
            return
        delay_s = self.faults.latency_s(path)
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        if path == LOGIN_PATH and self.faults.login_failing():
            if self.faults.current.login_fail_status == 503:
                self.logger.error("injected 503 on %s (login_fail_for_s fault)", path)
                await send_json(send, 503, {"detail": "Service Unavailable"})
            else:
                await self._fail(path, "login_fail_for_s", scope, receive, send)
            return
        if path != "/health" and self.faults.should_fail():
            await self._fail(path, "error_rate", scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _fail(self, path: str, switch: str, scope: Scope, receive: Receive, send: Send) -> None:
        self.logger.error("injected error on %s (%s fault)", path, switch)
        await self.error_answer(path)(scope, receive, send)
        if self.faults.current.error_mode == "unhandled":
            raise InjectedError(f"injected error on {path} ({switch} fault)")


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def install_admin(app: FastAPI, faults: LiveFaults, admin_token: str) -> None:
    """``GET|PUT|DELETE /__admin/faults``: loopback clients holding the admin token only.

    PUT replaces the whole switch set with the body (a ``FaultSet``); DELETE restores the clean one.
    """

    def guard(request: Request) -> JSONResponse | None:
        if not _is_loopback(request.client.host if request.client else None):
            return JSONResponse({"detail": "admin endpoint is loopback-only"}, status_code=403)
        given = request.headers.get(ADMIN_HEADER, "")
        if not admin_token or not hmac.compare_digest(given.encode(), admin_token.encode()):
            return JSONResponse({"detail": f"missing or wrong {ADMIN_HEADER} header"}, status_code=401)
        return None

    def current() -> JSONResponse:
        return JSONResponse({"service": faults.service, "faults": faults.current.model_dump(mode="json")})

    @app.get(f"{ADMIN_PREFIX}/faults", include_in_schema=False)
    async def get_faults(request: Request) -> JSONResponse:
        return guard(request) or current()

    @app.put(f"{ADMIN_PREFIX}/faults", include_in_schema=False)
    async def put_faults(request: Request) -> JSONResponse:
        refused = guard(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise TypeError("body must be a JSON object of switches")
            faults.replace(fault_set(faults.service, body))
        except (ValueError, TypeError, ValidationError, FaultInvalid) as exc:
            return JSONResponse({"detail": str(exc)}, status_code=400)
        faults_logger = logging.getLogger(faults.service)
        faults_logger.warning("faults set: %s", faults.current.model_dump_json(exclude_defaults=True))
        return current()

    @app.delete(f"{ADMIN_PREFIX}/faults", include_in_schema=False)
    async def clear_faults(request: Request) -> JSONResponse:
        refused = guard(request)
        if refused is not None:
            return refused
        faults.replace(FaultSet())
        logging.getLogger(faults.service).warning("faults cleared")
        return current()


def _validation_detail(exc: RequestValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return f"{where}: {first.get('msg', 'invalid')}"


def new_app(title: str) -> FastAPI:
    """A FastAPI app whose every error is ``{"detail": "<message>"}``: 422 included, 500 included."""
    app = FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_detail(exc)}, status_code=422)

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        return internal_error(request.url.path)

    return app


def wrap(
    app: ASGIApp,
    faults: LiveFaults,
    logger: logging.Logger,
    *,
    inner: Callable[[ASGIApp], ASGIApp] | None = None,
    observe: Observer | None = None,
) -> ASGIApp:
    """The shared middleware stack around a service's app (``inner`` goes just outside the app)."""
    core = inner(app) if inner is not None else app
    return RequestLog(SecurityHeaders(FaultInjection(core, faults, logger), faults), logger, faults, observe)
