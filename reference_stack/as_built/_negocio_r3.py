"""The unserved R3 file ``IR/agente_negocio/main_complete.py@c2`` (docs/as-built.md §4), offered as a variant.

``POST /facturas/procesar`` takes the field ``image`` (images only: anything else is 400), reads the
whole body (over 50 MB: 413), preprocesses in a thread with no timeout, then runs the OCR as
``asyncio.wait_for(asyncio.to_thread(...), timeout=OCR_TIMEOUT_SECONDS)``: past it, the ERROR line
``OCR processing timed out after {N}s`` and 504. The thread is not stopped and keeps the worker
busy, as in the real code. This module's own handler answers errors as ``{"error","timestamp"}``.
Of the file's routes, ``/health``, ``/facturas/procesar`` and ``/ocr/test`` are modelled; ``/ocr/test``
wraps everything in ``except Exception``, so its 400, 413 and 504 all become 200 ``success: false``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reference_stack._config import ServiceConfig
from reference_stack._faults import LiveFaults
from reference_stack.as_built._agent import agent_app, health_label
from reference_stack.as_built._auth import container_secret, require_role
from reference_stack.as_built._envelope import register_error_handlers
from reference_stack.as_built._invoice_ocr import OcrProcessor, image_size
from reference_stack.as_built._label import log_banner

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DEFAULT_INFLATION_RATE = 0.045
"""``main_complete`` calls this default an "annual" rate (docs/as-built.md §5)."""

log = logging.getLogger("agente_negocio")


def timeout_s(config: ServiceConfig) -> float:
    """``int(os.getenv('OCR_TIMEOUT_SECONDS', '30'))``; the stack's configured timeout when unset."""
    text = config.env.get("OCR_TIMEOUT_SECONDS")
    return float(int(text)) if text else config.ocr_timeout_s


def _log_startup(seconds: float) -> None:
    log_banner("negocio", "unserved IR/agente_negocio/main_complete.py@c2 (R3 variant), which cannot even be "
               "imported in reality (docs/as-built.md §2.2, §4)")
    log.info("OCR timeout configured: %g seconds", seconds)


async def _error_body(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"error": exc.detail, "timestamp": datetime.now(UTC).isoformat()},
                        status_code=exc.status_code)


def build_app(config: ServiceConfig, faults: LiveFaults) -> FastAPI:
    seconds = timeout_s(config)
    auth = Depends(require_role("negocio", container_secret("negocio", config.env)))
    app = agent_app("Agente Negocio (main_complete)", lambda: _log_startup(seconds))
    register_error_handlers(app)
    app.add_exception_handler(StarletteHTTPException, _error_body)

    @app.get("/health", dependencies=[auth])
    async def health() -> dict[str, Any]:
        status = "unhealthy" if faults.current.health_failing else "healthy"
        return {"status": status, "service": "agente_negocio", "timestamp": datetime.now(UTC).isoformat(),
                "ocr_timeout_seconds": seconds, **health_label()}

    async def checked_image(image: UploadFile) -> bytes:
        """Images only (400) and at most 50 MB (413), read whole into memory first."""
        if not (image.content_type or "").startswith("image/"):
            raise HTTPException(400, "Invalid file type. Only images are supported (JPG, PNG, TIFF, BMP).")
        data = await image.read()
        if len(data) > MAX_UPLOAD_BYTES:
            raise HTTPException(413, "File too large. Maximum size is 50MB.")
        return data

    async def ocr_within_timeout(data: bytes, detail: str) -> dict[str, Any]:
        """Preprocessing with no timeout, then OCR under ``wait_for``; its thread is never stopped."""
        await asyncio.to_thread(image_size, data)
        processor = OcrProcessor(seconds_per_mb=config.ocr_seconds_per_mb,
                                 multiplier=faults.current.ocr_cost_multiplier, products=config.catalogue)
        try:
            return await asyncio.wait_for(asyncio.to_thread(processor.process_image, data), timeout=seconds)
        except TimeoutError:
            log.error("OCR processing timed out after %gs", seconds)
            raise HTTPException(504, detail) from None

    @app.post("/facturas/procesar", dependencies=[auth])
    async def procesar_factura(
        image: Annotated[UploadFile, File()],
        deposito_endpoint: Annotated[str | None, Form()] = None,
        update_stock: Annotated[bool, Form()] = False,
        inflation_rate: Annotated[float, Form()] = DEFAULT_INFLATION_RATE,
    ) -> dict[str, Any]:
        data = await checked_image(image)
        started = time.monotonic()
        try:
            ocr = await ocr_within_timeout(data, f"OCR processing exceeded timeout ({seconds:g}s). "
                                                 "Try with a clearer image or smaller file.")
            if not ocr["productos"]:
                raise HTTPException(422, "No se detectaron productos en la factura")
            total = round(sum(p["cantidad"] * p["precio_unitario"] * (1 + inflation_rate) for p in ocr["productos"]), 2)
            return {"success": True, "factura_id": str(uuid.uuid4()), "productos": ocr["productos"],
                    "productos_detectados": len(ocr["productos"]), "total": total, "stock_actualizado": False,
                    "processing_time_s": round(time.monotonic() - started, 3),
                    "message": "Factura procesada exitosamente"}
        except HTTPException:
            raise
        except Exception as exc:  # noqa: BLE001 - the real route answers 200 success:false to any other error
            log.error("Processing failed: %s", exc)
            return {"success": False, "productos": [], "message": f"Processing failed: {exc}"}

    @app.post("/ocr/test", dependencies=[auth])
    async def ocr_test(image: Annotated[UploadFile, File()],
                       preprocess_only: Annotated[bool, Form()] = False) -> dict[str, Any]:
        # L480-595: the outer ``except Exception`` also catches the 400, 413 and 504 HTTPExceptions,
        # so every failure, the timeout included, is a 200 with success false.
        try:
            data = await checked_image(image)
            if preprocess_only:
                width, height = await asyncio.to_thread(image_size, data)
                return {"success": True, "preprocess_only": True, "width": width, "height": height}
            ocr = await ocr_within_timeout(data, f"OCR processing exceeded timeout ({seconds:g}s)")
            return {"success": True, "texto": ocr["texto"], "productos": ocr["productos"]}
        except Exception as exc:  # noqa: BLE001 - the real defect: HTTPExceptions are swallowed too
            return {"success": False, "message": f"OCR testing failed: {exc}"}

    return app
