"""Container entry point: one reference-stack service, configured by environment, on all interfaces.

``reference_stack.serve`` listens on 127.0.0.1, which inside a container is unreachable through a
published port. Until it takes a ``--host`` option, this hands it a view of the ``socket`` module
whose ``create_server`` listens on ``BIND_HOST`` (0.0.0.0 by default) instead; the rest of ``serve``
runs unchanged. The ledger database is created by deposito, its owner, on first start (an existing
one is kept, so a restarted container finds its data). The umask and the ledger's mode keep files
in the shared state volume writable by the group ``retail`` that all four service users share,
whatever their uids.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

from reference_stack import serve
from reference_stack._config import database_path
from reference_stack._ledger import create_database

SHARED_UMASK = 0o002
LEDGER_MODE = 0o664
FAULTS_ENV = "STAGEGATE_FAULTS_JSON"
"""Initial fault switches of this service as a ``FaultSet`` JSON (the admin endpoint is loopback-only)."""


class _AllInterfaces:
    """``serve``'s ``socket`` module, listening on ``BIND_HOST`` where it asks for a loopback address."""

    def __getattr__(self, name: str) -> Any:
        return getattr(socket, name)

    @staticmethod
    def create_server(address: tuple[str, int], **options: Any) -> socket.socket:
        return socket.create_server((os.environ.get("BIND_HOST", "0.0.0.0"), address[1]), **options)


def main() -> int:
    os.umask(SHARED_UMASK)
    env = os.environ
    state_dir = Path(env.get("STATE_DIR", "/state"))
    database = database_path(state_dir)
    if env["SERVICE"] == "deposito" and not database.exists():
        create_database(database)
        database.chmod(LEDGER_MODE)  # SQLite gives its -wal and -shm files the database's mode
    serve.socket = _AllInterfaces()  # type: ignore[attr-defined,assignment]
    return serve.main([
        "--service", env["SERVICE"], "--port", env.get("PORT", "8000"), "--contract", env.get("CONTRACT", "intended"),
        "--state-dir", str(state_dir), "--ocr-timeout", env.get("OCR_TIMEOUT_SECONDS", "30"),
        "--faults", env.get(FAULTS_ENV) or "{}",
    ])


if __name__ == "__main__":
    sys.exit(main())
