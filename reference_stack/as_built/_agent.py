"""What the as-built agents share: the FastAPI app, Prometheus request metrics, the outer layers.

The real agents add their middleware with ``app.add_middleware``, so it runs inside Starlette's
``ServerErrorMiddleware``: an unhandled exception (the JWT 500) passes through it without being
counted. The model keeps that order. Outside the app it adds only the reference stack's request
log, fault injection and admin endpoint, and none of the intended stack's security headers
(deposito and ml send none; negocio adds its own, ``_security.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from starlette.responses import Response

from reference_stack._config import ServiceConfig
from reference_stack._faults import LiveFaults
from reference_stack._http import (
    ADMIN_PREFIX,
    ADMIN_TOKEN_ENV,
    ASGIApp,
    ErrorAnswer,
    FaultInjection,
    Receive,
    RequestLog,
    Scope,
    Send,
    install_admin,
)
from reference_stack.as_built._asgi import ResponseTap
from reference_stack.as_built._envelope import internal_error
from reference_stack.as_built._label import MODEL_LABEL

Payload = dict[str, Any]
READY_PATH = "/__admin/ready"
"""Answers 200 without credentials once the model is up: the launcher's readiness probe, since the
real agents have no such route (``/health`` needs a JWT, and deposito may answer 400 to anything)."""


def startup_lifespan(on_startup: Callable[[], None]) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan that runs ``on_startup`` (the banner and the real start-up lines) when uvicorn starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        on_startup()
        yield

    return lifespan


def agent_app(title: str, on_startup: Callable[[], None]) -> FastAPI:
    """A FastAPI app with the real code's defaults: ``/docs``, ``/redoc``, ``/openapi.json`` on."""
    return FastAPI(title=title, description=f"{title}: {MODEL_LABEL}", lifespan=startup_lifespan(on_startup))


class PrometheusRequests:
    """``<prefix>_requests_total{method,endpoint,http_status}`` and ``<prefix>_request_latency_seconds{endpoint}``.

    ``endpoint`` is the raw path, as in the real ``log_requests`` middleware.
    """

    def __init__(self, app: ASGIApp, *, prefix: str, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            f"{prefix}_requests_total", "Total requests", ["method", "endpoint", "http_status"], registry=registry
        )
        self.latency = Histogram(
            f"{prefix}_request_latency_seconds", "Request latency", ["endpoint"], registry=registry
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        tap = ResponseTap(send)
        await self.app(scope, receive, tap)
        path = scope["path"]
        self.requests.labels(scope["method"], path, str(tap.status)).inc()
        self.latency.labels(path).observe(time.perf_counter() - started)


def add_metrics(app: FastAPI, prefix: str) -> None:
    """Prometheus middleware plus an unauthenticated ``GET /metrics`` (deposito, served-if-started ml)."""
    registry = CollectorRegistry()
    app.add_middleware(PrometheusRequests, prefix=prefix, registry=registry)

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class _AdminBeside:
    """Routes ``/__admin/*`` to the admin app, beside the model, so no modelled defect (deposito's
    TrustedHost 400, JWT on every route) gets between the harness and its fault switches."""

    def __init__(self, app: ASGIApp, admin: ASGIApp) -> None:
        self.app, self.admin = app, admin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self.admin if scope.get("path", "").startswith(ADMIN_PREFIX) else self.app
        await target(scope, receive, send)


def with_admin(app: ASGIApp, config: ServiceConfig, faults: LiveFaults) -> ASGIApp:
    """The model app with the reference stack's ``/__admin`` endpoints beside it."""
    admin = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    install_admin(admin, faults, config.env.get(ADMIN_TOKEN_ENV, ""))

    @admin.get(READY_PATH)
    async def ready() -> Payload:
        return {"ready": True, "service": faults.service, **health_label()}

    return _AdminBeside(app, admin)


def outer(app: ASGIApp, config: ServiceConfig, faults: LiveFaults, logger: logging.Logger, *,
          error_answer: ErrorAnswer = internal_error) -> ASGIApp:
    """An agent's layers: the reference stack's request log and fault injection, and the admin endpoint.

    An injected 500 is the agent's own unhandled-exception answer (``shared.errors`` envelope by default).
    """
    injected = FaultInjection(with_admin(app, config, faults), faults, logger, error_answer=error_answer)
    return RequestLog(injected, logger, faults)


def health_label() -> Payload:
    """The field every model ``/health`` body carries beside the real code's keys."""
    return {"model": MODEL_LABEL}
