"""Container entry point: one reference-stack service, configured by environment, on all interfaces.

``reference_stack.serve`` listens on 127.0.0.1, which inside a container is unreachable through a
published port. Until it takes a ``--host`` option, this turns its bind to 127.0.0.1:``PORT`` into
a bind to ``BIND_HOST`` (0.0.0.0 by default); the rest of ``serve`` runs unchanged. The ledger database is created by deposito, its owner, on first start (an existing
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
from reference_stack._catalogue import service_catalogue
from reference_stack._config import database_path
from reference_stack._ledger import create_database

SHARED_UMASK = 0o002
LEDGER_MODE = 0o664
FAULTS_ENV = "STAGEGATE_FAULTS_JSON"
"""Initial fault switches of this service as a ``FaultSet`` JSON (the admin endpoint is loopback-only)."""


def _listen_on_all_interfaces(port: int) -> None:
    """Make a bind to 127.0.0.1:``port`` (the service's own port) bind ``BIND_HOST`` instead.

    Done at the socket layer, so it holds however ``serve`` opens its listener.
    """
    host = os.environ.get("BIND_HOST", "0.0.0.0")
    loopback_bind = socket.socket.bind

    def bind(self: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and address[:2] == ("127.0.0.1", port):
            address = (host, port)
        loopback_bind(self, address)

    socket.socket.bind = bind  # type: ignore[method-assign,assignment]


def main() -> int:
    os.umask(SHARED_UMASK)
    env = os.environ
    state_dir = Path(env.get("STATE_DIR", "/state"))
    database = database_path(state_dir)
    if env["SERVICE"] == "deposito" and not database.exists():
        create_database(database, service_catalogue(env))
        database.chmod(LEDGER_MODE)  # SQLite gives its -wal and -shm files the database's mode
    _listen_on_all_interfaces(int(env.get("PORT", "8000")))
    return serve.main([
        "--service", env["SERVICE"], "--port", env.get("PORT", "8000"), "--contract", env.get("CONTRACT", "intended"),
        "--state-dir", str(state_dir), "--ocr-timeout", env.get("OCR_TIMEOUT_SECONDS", "30"),
        "--faults", env.get(FAULTS_ENV) or "{}",
    ])


if __name__ == "__main__":
    sys.exit(main())
