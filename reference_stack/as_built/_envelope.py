"""The agents' error envelope, as ``shared/errors.py@c2 L23-44`` registers it (docs/as-built.md §2.1).

Every HTTPException becomes ``{"status","code":"http_error","message","path"}`` and a WARNING
``HTTPException: <detail>``; a validation failure 422 ``validation_error``; any other exception
500 ``internal_error`` with the ERROR line ``Unhandled exception at <path>`` and its traceback.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("shared.errors")


def envelope(status: int, code: str, message: str, path: str) -> dict[str, Any]:
    return {"status": status, "code": code, "message": message, "path": path}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    log.warning("HTTPException: %s", exc.detail)
    body = envelope(exc.status_code, "http_error", str(exc.detail), request.url.path)
    return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    body = envelope(422, "validation_error", "Validation error", request.url.path)
    body["details"] = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    return JSONResponse(body, status_code=422)


def internal_error(path: str) -> JSONResponse:
    """The 500 ``internal_error`` envelope: what an unhandled exception (or an injected error) answers."""
    return JSONResponse(envelope(500, "internal_error", "Internal server error", path), status_code=500)


async def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    log.error("Unhandled exception at %s", request.url.path, exc_info=exc)
    return internal_error(request.url.path)


def register_error_handlers(app: FastAPI) -> None:
    """``register_fastapi_error_handlers`` of the real code: the three handlers above."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal_error)
