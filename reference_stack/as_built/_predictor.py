"""``IR/ml/predictor.py@c2``'s demand prediction with its inflation handling (docs/as-built.md §5).

The rate is ``float(INFLATION_RATE_MONTHLY or "0.045")`` with no percent detection (4.5 means
450 %), logged at start-up as ``ML Predictor initialized with inflation rate: 4.50% monthly`` and
returned only as a string, ``contexto_argentino.inflacion_mensual_estimada = "4.5%"``.
``features.py`` does detect percentages when it turns the rate into model features.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from generators.catalogue import Product
from reference_stack._errors import ConfigInvalid

RATE_ENV = "INFLATION_RATE_MONTHLY"
DEFAULT_RATE = "0.045"

log = logging.getLogger("ml.predictor")


class DemandaRequest(BaseModel):
    producto_id: int
    dias_prediccion: Literal[1, 3, 7, 14, 30] = 7
    incluir_confianza: bool = True
    contexto_adicional: dict[str, Any] | None = None


def read_rate(text: str | None) -> float:
    """``float(os.getenv(...))`` exactly: a non-numeric value stops the predictor's construction."""
    raw = DEFAULT_RATE if text is None else text
    try:
        return float(raw)
    except ValueError:
        raise ConfigInvalid(
            f"ml: {RATE_ENV}: could not convert string to float: {raw!r} (ValueError: the predictor does not start)"
        ) from None


def startup_line(rate: float) -> str:
    return f"ML Predictor initialized with inflation rate: {rate * 100:.2f}% monthly"


def inflation_features(rate: float, dias: int) -> dict[str, float]:
    """``features.py@c2 L85-88, L149-166``: here a rate below 1 *is* read as a fraction."""
    mensual = rate * 100 if rate < 1 else rate
    acumulada = ((1 + mensual / 100) ** (dias / 30) - 1) * 100
    factor = 1 + acumulada / 100
    return {"inflacion_mensual": mensual, "inflacion_acumulada": round(acumulada, 4),
            "factor_inflacionario": round(factor, 6), "poder_adquisitivo": round(1 / factor, 6)}


def predict_demand(request: DemandaRequest, rate: float, by_id: Mapping[int, Product]) -> dict[str, Any]:
    """A demand curve for the product, shrunk by purchasing power, with the rate as a string.

    An id not in ``by_id`` (the stack's products) still gets a curve: the real route checks no id.
    """
    product = by_id.get(request.producto_id)
    daily = max(product.stock_minimo / 7, 1.0) if product is not None else 3.0
    features = inflation_features(rate, request.dias_prediccion)
    today = datetime.now(UTC).date()
    demand = [round(daily * features["poder_adquisitivo"] * (1.1 if (today.weekday() + d) % 7 >= 4 else 1), 2)
              for d in range(request.dias_prediccion)]
    curve = [{"fecha": (today + timedelta(days=d + 1)).isoformat(), "demanda": value} for d, value in enumerate(demand)]
    body: dict[str, Any] = {
        "producto_id": request.producto_id,
        "dias_prediccion": request.dias_prediccion,
        "prediccion": curve,
        "demanda_total": round(sum(demand), 2),
        "features": features,
        "contexto_argentino": {"inflacion_mensual_estimada": f"{rate * 100:.1f}%",
                               "moneda": "ARS", "zona_horaria": "America/Argentina/Buenos_Aires"},
        "timestamp": datetime.now(UTC).isoformat(),
    }
    if request.incluir_confianza:
        body["confianza"] = 0.8
    return body
