"""agente_deposito as its served ``main.py@c2`` would behave if it started (docs/as-built.md §2.1, §3)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.middleware.trustedhost import TrustedHostMiddleware

from reference_stack._config import ServiceConfig
from reference_stack._faults import LiveFaults
from reference_stack._http import ASGIApp
from reference_stack._ledger import InsufficientStock, ProductNotFound
from reference_stack.as_built._agent import add_metrics, agent_app, health_label, outer
from reference_stack.as_built._auth import container_secret, require_role
from reference_stack.as_built._envelope import register_error_handlers
from reference_stack.as_built._label import log_banner
from reference_stack.as_built._products import DuplicateCode, ProductTable
from reference_stack.as_built._switches import AsBuiltSwitches

SETTINGS_PORT = "8002"
"""``AGENTE_DEPOSITO_PORT`` default in ``IR/shared/config.py@c2 L27-28``: the start-up log says 8002."""
ENDPOINTS = ["/health", "/productos", "/productos/{id}", "/stock/update", "/stock/critical", "/metrics"]
_SEASONS = {12: "verano", 1: "verano", 2: "verano", 3: "otoño", 4: "otoño", 5: "otoño",
            6: "invierno", 7: "invierno", 8: "invierno", 9: "primavera", 10: "primavera", 11: "primavera"}
_SEASON_FACTOR = {"verano": 1.2, "otoño": 1.0, "invierno": 0.9, "primavera": 1.1}


class ProductoCreate(BaseModel):
    codigo: str
    nombre: str
    precio_compra: float = Field(gt=0)
    descripcion: str | None = None
    categoria: str = "General"
    stock_minimo: int = Field(0, ge=0)
    stock_maximo: int | None = None
    precio_venta: float | None = None
    proveedor_cuit: str | None = None
    proveedor_nombre: str | None = None
    stock_actual: int = Field(0, ge=0)


class ProductoUpdate(BaseModel):
    nombre: str | None = None
    descripcion: str | None = None
    categoria: str | None = None
    precio_compra: float | None = Field(None, gt=0)
    precio_venta: float | None = None
    stock_minimo: int | None = Field(None, ge=0)
    stock_maximo: int | None = None
    proveedor_cuit: str | None = None
    proveedor_nombre: str | None = None
    activo: bool | None = None


class StockUpdateRequest(BaseModel):
    producto_id: int
    tipo_movimiento: Literal["entrada", "salida"]
    cantidad: int = Field(gt=0)
    motivo: str | None = None
    referencia: str | None = None
    precio_unitario: float | None = None
    usuario: str = "sistema"
    idempotency_key: str | None = None


def _add_custom_handlers(app: FastAPI) -> None:
    """``main.py@c2 L108-127``: the stock manager's own 400 and 404 bodies."""

    @app.exception_handler(InsufficientStock)
    async def insufficient(request: Request, exc: InsufficientStock) -> JSONResponse:
        message = f"Stock insuficiente. Stock actual: {exc.stock_actual}"
        return JSONResponse({"error": "stock_insuficiente", "message": message, "stock_actual": exc.stock_actual},
                            status_code=400)

    @app.exception_handler(ProductNotFound)
    async def not_found(request: Request, exc: ProductNotFound) -> JSONResponse:
        return JSONResponse({"error": "producto_no_encontrado", "message": str(exc)}, status_code=404)


def _log_startup(config: ServiceConfig) -> None:
    log_banner("deposito", "served IR/agente_deposito/main.py@c2, which in reality does not start (docs/as-built.md §2.1)")
    logger = logging.getLogger("agente_deposito")
    season = _SEASONS[datetime.now(UTC).month]
    logger.info("🏭 AgenteDepósito iniciado")
    logger.info("Puerto: %s", config.env.get("AGENTE_DEPOSITO_PORT", SETTINGS_PORT))
    logger.info("Temporada actual: %s", season)
    logger.info("Factor stock temporada: %s", _SEASON_FACTOR[season])


def build_app(config: ServiceConfig, faults: LiveFaults) -> FastAPI:
    """The model app alone (no reference-stack layers): routes, envelope, TrustedHost, CORS, metrics."""
    table = ProductTable(config.database)
    table.add_real_columns()
    started = time.monotonic()
    auth = Depends(require_role("deposito", container_secret("deposito", config.env)))
    app = agent_app("Agente Depósito", lambda: _log_startup(config))
    register_error_handlers(app)
    _add_custom_handlers(app)
    # add_middleware puts the last one outermost: log_requests/metrics, then TrustedHost, then CORS.
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True, allow_methods=["*"],
                       allow_headers=["*"])
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=AsBuiltSwitches.from_env(config.env).deposito_cors_origins.split(","))
    add_metrics(app, "agente_deposito")

    @app.get("/health", dependencies=[auth])
    async def health() -> JSONResponse:
        problem = "health check failing (fault injected)" if faults.current.health_failing else table.ping()
        if problem is not None:
            return JSONResponse({"status": "unhealthy", "error": problem, **health_label()}, status_code=503)
        _, total = table.list_products(categoria=None, activos_solo=False, limit=1, offset=0)
        return JSONResponse({
            "status": "healthy", "service": "agente_deposito", "version": "1.0.0",
            "timestamp": datetime.now(UTC).isoformat(), "uptime_seconds": round(time.monotonic() - started, 3),
            "database": {"status": "connected", "productos": total}, "endpoints_disponibles": ENDPOINTS,
            **health_label(),
        })

    @app.post("/productos", dependencies=[auth], status_code=201)
    async def create_product(body: ProductoCreate) -> dict[str, Any]:
        fields = body.model_dump()
        fields["precio_venta"] = fields["precio_venta"] or fields["precio_compra"]
        try:
            return table.create_product(fields)
        except DuplicateCode as exc:
            raise HTTPException(400, str(exc)) from None

    @app.get("/productos", dependencies=[auth])
    async def list_products(
        categoria: str | None = None, activos_solo: bool = True, limit: int = 100, offset: int = 0
    ) -> dict[str, Any]:
        productos, total = table.list_products(
            categoria=categoria, activos_solo=activos_solo, limit=limit, offset=offset
        )
        return {"productos": productos, "total": total, "skip": offset, "limit": limit}

    @app.get("/productos/{producto_id}", dependencies=[auth])
    async def get_product(producto_id: int) -> dict[str, Any]:
        try:
            return table.get_product(producto_id)
        except ProductNotFound as exc:
            raise HTTPException(404, str(exc)) from None

    @app.put("/productos/{producto_id}")  # no require_role in the real code (docs/as-built.md §2.1)
    async def update_product(producto_id: int, body: ProductoUpdate) -> dict[str, Any]:
        try:
            return table.update_product(producto_id, body.model_dump(exclude_unset=True))
        except ProductNotFound as exc:
            raise HTTPException(404, str(exc)) from None

    @app.post("/stock/update", dependencies=[auth])
    async def update_stock(body: StockUpdateRequest) -> dict[str, Any]:
        result = table.apply_movement(body.producto_id, body.tipo_movimiento, body.cantidad, body.idempotency_key,
                                      corruption=faults.current.ledger_corruption)
        return {"success": True, **result,
                "mensaje": f"Stock actualizado: {result['stock_anterior']} -> {result['stock_nuevo']}"}

    @app.get("/stock/critical", dependencies=[auth])
    async def critical(limite_critico: int = 10) -> list[dict[str, Any]]:
        return table.critical_products()  # limite_critico is accepted and unused, as in the real code

    return app


def build(config: ServiceConfig, faults: LiveFaults, logger: logging.Logger) -> ASGIApp:
    return outer(build_app(config, faults), config, faults, logger)
