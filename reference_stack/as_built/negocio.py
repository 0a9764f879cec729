"""agente_negocio as its served ``main.py@c2`` would behave if it started (docs/as-built.md §2.2), or, with
``negocio_variant="r3-main-complete"``, as the unserved R3 file ``main_complete.py@c2`` (§4).

Served ``main.py`` builds its app twice; the second one, which uvicorn serves, has no ``/metrics``.
Its deposito client sends no token, so ``deposito_status`` is "disconnected" and every price lookup
ends in 404. ``/facturas/procesar`` awaits the synchronous OCR method: the OCR runs on the event
loop, then ``await`` on its dict raises TypeError, answered 500, and there is no timeout.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, UploadFile
from fastapi.middleware.cors import CORSMiddleware

from reference_stack._config import ServiceConfig
from reference_stack._errors import StackError
from reference_stack._faults import LiveFaults
from reference_stack._http import ASGIApp
from reference_stack._state import read_info
from reference_stack.as_built import _negocio_r3
from reference_stack.as_built._agent import agent_app, health_label, outer
from reference_stack.as_built._auth import container_secret, require_role
from reference_stack.as_built._envelope import register_error_handlers
from reference_stack.as_built._invoice_ocr import OcrProcessor
from reference_stack.as_built._label import log_banner
from reference_stack.as_built._security import AddHeaders, agent_headers
from reference_stack.as_built._switches import AsBuiltSwitches

INFLACION_MENSUAL = 4.5
"""``settings.INFLACION_MENSUAL``: a percentage, unlike ml's fraction (docs/as-built.md §5)."""
DEPOSITO_URL_DEFAULT = "http://localhost:8001"
DEPOSITO_TIMEOUT_S = 5.0
WRONG_PORT = "8001"
"""``main.py@c2 L178-180`` logs port 8001 while the service listens on 8002."""

log = logging.getLogger("agente_negocio")


class DepositoClient:
    """``integrations/deposito_client.py@c2``: calls deposito **without a token**.

    deposito is compose's ``AGENTE_DEPOSITO_URL`` when set; else this stack's own deposito, read from
    ``stack.json`` once the launcher has written it (so another stack on port 8001 is never asked).
    """

    def __init__(self, config: ServiceConfig) -> None:
        self._config = config
        self._url = config.env.get("AGENTE_DEPOSITO_URL", "").rstrip("/") or None

    def base_url(self) -> str:
        if self._url is None:
            try:
                self._url = read_info(self._config.state_dir).services["deposito"]
            except (StackError, KeyError):
                return DEPOSITO_URL_DEFAULT
        return self._url

    async def _get(self, path: str, **params: Any) -> httpx.Response | None:
        try:
            async with httpx.AsyncClient(timeout=DEPOSITO_TIMEOUT_S, trust_env=False) as client:
                return await client.get(self.base_url() + path, params=params)
        except httpx.HTTPError as exc:
            log.warning("deposito no disponible: %s", exc.__class__.__name__)
            return None

    async def health(self) -> bool:
        answer = await self._get("/health")
        return answer is not None and answer.status_code == 200

    async def product_by_code(self, codigo: str) -> dict[str, Any] | None:
        answer = await self._get("/productos", limit=100)
        if answer is None or answer.status_code != 200:
            log.warning("consulta de producto %s a deposito: HTTP %s", codigo,
                        answer.status_code if answer is not None else "sin respuesta")
            return None
        return next((p for p in answer.json().get("productos", []) if p.get("codigo") == codigo), None)


def _log_startup() -> None:
    log_banner("negocio", "served IR/agente_negocio/main.py@c2 (second app), which in reality does not start (docs/as-built.md §2.2)")
    log.info("🧠 AgenteNegocio iniciado - Puerto %s", WRONG_PORT)


def _served_main(config: ServiceConfig, faults: LiveFaults) -> FastAPI:
    auth = Depends(require_role("negocio", container_secret("negocio", config.env)))
    deposito = DepositoClient(config)
    app = agent_app("Agente Negocio", _log_startup)
    register_error_handlers(app)
    origins = [o for o in config.env.get("CORS_ORIGINS", "*").split(",") if o]
    app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=True, allow_methods=["*"],
                       allow_headers=["*"])
    app.add_middleware(AddHeaders, headers=agent_headers(prod=config.env.get("ENV") == "prod"))

    @app.get("/health", dependencies=[auth])
    async def health() -> dict[str, Any]:
        try:
            if faults.current.health_failing:
                raise RuntimeError("health check failing (fault injected)")
            status = "connected" if await deposito.health() else "disconnected"
            return {"status": "healthy", "service": "agente_negocio", "timestamp": datetime.now(UTC).isoformat(),
                    "deposito_status": status, **health_label()}
        except Exception as exc:  # noqa: BLE001 - the real handler answers 200 unhealthy on any error
            return {"status": "unhealthy", "error": str(exc), **health_label()}

    @app.get("/precios/consultar", dependencies=[auth])
    async def consultar_precio(codigo: str = Query(...), dias_desde_compra: int = 0) -> dict[str, Any]:
        try:
            producto = await deposito.product_by_code(codigo)
            if producto is None:
                raise ValueError(f"Producto {codigo} no encontrado en depósito")
            rate = 0.0 if faults.current.inflation_ignored else INFLACION_MENSUAL
            factor = (1 + rate / 100) ** (dias_desde_compra / 30)
            return {"codigo": codigo, "precio_actualizado": round(producto["precio_compra"] * factor, 2),
                    "dias_transcurridos": dias_desde_compra, "inflacion_aplicada": rate}
        except Exception as exc:  # noqa: BLE001 - the real route turns any error into a 404
            raise HTTPException(404, str(exc)) from None

    @app.post("/facturas/procesar", dependencies=[auth])
    async def procesar_factura(
        file: Annotated[UploadFile, File()], proveedor_cuit: Annotated[str | None, Form()] = None
    ) -> dict[str, Any]:
        try:
            data = await file.read()
            processor = OcrProcessor(seconds_per_mb=config.ocr_seconds_per_mb,
                                     multiplier=faults.current.ocr_cost_multiplier, products=config.catalogue)
            # invoice/processor.py@c2 L23 awaits what R3 made a plain method: the OCR runs here, on the
            # event loop, and then awaiting its dict raises TypeError.
            ocr_data = await processor.process_image(data)  # type: ignore[misc]
            return {"factura_id": None, "ocr_data": ocr_data, "status": "completado"}
        except Exception as exc:  # noqa: BLE001 - the real route turns any error into a 500
            log.error("Error procesando factura: %s", exc)
            raise HTTPException(500, str(exc)) from None

    return app


def build_app(config: ServiceConfig, faults: LiveFaults) -> FastAPI:
    """The model app alone, for the variant the switches pick."""
    if AsBuiltSwitches.from_env(config.env).negocio_variant == "r3-main-complete":
        return _negocio_r3.build_app(config, faults)
    return _served_main(config, faults)


def build(config: ServiceConfig, faults: LiveFaults, logger: logging.Logger) -> ASGIApp:
    return outer(build_app(config, faults), config, faults, logger)
