"""Container entry point: one reference-stack service, configured by environment, on all interfaces.

``reference_stack.serve`` binds 127.0.0.1, which inside a container is unreachable through a
published port; this wraps it so uvicorn binds ``BIND_HOST`` (0.0.0.0 by default) instead, and
otherwise runs it unchanged. The ledger database is created by deposito, its owner, on first
start (an existing one is kept, so a restarted container finds its data). The umask and the
ledger's mode keep files in the shared state volume writable by the group ``retail`` that all
four service users share, whatever their uids.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any

import uvicorn

from reference_stack import serve
from reference_stack._config import database_path
from reference_stack._ledger import create_database

SHARED_UMASK = 0o002
LEDGER_MODE = 0o664
FAULTS_ENV = "STAGEGATE_FAULTS_JSON"
"""Initial fault switches of this service as a ``FaultSet`` JSON (the admin endpoint is loopback-only)."""


def _bind_all(run: Any, app: Any, **options: Any) -> None:
    run(app, **{**options, "host": os.environ.get("BIND_HOST", "0.0.0.0")})


def main() -> int:
    os.umask(SHARED_UMASK)
    env = os.environ
    state_dir = Path(env.get("STATE_DIR", "/state"))
    database = database_path(state_dir)
    if env["SERVICE"] == "deposito" and not database.exists():
        create_database(database)
        database.chmod(LEDGER_MODE)  # SQLite gives its -wal and -shm files the database's mode
    uvicorn.run = functools.partial(_bind_all, uvicorn.run)  # serve looks uvicorn.run up when it starts
    return serve.main([
        "--service", env["SERVICE"], "--port", env.get("PORT", "8000"), "--contract", env.get("CONTRACT", "intended"),
        "--state-dir", str(state_dir), "--ocr-timeout", env.get("OCR_TIMEOUT_SECONDS", "30"),
        "--faults", env.get(FAULTS_ENV) or "{}",
    ])


if __name__ == "__main__":
    sys.exit(main())
