"""The ML service as ``main_ml_service.py@c2`` would behave if it started, plus predictor.py's route.

Served module (docs/as-built.md §2.3): Prometheus ``/metrics`` registered first (it shadows the JSON
one), ``/health`` and ``/predict`` behind JWT(ml_service), a fresh start with no models (every
``/predict`` is 404 "Model 'x' not found"), and unhandled errors as ``{"detail","timestamp"}``.
The model also serves ``POST /predict/demanda`` of the unserved ``predictor.py`` (docs/as-built.md §5), because the
inflation rate (R4) lives only there; the banner says so. It has no auth: predictor.py has none.
"""

from __future__ import annotations

import logging
import platform
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from reference_stack._config import ServiceConfig
from reference_stack._faults import LiveFaults
from reference_stack._http import ASGIApp
from reference_stack.as_built._agent import add_metrics, agent_app, health_label, outer
from reference_stack.as_built._auth import container_secret, require_role
from reference_stack.as_built._envelope import register_error_handlers
from reference_stack.as_built._label import log_banner
from reference_stack.as_built._predictor import (
    RATE_ENV,
    DemandaRequest,
    predict_demand,
    read_rate,
    startup_line,
)

VERSION = "1.0.0"


class PredictionRequest(BaseModel):
    model_name: str
    features: dict[str, float | int | str]
    use_cache: bool = True
    include_probabilities: bool = False
    include_feature_importance: bool = False


def internal_error(path: str) -> JSONResponse:
    """``L731-740``: the ``Exception`` handler's body replaces the ``shared.errors`` envelope."""
    return JSONResponse({"detail": "Internal server error", "timestamp": datetime.now(UTC).isoformat()},
                        status_code=500)


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    logging.getLogger("ml_service").error("Unhandled exception at %s", request.url.path, exc_info=exc)
    return internal_error(request.url.path)


def build_app(config: ServiceConfig, faults: LiveFaults) -> FastAPI:
    rate = read_rate(config.env.get(RATE_ENV))
    by_id = {p.id: p for p in config.catalogue}
    auth = Depends(require_role("ml_service", container_secret("ml", config.env)))
    started = time.monotonic()

    def on_startup() -> None:
        log_banner("ml", "served IR/ml/main_ml_service.py@c2, which in reality fails at import, plus POST "
                   "/predict/demanda of unserved IR/ml/predictor.py@c2 (docs/as-built.md §2.3, §5)")
        logging.getLogger("ml.predictor").info(startup_line(rate))

    app = agent_app("ML Service", on_startup)
    register_error_handlers(app)
    app.add_exception_handler(Exception, _internal_error)
    app.add_middleware(CORSMiddleware, allow_origins=[o for o in config.env.get("CORS_ORIGINS", "*").split(",") if o],
                       allow_credentials=True, allow_methods=["*"], allow_headers=["*"])
    add_metrics(app, "ml_service")

    @app.get("/", dependencies=[auth])
    async def root() -> dict[str, Any]:
        return {"service": "ML Service", "version": VERSION, "status": "running",
                "endpoints": ["/health", "/predict", "/train", "/models", "/metrics"], **health_label()}

    @app.get("/health", dependencies=[auth])
    async def health() -> dict[str, Any]:
        status = "unhealthy" if faults.current.health_failing else "healthy"
        return {"status": status, "timestamp": datetime.now(UTC).isoformat(),
                "uptime_seconds": round(time.monotonic() - started, 3),
                "components": {"model_manager": status, "cache_manager": status},
                "model_summary": {"total_models": 0, "loaded_models": 0},
                "cache_summary": {"type": "memory", "entries": 0},
                "system_info": {"python_version": platform.python_version(), "platform": platform.system()},
                **health_label()}

    @app.post("/predict", dependencies=[auth])
    async def predict(body: PredictionRequest) -> dict[str, Any]:
        raise HTTPException(404, f"Model '{body.model_name}' not found")  # a fresh start has no models

    @app.get("/models", dependencies=[auth])
    async def models() -> dict[str, Any]:
        return {"models": [], "total": 0}

    @app.post("/predict/demanda")
    async def predict_demanda(body: DemandaRequest) -> dict[str, Any]:
        return predict_demand(body, 0.0 if faults.current.inflation_ignored else rate, by_id)

    return app


def build(config: ServiceConfig, faults: LiveFaults, logger: logging.Logger) -> ASGIApp:
    return outer(build_app(config, faults), config, faults, logger, error_answer=internal_error)
