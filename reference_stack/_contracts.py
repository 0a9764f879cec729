"""Which contracts the reference stack can play, and where each one's services are built.

The extension point for a second contract (issue 10): add a package ``reference_stack/as_built/``
exposing ``NAME``, ``SERVICES``, ``build_app(config, faults, logger)``, ``ready_path(service)``,
``gateway_config(site)`` (its nginx config, from a template extending ``gateway.conf.j2``) and
``switched_off(env)`` (the services its start-up switches keep from starting, checked once by the
launcher before any process starts), and one line to ``CONTRACTS``. JWT, ledger, OCR model,
faults, logs and launcher are shared.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from typing import Protocol, cast

from reference_stack._config import ServiceConfig
from reference_stack._errors import ContractUnknown
from reference_stack._faults import LiveFaults
from reference_stack._gateway import GatewayConfig, GatewaySite
from reference_stack._http import ASGIApp

CONTRACTS = {"intended": "reference_stack.intended", "as-built": "reference_stack.as_built"}
DEFAULT_CONTRACT = "intended"


class Contract(Protocol):
    NAME: str
    SERVICES: tuple[str, ...]

    def build_app(self, config: ServiceConfig, faults: LiveFaults, logger: logging.Logger) -> ASGIApp: ...

    def ready_path(self, service: str) -> str: ...

    def gateway_config(self, site: GatewaySite) -> GatewayConfig: ...

    def switched_off(self, env: Mapping[str, str]) -> frozenset[str]: ...


def load_contract(name: str) -> Contract:
    if name not in CONTRACTS:
        raise ContractUnknown(f"contract {name!r} is not implemented by the reference stack (known: {', '.join(CONTRACTS)})")
    return cast(Contract, importlib.import_module(CONTRACTS[name]))
