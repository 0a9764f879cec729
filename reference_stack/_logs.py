"""One log file per service, ``<log_dir>/<service>.log``, in a line format the harness can grep."""

from __future__ import annotations

import logging
import time
from pathlib import Path

LINE_FORMAT = "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s %(message)s"


def configure(log_dir: Path, service: str) -> logging.Logger:
    """Send every logger (uvicorn's included) to the service's file; return the service's logger."""
    log_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_dir / f"{service}.log", encoding="utf-8")
    formatter = logging.Formatter(LINE_FORMAT, datefmt="%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    return logging.getLogger(service)
