"""An agent that does not start, as in reality (docs/as-built.md §1, §2.1-§2.3, §8): its port refuses connections.

The real containers run ``uvicorn main:app`` (``main_ml_service:app`` for ml) in a directory with
no such module, so uvicorn logs the import error and exits, and nothing listens on the port. The
model logs the same line. It answers the launcher's readiness probe once (the launcher waits for
every process it starts), then stops its own server with SIGINT: the process exits and, from then
on, the port refuses connections. ``stagegate stack status`` shows it "not running", as it is.
"""

from __future__ import annotations

import logging
import os
import signal

from fastapi import FastAPI
from starlette.background import BackgroundTask
from starlette.responses import JSONResponse

from reference_stack.as_built._agent import READY_PATH, startup_lifespan
from reference_stack.as_built._label import MODEL_LABEL, log_banner

MODULE = {"deposito": "main", "negocio": "main", "ml": "main_ml_service"}
"""The module each real Dockerfile's CMD names (docs/as-built.md §2.1-§2.3); none exists in the image."""


def _stop_server() -> None:
    os.kill(os.getpid(), signal.SIGINT)


def not_started_app(service: str) -> FastAPI:
    """Logs the real start-up failure; answers ``READY_PATH`` once, then the process stops listening."""

    def on_startup() -> None:
        log_banner(service, f"an agent that does not start (switch {service} in STAGEGATE_AS_BUILT_NOT_STARTED)")
        logging.getLogger("uvicorn.error").error(
            'Error loading ASGI app. Could not import module "%s".', MODULE[service])

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, lifespan=startup_lifespan(on_startup))

    @app.get(READY_PATH)
    async def ready() -> JSONResponse:
        body = {"ready": False, "service": service, "not_started": True, "model": MODEL_LABEL}
        return JSONResponse(body, background=BackgroundTask(_stop_server))

    return app
