"""Test plumbing for the as-built model: serve one model app on a free loopback port, mint tokens.

Like httpx's own test server, uvicorn runs in a thread of the test process: real HTTP, no mocks,
and start-up in milliseconds. The launcher test starts real processes instead.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jwt
import uvicorn

from reference_stack._config import ServiceConfig
from reference_stack._http import ASGIApp
from tests.conftest import free_port

SECRETS = {
    "JWT_SECRET_DEPOSITO": "secret-deposito-0123456789abcdef-0123",
    "JWT_SECRET_NEGOCIO": "secret-negocio-0123456789abcdef-01234",
    "JWT_SECRET_ML": "secret-ml-0123456789abcdef0123-0123456",
    "JWT_SECRET_KEY": "secret-shared-0123456789abcdef0-012345",
    "STAGEGATE_ADMIN_TOKEN": "admin-token-for-tests",
}
SECRET_OF = {"deposito": "JWT_SECRET_DEPOSITO", "negocio": "JWT_SECRET_NEGOCIO", "ml": "JWT_SECRET_ML"}


def config(service: str, state_dir: Path, *, ocr_seconds_per_mb: float = 3.0, **env: str) -> ServiceConfig:
    return ServiceConfig(service=service, port=0, contract="as-built", state_dir=state_dir,
                         ocr_seconds_per_mb=ocr_seconds_per_mb, env={**SECRETS, **env})


class LogLines(logging.Handler):
    """Collects every log message of the process while installed (the servers run in threads)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name} {record.getMessage()}")

    def matching(self, text: str) -> list[str]:
        return [line for line in self.lines if text in line]


@contextmanager
def captured_logs() -> Iterator[LogLines]:
    handler = LogLines()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def token(agent: str, role: str, *, ttl_s: int = 28800, **claims: Any) -> str:
    """HS256 signed with ``agent``'s secret, as the harness mints them for the as-built contract.

    Valid 8 h, as the contract's tokens: test modules build their headers at import (collection),
    and a whole suite takes longer than a short lifetime before it reaches them."""
    payload = {"sub": "stagegate", "role": role, "exp": int(time.time()) + ttl_s, **claims}
    return jwt.encode(payload, SECRETS[SECRET_OF[agent]], algorithm="HS256")


def bearer(agent: str, role: str, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(agent, role, **claims)}"}


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` (lifespan included) on a free loopback port; yield its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
