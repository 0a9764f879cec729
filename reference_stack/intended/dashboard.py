"""dashboard (docs/contract.md §7): HTML and JSON over the stock ledger, API key, rate limit, metrics."""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from html import escape
from pathlib import Path
from typing import Any

from fastapi import Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from reference_stack._config import ServiceConfig
from reference_stack._faults import LiveFaults
from reference_stack._http import ADMIN_TOKEN_ENV, ASGIApp, install_admin, new_app, wrap
from reference_stack._ledger import Ledger
from reference_stack.intended._metrics import CONTENT_TYPE, DashboardMetrics
from reference_stack.intended._ratelimit import (
    DEFAULT_MAX,
    DEFAULT_WINDOW_S,
    RATE_MAX_ENV,
    RATE_WINDOW_ENV,
    RateLimit,
)

API_KEY_ENV = "DASHBOARD_API_KEY"
API_KEY_HEADER = "X-API-Key"
STATIC_DIR = Path(__file__).parent / "static"

_SUMMARY = """
SELECT (SELECT count(*) FROM productos) AS total_productos,
       (SELECT count(*) FROM movimientos) AS total_movimientos,
       (SELECT count(*) FROM productos WHERE stock_actual <= stock_minimo) AS productos_criticos,
       (SELECT count(DISTINCT proveedor) FROM productos) AS total_proveedores,
       (SELECT round(sum(stock_actual * precio_compra), 2) FROM productos) AS valor_stock
"""
_PROVIDERS = """
SELECT proveedor, count(*) AS productos, sum(stock_actual) AS stock_total,
       round(sum(stock_actual * precio_compra), 2) AS valor_stock
FROM productos GROUP BY proveedor ORDER BY proveedor
"""
_TOP = """
SELECT p.id AS producto_id, p.codigo, p.nombre,
       coalesce(sum(CASE WHEN m.tipo = 'salida' THEN m.cantidad END), 0) AS salidas
FROM productos p LEFT JOIN movimientos m ON m.producto_id = p.id
GROUP BY p.id ORDER BY salidas DESC, p.id LIMIT ?
"""
_TIMELINE = """
SELECT date(created_at, 'unixepoch') AS fecha,
       coalesce(sum(CASE WHEN tipo = 'entrada' THEN cantidad END), 0) AS entradas,
       coalesce(sum(CASE WHEN tipo = 'salida' THEN cantidad END), 0) AS salidas,
       count(*) AS movimientos
FROM movimientos WHERE created_at >= ? GROUP BY fecha
"""


def _page(summary: dict[str, Any]) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in summary.items())
    return (
        "<!doctype html><html lang=\"es\"><head><meta charset=\"utf-8\"><title>Inventario retail</title>"
        "<link rel=\"stylesheet\" href=\"/static/dashboard.css\"></head><body>"
        f"<h1>Inventario retail: resumen</h1><table>{rows}</table></body></html>"
    )


def build(config: ServiceConfig, faults: LiveFaults, logger: logging.Logger) -> ASGIApp:
    ledger = Ledger(config.database, read_only=True)
    api_key = config.secret(API_KEY_ENV)
    metrics = DashboardMetrics()
    app = new_app("dashboard (reference stack, intended contract)")
    install_admin(app, faults, config.env.get(ADMIN_TOKEN_ENV, ""))
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    async def require_key(request: Request) -> None:
        given = request.headers.get(API_KEY_HEADER, "")
        if not hmac.compare_digest(given.encode(), api_key.encode()):
            raise HTTPException(401, "API key inválida")

    keyed = [Depends(require_key)]

    def summary() -> dict[str, Any]:
        return ledger.query(_SUMMARY)[0]

    @app.get("/health")
    async def health() -> JSONResponse:
        problem = "health check failing (fault injected)" if faults.current.health_failing else ledger.ping()
        if problem is not None:
            return JSONResponse({"status": "unhealthy", "database": "error", "error": problem}, status_code=503)
        return JSONResponse({"status": "healthy", "database": "connected"})

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return _page(summary())

    @app.get("/api/summary", dependencies=keyed)
    def api_summary() -> dict[str, Any]:
        return summary()

    @app.get("/api/providers", dependencies=keyed)
    def api_providers() -> list[dict[str, Any]]:
        return ledger.query(_PROVIDERS)

    @app.get("/api/top-products", dependencies=keyed)
    def api_top_products(limit: int = Query(10, ge=1, le=100)) -> list[dict[str, Any]]:
        return ledger.query(_TOP, (limit,))

    @app.get("/api/stock-timeline", dependencies=keyed)
    def api_stock_timeline(days: int = Query(7, ge=1, le=90)) -> list[dict[str, Any]]:
        today = dt.datetime.now(dt.UTC).date()
        first = today - dt.timedelta(days=days - 1)
        since = dt.datetime.combine(first, dt.time(), dt.UTC).timestamp()
        found = {row["fecha"]: row for row in ledger.query(_TIMELINE, (since,))}
        dates = [(first + dt.timedelta(days=n)).isoformat() for n in range(days)]
        empty = {"entradas": 0, "salidas": 0, "movimientos": 0}
        return [{**empty, **found.get(day, {}), "fecha": day} for day in dates]

    @app.get("/metrics", dependencies=keyed)
    async def prometheus() -> Response:
        return Response(metrics.exposition(), media_type=CONTENT_TYPE)

    max_requests = int(config.setting(RATE_MAX_ENV, str(DEFAULT_MAX)))
    window_s = float(config.setting(RATE_WINDOW_ENV, str(DEFAULT_WINDOW_S)))
    return wrap(
        app, faults, logger, observe=metrics.observe,
        inner=lambda core: RateLimit(core, max_requests=max_requests, window_s=window_s),
    )
