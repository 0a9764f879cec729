"""Entry point of one service process: ``python -m reference_stack.serve --service NAME --port N ...``.

The launcher starts one of these per service, each in its own process group, with the secrets in
its environment (never on the command line). A start-up error (e.g. a non-numeric
``INFLATION_RATE_MONTHLY``) is one line on stderr and in the service log, and exit code 2.
Like ``stagegate/``, this module is a process edge: the only place here that parses argv and exits.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path

import uvicorn
from PIL import Image

from reference_stack import _logs
from reference_stack._config import DEFAULT_OCR_TIMEOUT_S, ServiceConfig
from reference_stack._contracts import DEFAULT_CONTRACT, load_contract
from reference_stack._faults import LiveFaults, fault_set
from reference_stack._ocr import DEFAULT_SECONDS_PER_MB
from reference_stack._privileges import drop_to
from reference_stack._processes import rearm_die_with
from stagegate_core.errors import EXIT_USAGE, StagegateError

GRACEFUL_SHUTDOWN_S = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reference_stack.serve", description=__doc__)
    parser.add_argument("--service", required=True, help="deposito, negocio, ml or dashboard")
    parser.add_argument("--port", type=int, required=True, help="TCP port on 127.0.0.1")
    parser.add_argument("--contract", default=DEFAULT_CONTRACT, help="contract to serve (intended)")
    parser.add_argument("--state-dir", type=Path, required=True, help="stack state directory (logs, database)")
    parser.add_argument("--ocr-timeout", type=float, default=DEFAULT_OCR_TIMEOUT_S, help="OCR_TIMEOUT_SECONDS")
    parser.add_argument("--ocr-seconds-per-mb", type=float, default=DEFAULT_SECONDS_PER_MB,
                        help="modelled OCR cost per MB of document")
    parser.add_argument("--faults", default="{}", help="initial fault switches as JSON (a FaultSet)")
    parser.add_argument("--run-as", metavar="USER", help="when started as root, serve as USER once ready")
    return parser


def _listen(port: int) -> socket.socket:
    """The service's listening socket, bound before privileges are dropped.

    ``IPPROTO_TCP`` explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and without it
    every response (headers, then body) waits ~40 ms on Nagle and the client's delayed ACK.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(2048)
    return listener


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logger = _logs.configure(args.state_dir / "logs", args.service)
    try:
        contract = load_contract(args.contract)
        faults = LiveFaults(args.service, fault_set(args.service, json.loads(args.faults)))
        config = ServiceConfig(service=args.service, port=args.port, contract=args.contract,
                               state_dir=args.state_dir, ocr_timeout_s=args.ocr_timeout,
                               ocr_seconds_per_mb=args.ocr_seconds_per_mb)
        app = contract.build_app(config, faults, logger)
    except StagegateError as exc:
        logger.error("start-up failed: %s", exc)
        print(f"{args.service}: start-up failed: {exc}", file=sys.stderr)
        return EXIT_USAGE
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False,
                                           timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S))
    try:
        listener = _listen(args.port)
    except OSError as exc:
        print(f"{args.service}: cannot listen on 127.0.0.1:{args.port} ({exc.strerror})", file=sys.stderr)
        return EXIT_USAGE
    if args.run_as:
        Image.init()  # image plugins load lazily: load them while the interpreter's files are readable
        drop_to(args.run_as)
        rearm_die_with()  # the change of user cleared the parent-death signal a run's stack is started with
    logger.info("%s serving the %s contract on 127.0.0.1:%d (uid %d)", args.service, args.contract, args.port,
                os.getuid())
    server.run(sockets=[listener])
    return 0


if __name__ == "__main__":
    sys.exit(main())
