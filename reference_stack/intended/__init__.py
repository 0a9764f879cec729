"""The intended v0.10.0 contract (docs/contract.md): one module per service, each with ``build``.

``build(config, faults, logger)`` returns the service's whole ASGI app, middleware included;
``gateway_config(site)`` renders the nginx gateway of docs/contract.md §2. A second contract
(``as_built``) is a sibling package with the same names.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping

from reference_stack._config import ServiceConfig
from reference_stack._faults import LiveFaults
from reference_stack._http import ASGIApp
from reference_stack.intended._gateway import gateway_config

NAME = "intended"
SERVICES = ("deposito", "negocio", "ml", "dashboard")


def build_app(config: ServiceConfig, faults: LiveFaults, logger: logging.Logger) -> ASGIApp:
    module = importlib.import_module(f"{__name__}.{config.service}")
    app: ASGIApp = module.build(config, faults, logger)
    return app


def ready_path(service: str) -> str:
    """The path that answers 200 without credentials once ``service`` is up."""
    return "/health"


def switched_off(env: Mapping[str, str]) -> frozenset[str]:
    """Every service of the intended contract starts: it has no start-up switches."""
    return frozenset()


__all__ = ["NAME", "SERVICES", "build_app", "gateway_config", "ready_path", "switched_off"]
