"""What one service process is told at start: its name, port, state paths, settings and secrets."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from generators.catalogue import Product
from reference_stack._catalogue import service_catalogue
from reference_stack._errors import ConfigInvalid
from reference_stack._ocr import DEFAULT_SECONDS_PER_MB

DEFAULT_OCR_TIMEOUT_S = 30.0
VERSION = "0.10.0"


def log_dir(state_dir: Path) -> Path:
    return state_dir / "logs"


def database_path(state_dir: Path) -> Path:
    """The SQLite file deposito owns; negocio and the dashboard open it read-only."""
    return state_dir / "data" / "inventario.sqlite3"


@dataclass(frozen=True)
class ServiceConfig:
    service: str
    port: int
    contract: str
    state_dir: Path
    ocr_timeout_s: float = DEFAULT_OCR_TIMEOUT_S
    ocr_seconds_per_mb: float = DEFAULT_SECONDS_PER_MB
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def log_dir(self) -> Path:
        return log_dir(self.state_dir)

    @property
    def database(self) -> Path:
        return database_path(self.state_dir)

    @cached_property
    def catalogue(self) -> tuple[Product, ...]:
        """The products of this service's stack (``STAGEGATE_CATALOGUE``; the fixture when unset)."""
        return service_catalogue(self.env)

    def secret(self, name: str) -> str:
        """A secret from the environment; its value never appears in an error."""
        value = self.env.get(name, "")
        if not value:
            raise ConfigInvalid(f"{self.service}: {name} is not set (stack up writes it to secrets.env)")
        return value

    def setting(self, name: str, default: str) -> str:
        return self.env.get(name, default)
