"""deposito (docs/contract.md §4): products and the stock ledger, behind the agent's own JWT."""

from __future__ import annotations

import logging
from typing import Any, Literal

from fastapi import Depends, HTTPException, Query
from pydantic import BaseModel, Field

from reference_stack._config import ServiceConfig
from reference_stack._faults import LiveFaults
from reference_stack._http import ASGIApp, wrap
from reference_stack._ledger import InsufficientStock, Ledger, ProductNotFound
from reference_stack.intended._agent import agent_app, token_check


class StockUpdate(BaseModel):
    producto_id: int
    tipo_movimiento: Literal["entrada", "salida"]
    cantidad: int = Field(gt=0)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


def build(config: ServiceConfig, faults: LiveFaults, logger: logging.Logger) -> ASGIApp:
    ledger = Ledger(config.database)
    app = agent_app(config, faults, ledger.ping)
    auth = Depends(token_check(config, faults, logger))

    @app.get("/productos", dependencies=[auth])
    async def list_products(
        limit: int = Query(100, ge=1, le=100), offset: int = Query(0, ge=0), categoria: str | None = None
    ) -> dict[str, Any]:
        productos, total = ledger.products(limit=limit, offset=offset, categoria=categoria)
        return {"productos": productos, "total": total}

    @app.get("/productos/{producto_id}", dependencies=[auth])
    async def get_product(producto_id: int) -> dict[str, Any]:
        try:
            return ledger.product(producto_id)
        except ProductNotFound as exc:
            raise HTTPException(404, str(exc)) from None

    @app.post("/stock/update", dependencies=[auth])
    def update_stock(body: StockUpdate) -> dict[str, Any]:
        try:
            result = ledger.apply_movement(
                body.producto_id, body.tipo_movimiento, body.cantidad, body.idempotency_key,
                corruption=faults.current.ledger_corruption,
            )
        except ProductNotFound as exc:
            raise HTTPException(404, str(exc)) from None
        except InsufficientStock as exc:
            raise HTTPException(400, str(exc)) from None
        return result

    @app.get("/stock/critical", dependencies=[auth])
    async def critical_stock() -> list[dict[str, Any]]:
        return ledger.critical()

    return wrap(app, faults, logger)
