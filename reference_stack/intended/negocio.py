"""negocio (docs/contract.md §5): current prices and invoice OCR bounded by ``OCR_TIMEOUT_SECONDS`` (R3).

OCR runs in its own thread pool under ``asyncio.wait_for``: on timeout the request gets a 504 at
once, the job is told to stop, and the event loop goes on serving every other route.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import Depends, HTTPException, Query, Request
from starlette.datastructures import UploadFile

from reference_stack import _inflation
from reference_stack._config import ServiceConfig
from reference_stack._document import DocumentRejected
from reference_stack._faults import LiveFaults
from reference_stack._http import ASGIApp, wrap
from reference_stack._ledger import Ledger, ProductNotFound
from reference_stack._ocr import APP_BODY_LIMIT_BYTES, check_document, code_index, run_ocr
from reference_stack.intended._agent import agent_app, token_check

OCR_WORKERS = 16
UPLOAD_FIELD = "file"


def _too_large() -> HTTPException:
    return HTTPException(413, f"File exceeds the {APP_BODY_LIMIT_BYTES // (1024 * 1024)} MB upload limit")


def build(config: ServiceConfig, faults: LiveFaults, logger: logging.Logger) -> ASGIApp:
    catalogue = Ledger(config.database, read_only=True)
    rate = _inflation.parse_rate(config.env.get(_inflation.RATE_ENV))
    timeout_s = config.ocr_timeout_s
    known = code_index(config.catalogue)
    logger.info("OCR timeout configured: %g seconds", timeout_s)
    pool = ThreadPoolExecutor(max_workers=OCR_WORKERS, thread_name_prefix="ocr")
    app = agent_app(config, faults, catalogue.ping)
    auth = Depends(token_check(config, faults, logger))

    def rate_in_use() -> float:
        return 0.0 if faults.current.inflation_ignored else rate

    def priced(product: dict[str, Any], days: int) -> dict[str, Any]:
        factor = _inflation.adjustment(rate_in_use(), days)
        return {**product, "precio_actualizado": round(product["precio_venta"] * (1 + factor), 2)}

    @app.get("/api/productos", dependencies=[auth])
    async def products() -> list[dict[str, Any]]:
        rows, _ = catalogue.products(limit=1000)
        return [priced(row, 0) for row in rows]

    @app.get("/precios/consultar", dependencies=[auth])
    async def price(codigo: str, dias_desde_compra: int = Query(0, ge=0, le=3650)) -> dict[str, Any]:
        try:
            product = catalogue.product_by_code(codigo)
        except ProductNotFound:
            raise HTTPException(404, f"producto {codigo} no encontrado") from None
        return {"codigo": codigo, "precio_actualizado": priced(product, dias_desde_compra)["precio_actualizado"],
                "inflacion_aplicada": _inflation.adjustment(rate_in_use(), dias_desde_compra)}

    @app.post("/procesar_factura_completa", dependencies=[auth])
    async def process_invoice(request: Request) -> dict[str, Any]:
        if int(request.headers.get("content-length") or 0) > APP_BODY_LIMIT_BYTES + 64 * 1024:
            raise _too_large()
        form = await request.form(max_files=1)
        upload = form.get(UPLOAD_FIELD)
        if not isinstance(upload, UploadFile):
            raise HTTPException(400, f"multipart field {UPLOAD_FIELD!r} with a PDF or image is required")
        data = await upload.read()
        if len(data) > APP_BODY_LIMIT_BYTES:
            raise _too_large()
        try:
            media = check_document(upload.content_type, data[:16])
        except DocumentRejected as exc:
            raise HTTPException(exc.status, exc.detail) from None
        cancel = threading.Event()
        job = asyncio.get_running_loop().run_in_executor(
            pool, lambda: run_ocr(data, media, seconds_per_mb=config.ocr_seconds_per_mb,
                                  multiplier=faults.current.ocr_cost_multiplier, cancel=cancel,
                                  known=known, refuse_hostile=True))
        try:
            result = await (job if faults.current.ocr_timeout_disabled else asyncio.wait_for(job, timeout_s))
        except TimeoutError:
            cancel.set()
            logger.error("OCR processing exceeded timeout (%gs) on a %d-byte document", timeout_s, len(data))
            raise HTTPException(504, f"OCR processing exceeded timeout ({timeout_s:g}s)") from None
        except DocumentRejected as exc:
            raise HTTPException(exc.status, exc.detail) from None
        return {"factura_id": f"FAC-{uuid.uuid4().hex[:12]}", "items": result.items, "total": result.total,
                "size_bytes": result.size_bytes, "proveedor_cuit": form.get("proveedor_cuit")}

    return wrap(app, faults, logger)
