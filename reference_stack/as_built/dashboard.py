"""web_dashboard as ``dashboard_app.py@c2`` runs (docs/as-built.md §2.4, §3.5, §6): the only service of
the real stack that starts, modelled route by route.

* ``X-API-Key`` is checked only when ``DASHBOARD_API_KEY`` is non-empty; a wrong or missing key is
  401 ``{"detail":"API key inválida"}``. Pages, ``/health`` and ``/static`` are open.
* Database failures are 200 answers with an ``error`` field; ``/health`` stays 200 with
  ``"database":"error"``. Summary, stock-by-provider, weekly-sales and health are cached 30 s.
* Middleware, outermost first: access log and metrics, [fault injection], rate limit, security
  headers, then the optional TrustedHost / HTTPS redirect / CORS. An injected 500 has the real
  unhandled-error body and no security headers; unlike a real one, it keeps its ``X-Request-ID``.
* The reference stack's ``health_failing`` fault breaks this dashboard's database, which is how the
  real code shows a failing dependency (its only one).
"""

from __future__ import annotations

import csv
import io
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from html import escape
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.httpsredirect import HTTPSRedirectMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from reference_stack._config import ServiceConfig
from reference_stack._faults import LiveFaults
from reference_stack._http import ASGIApp, FaultInjection
from reference_stack.as_built._agent import health_label, startup_lifespan, with_admin
from reference_stack.as_built._dashboard_db import DB_NAME, DashboardDatabase, ensure_database
from reference_stack.as_built._dashboard_http import (
    CONTENT_TYPE,
    AccessLogAndMetrics,
    DashboardMetrics,
    FixedWindowRateLimit,
)
from reference_stack.as_built._label import MODEL_LABEL, log_banner
from reference_stack.as_built._security import AddHeaders, dashboard_headers

CACHE_TTL_S = 30.0
DOCKERFILE_ENV = {"DASHBOARD_API_KEY": "change-me", "DASHBOARD_RATELIMIT_MAX": "100"}
"""``IR/web_dashboard/Dockerfile@c2 L35-37``: what the image sets when the environment does not."""
STATIC_DIR = Path(__file__).parent / "static"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
T = TypeVar("T")

log = logging.getLogger("dashboard")


class _Cache:
    """The real in-process 30 s cache: it keeps whatever the call returned, error payloads included."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Any]] = {}

    def get(self, key: str, compute: Callable[[], T]) -> T:
        hit = self._entries.get(key)
        if hit is not None and time.monotonic() - hit[0] < CACHE_TTL_S:
            value: T = hit[1]
            return value
        value = compute()
        self._entries[key] = (time.monotonic(), value)
        return value


def _date_or_none(text: str | None) -> str | None:
    """YYYY-MM-DD, else None (docs/as-built.md §2.4: an invalid date is ignored, not rejected)."""
    if text is None or not _DATE.match(text):
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _proveedor(text: str | None) -> str | None:
    return re.sub(r"[^\w\s.&-]", "", text)[:60] or None if text else None


def _or_error(what: str, call: Callable[[], T], fallback: Callable[[str], T]) -> T:
    try:
        return call()
    except sqlite3.Error as exc:
        log.error("Error obteniendo %s: %s", what, exc)
        return fallback(f"Error obteniendo {what}: {exc}")


def _summary_error(message: str) -> dict[str, Any]:
    zeros = dict.fromkeys(("total_proveedores", "total_pedidos", "total_productos_pedidos", "total_movimientos",
                           "facturas_procesadas", "pedidos_mes", "movimientos_semana"), 0)
    return {**zeros, "proveedor_top": {"nombre": None, "pedidos": 0}, "error": message}


def _list_error(message: str) -> list[dict[str, Any]]:
    return [{"error": message}]


def _csv(rows: list[dict[str, Any]], filename: str) -> Response:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return Response(out.getvalue(), media_type="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


def _page(title: str, body: str, ui_key: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><html lang=\"es\"><head><meta charset=\"utf-8\">"
        f"<meta name=\"x-api-key\" content=\"{escape(ui_key)}\"><title>{escape(title)} - Mini Market</title>"
        "<link rel=\"stylesheet\" href=\"/static/dashboard.css\"></head><body>"
        f"<h1>{escape(title)}</h1>{body}<footer><small>{escape(MODEL_LABEL)}</small></footer></body></html>"
    )


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>Sin datos</p>"
    head = "".join(f"<th>{escape(str(k))}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row.values()) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _internal_error(path: str) -> Response:
    """``L234-240``: JSON for ``/api/*`` and ``/health``, the HTML error page otherwise."""
    if path.startswith("/api/") or path == "/health":
        return JSONResponse({"error": "Error interno"}, status_code=500)
    return HTMLResponse("<!doctype html><html><body><h1>Error interno</h1></body></html>", status_code=500)


async def _unhandled(request: Request, exc: Exception) -> Response:
    return _internal_error(request.url.path)


def _add_middleware(app: FastAPI, env: Mapping[str, str], faults: LiveFaults, logger: logging.Logger,
                    metrics: DashboardMetrics) -> None:
    """``add_middleware`` puts the last one outermost, so this list runs innermost first."""
    if env.get("DASHBOARD_ALLOWED_HOSTS", "*") != "*":
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=env["DASHBOARD_ALLOWED_HOSTS"].split(","))
    if env.get("DASHBOARD_FORCE_HTTPS", "false").lower() == "true":
        app.add_middleware(HTTPSRedirectMiddleware)
    if env.get("DASHBOARD_CORS_ORIGINS"):
        app.add_middleware(CORSMiddleware, allow_origins=env["DASHBOARD_CORS_ORIGINS"].split(","),
                           allow_methods=["GET"], allow_headers=["*"])
    hsts = env.get("DASHBOARD_ENABLE_HSTS", "false").lower() == "true"
    app.add_middleware(AddHeaders, headers=dashboard_headers(hsts=hsts))
    app.add_middleware(FixedWindowRateLimit, env=env)
    app.add_middleware(FaultInjection, faults=faults, logger=logger, error_answer=_internal_error)
    app.add_middleware(AccessLogAndMetrics, metrics=metrics)


def build_app(config: ServiceConfig, faults: LiveFaults, logger: logging.Logger) -> FastAPI:
    env: Mapping[str, str] = {**DOCKERFILE_ENV, **config.env}
    path = config.state_dir / "data" / DB_NAME
    ensure_database(path, config.catalogue)
    db = DashboardDatabase(path, broken=lambda: faults.current.health_failing)
    cache = _Cache()
    metrics = DashboardMetrics()
    ui_key = env.get("DASHBOARD_UI_API_KEY", "")

    def on_startup() -> None:
        log_banner("dashboard", "IR/web_dashboard/dashboard_app.py@c2, the one service that really runs (docs/as-built.md §2.4)")

    app = FastAPI(title="Mini Market Dashboard", description=MODEL_LABEL, lifespan=startup_lifespan(on_startup))
    app.add_exception_handler(Exception, _unhandled)
    _add_middleware(app, env, faults, logger, metrics)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    def check_key(x_api_key: Annotated[str | None, Header()] = None) -> None:
        expected = env.get("DASHBOARD_API_KEY", "")
        if expected and x_api_key != expected:  # plain != at c2 (hmac only at a76)
            raise HTTPException(401, "API key inválida")

    keyed = [Depends(check_key)]

    def summary() -> dict[str, Any]:
        return cache.get("summary", lambda: _or_error("resumen", db.summary, _summary_error))

    @app.get("/health")
    async def health() -> dict[str, Any]:
        def compute() -> dict[str, Any]:
            return {"status": "healthy", "timestamp": datetime.now(UTC).isoformat(),
                    "database": "connected" if db.ping() else "error",
                    "services": {"dashboard": "ok", "analytics": "ok", "api": "ok"}, **health_label()}
        return cache.get("health", compute)

    @app.get("/", response_class=HTMLResponse)
    async def index() -> HTMLResponse:
        data = summary()
        if "error" in data:
            return _page("Error", f"<p>{escape(data['error'])}</p>", ui_key)
        return _page("Dashboard", _table([{k: v for k, v in data.items() if k != "proveedor_top"}]), ui_key)

    @app.get("/providers", response_class=HTMLResponse)
    async def providers_page() -> HTMLResponse:
        rows = _or_error("proveedores", db.providers, _list_error)
        return _page("Proveedores", _table(rows), ui_key)

    @app.get("/analytics", response_class=HTMLResponse)
    async def analytics_page(start_date: str | None = None, end_date: str | None = None,
                             proveedor: str | None = None) -> HTMLResponse:
        rows = _or_error("productos", lambda: db.top_products(
            10, _date_or_none(start_date), _date_or_none(end_date), _proveedor(proveedor)), _list_error)
        return _page("Analytics", _table(rows), ui_key)

    @app.get("/api/summary", dependencies=keyed)
    async def api_summary() -> dict[str, Any]:
        return summary()

    @app.get("/api/providers", dependencies=keyed)
    async def api_providers() -> list[dict[str, Any]]:
        return _or_error("proveedores", db.providers, _list_error)

    @app.get("/api/stock-timeline", dependencies=keyed)
    async def api_stock_timeline(days: int = 30) -> list[dict[str, Any]]:
        clamped = min(max(days, 1), 90)
        return _or_error("timeline de stock", lambda: db.stock_timeline(clamped), _list_error)

    @app.get("/api/top-products", dependencies=keyed)
    async def api_top_products(limit: Annotated[int, Query(ge=1, le=100)] = 10, start_date: str | None = None,
                               end_date: str | None = None, proveedor: str | None = None) -> list[dict[str, Any]]:
        return _or_error("top productos", lambda: db.top_products(
            limit, _date_or_none(start_date), _date_or_none(end_date), _proveedor(proveedor)), _list_error)

    @app.get("/api/trends", dependencies=keyed)
    async def api_trends(months: Annotated[int, Query(ge=1, le=24)] = 12, start_date: str | None = None,
                         end_date: str | None = None, proveedor: str | None = None) -> dict[str, Any]:
        return _or_error("tendencias", lambda: db.trends(
            months, _date_or_none(start_date), _date_or_none(end_date), _proveedor(proveedor)),
            lambda message: {"error": message})

    @app.get("/api/stock-by-provider", dependencies=keyed)
    async def api_stock_by_provider(limit: Annotated[int, Query(ge=1, le=100)] = 10) -> list[dict[str, Any]]:
        return cache.get(f"stock-by-provider:{limit}",
                         lambda: _or_error("stock por proveedor", lambda: db.stock_by_provider(limit), _list_error))

    @app.get("/api/weekly-sales", dependencies=keyed)
    async def api_weekly_sales(weeks: Annotated[int, Query(ge=1, le=52)] = 8) -> list[dict[str, Any]]:
        return cache.get(f"weekly-sales:{weeks}",
                         lambda: _or_error("ventas semanales", lambda: db.weekly_sales(weeks), _list_error))

    @app.get("/metrics", dependencies=keyed)
    async def prometheus() -> PlainTextResponse:
        return PlainTextResponse(metrics.exposition(), media_type=CONTENT_TYPE)

    @app.get("/api/export/summary.csv", dependencies=keyed)
    async def export_summary() -> Response:
        data = summary()
        rows = [{"metrica": k, "valor": v} for k, v in data.items() if k != "proveedor_top"]
        return _csv(rows, "summary.csv")

    @app.get("/api/export/providers.csv", dependencies=keyed)
    async def export_providers() -> Response:
        return _csv(_or_error("proveedores", db.providers, _list_error), "providers.csv")

    @app.get("/api/export/top-products.csv", dependencies=keyed)
    async def export_top_products(limit: Annotated[int, Query(ge=1, le=100)] = 10, start_date: str | None = None,
                                  end_date: str | None = None, proveedor: str | None = None) -> Response:
        rows = _or_error("top productos", lambda: db.top_products(
            limit, _date_or_none(start_date), _date_or_none(end_date), _proveedor(proveedor)), _list_error)
        return _csv(rows, "top-products.csv")

    return app


def build(config: ServiceConfig, faults: LiveFaults, logger: logging.Logger) -> ASGIApp:
    return with_admin(build_app(config, faults, logger), config, faults)
