"""The as-built contract: a model of the real v0.10.0 code built from docs/as-built.md, not the real system.

Each service module (``deposito``, ``negocio``, ``ml``, ``dashboard``) builds what the real code at
c2bc417 would serve, defects included: ``/health`` behind a JWT, no login route, ``iss`` ignored,
a cross-agent or malformed token answered 500, ``/facturas/procesar`` failing with a TypeError,
the inflation rate as ``"4.5%"`` on ``/predict/demanda``, the dashboard's 429 without security
headers and its metrics without a p95 gauge. ``AsBuiltSwitches`` (environment variables
``STAGEGATE_AS_BUILT_*``) pick the documented states docs/as-built.md leaves open: an agent that does
not start, the unserved R3 OCR file, deposito's TrustedHost 400. ``gateway_config`` renders the
model of the real ``nginx.conf`` (``_gateway.py``).

It is the second contract of ``reference_stack._contracts``: ``stagegate stack up --contract as-built``.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping

from reference_stack._config import ServiceConfig
from reference_stack._faults import LiveFaults
from reference_stack._http import ASGIApp
from reference_stack.as_built._agent import READY_PATH
from reference_stack.as_built._gateway import gateway_config
from reference_stack.as_built._label import MODEL_LABEL
from reference_stack.as_built._not_started import not_started_app
from reference_stack.as_built._switches import ENV_PREFIX, AsBuiltSwitches

NAME = "as-built"
SERVICES = ("deposito", "negocio", "ml", "dashboard")


def build_app(config: ServiceConfig, faults: LiveFaults, logger: logging.Logger) -> ASGIApp:
    """The whole ASGI app of ``config.service`` as the model serves it (switches read from its env)."""
    if config.service in AsBuiltSwitches.from_env(config.env).not_started:
        return not_started_app(config.service)
    module = importlib.import_module(f"{__name__}.{config.service}")
    app: ASGIApp = module.build(config, faults, logger)
    return app


def switched_off(env: Mapping[str, str]) -> frozenset[str]:
    """The agents ``STAGEGATE_AS_BUILT_NOT_STARTED`` keeps from starting; ``FaultInvalid`` names a bad switch."""
    return frozenset(AsBuiltSwitches.from_env(env).not_started)


def ready_path(service: str) -> str:
    """What answers 200 without credentials once ``service`` is up (the agents' ``/health`` wants a JWT)."""
    return "/health" if service == "dashboard" else READY_PATH


__all__ = [
    "ENV_PREFIX", "MODEL_LABEL", "NAME", "SERVICES", "AsBuiltSwitches", "build_app", "gateway_config", "ready_path",
    "switched_off",
]
