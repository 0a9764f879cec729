"""ml (docs/contract.md §6, R4): demand predictions adjusted by the monthly inflation rate.

The rate is read from ``INFLATION_RATE_MONTHLY`` once, at start-up, and logged in the exact line
the checklist greps for; a non-numeric value stops the process with a clear error.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Depends, HTTPException
from pydantic import BaseModel, Field

from generators.catalogue import Product
from reference_stack import _inflation
from reference_stack._config import ServiceConfig
from reference_stack._faults import LiveFaults
from reference_stack._http import ASGIApp, wrap
from reference_stack.intended._agent import agent_app, token_check


class PredictRequest(BaseModel):
    producto_id: int
    dias: int = Field(default=7, ge=1, le=365)


def daily_demand(product: Product) -> float:
    """A product's base demand per day: a third of its minimum stock, at least one unit."""
    return max(product.stock_minimo / 3, 1.0)


def build(config: ServiceConfig, faults: LiveFaults, logger: logging.Logger) -> ASGIApp:
    rate = _inflation.parse_rate(config.env.get(_inflation.RATE_ENV))
    by_id = {p.id: p for p in config.catalogue}
    if not faults.current.inflation_ignored:
        logger.info(_inflation.describe(rate))
    app = agent_app(config, faults, lambda: None)
    auth = Depends(token_check(config, faults, logger))

    @app.post("/predict", dependencies=[auth])
    async def predict(body: PredictRequest) -> dict[str, Any]:
        product = by_id.get(body.producto_id)
        if product is None:
            raise HTTPException(404, f"producto {body.producto_id} no encontrado")
        used = 0.0 if faults.current.inflation_ignored else rate
        base = round(daily_demand(product) * body.dias, 4)
        ajuste = _inflation.adjustment(used, body.dias)
        return {"producto_id": body.producto_id, "dias": body.dias, "demanda_base": base,
                "inflation_rate_monthly": used, "ajuste_inflacion": ajuste,
                "demanda_ajustada": round(base * (1 + ajuste), 4)}

    return wrap(app, faults, logger)
