"""``running_stack``: a whole stack for a test or a benchmark, stopped on the way out.

Usage::

    with running_stack(tmp_path / "stack", ocr_timeout_s=2) as stack:
        httpx.get(stack.services["deposito"] + "/health")
        stack.set_fault("deposito", error_rate=0.5)
        stack.clear_faults()
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from generators.catalogue import Product
from reference_stack import _state
from reference_stack._catalogue import catalogue_products
from reference_stack._errors import StackError
from reference_stack._faults import FaultSet, fault_set
from reference_stack._http import ADMIN_HEADER, ADMIN_TOKEN_ENV
from reference_stack._launcher import (
    DEFAULT_PORTS,
    GATEWAY,
    StackOptions,
    start_stack,
    stop_stack,
    switched_off,
)


class StackHandle:
    """A started stack: its URLs, secrets, paths, and its fault switches over the admin endpoint."""

    def __init__(self, state_dir: Path, info: _state.StackInfo, children: Mapping[str, subprocess.Popen[bytes]], *,
                 switched_off: Iterable[str] = ()) -> None:
        self.state_dir = state_dir
        self.info = info
        self.children = dict(children)
        self.services: dict[str, str] = dict(info.services)
        self.secrets: dict[str, str] = _state.read_secrets(Path(info.env_file))
        self.log_dir = Path(info.log_dir)
        self.contract = info.contract
        self.catalogue: tuple[Product, ...] = catalogue_products(info.catalogue)
        """The products every service of this stack holds (``running_stack(catalogue=...)``)."""
        self.changed: set[str] = set()
        """Services whose switches ``set_fault`` changed since their last ``clear_faults``."""
        self.switched_off = frozenset(switched_off)
        """Services a start-up switch keeps from starting (as-built ``NOT_STARTED``): no fault switches."""

    def __repr__(self) -> str:  # never show secrets
        return f"StackHandle({self.state_dir}, services={sorted(self.services)})"

    def _admin(self, method: str, service: str, body: dict[str, Any] | None = None) -> FaultSet:
        if service == GATEWAY or service not in self.services:
            raise StackError(f"fault: no fault switches on {service!r} (services: {', '.join(self._switchable())})")
        if service in self.switched_off:
            raise StackError(f"fault: {service} does not start (a start-up switch keeps it off), "
                             "so it has no fault switches")
        headers = {ADMIN_HEADER: self.secrets[ADMIN_TOKEN_ENV]}
        response = httpx.request(method, f"{self.services[service]}/__admin/faults", json=body, headers=headers,
                                 timeout=10.0, trust_env=False)
        if response.status_code != 200:
            raise StackError(f"fault: {service} refused the switches ({response.status_code}: {response.json().get('detail')})")
        return FaultSet.model_validate(response.json()["faults"])

    def _switchable(self) -> list[str]:
        return [name for name in self.services if name != GATEWAY and name not in self.switched_off]

    def faults(self, service: str) -> FaultSet:
        return self._admin("GET", service)

    def set_fault(self, service: str, **switches: Any) -> FaultSet:
        """Turn switches on (merged into the service's current set); returns the new set."""
        merged = {**self.faults(service).model_dump(exclude_defaults=True), **switches}
        self.changed.add(service)
        return self._admin("PUT", service, fault_set(service, merged).model_dump(mode="json", exclude_defaults=True))

    def clear_faults(self, service: str | None = None) -> None:
        """Back to the clean stack, for one service or all (all: those that started)."""
        for name in [service] if service else self._switchable():
            self._admin("DELETE", name)
            self.changed.discard(name)

    def alive(self, service: str) -> bool:
        return self.children[service].poll() is None

    def log(self, service: str) -> str:
        return (self.log_dir / f"{service}.log").read_text(encoding="utf-8", errors="replace")


@contextmanager
def running_stack(
    state_dir: Path | None = None, *, ports: Mapping[str, int] | None = None, gateway_port: int = 0, **options: Any
) -> Iterator[StackHandle]:
    """Start a stack (on free ports unless ``ports`` is given) and stop it, whatever happens.

    Keyword options are ``StackOptions`` fields: ``contract``, ``services``, ``gateway``,
    ``ocr_timeout_s``, ``ocr_seconds_per_mb``, ``faults``, ``env``, ``catalogue``, ``ready_timeout_s``.
    """
    directory = (state_dir or _state.default_state_dir()).absolute()
    free = {name: 0 for name in DEFAULT_PORTS}
    chosen = StackOptions(ports=free if ports is None else dict(ports), gateway_port=gateway_port, **options)
    info, children = start_stack(directory, chosen)
    try:
        yield StackHandle(directory, info, children, switched_off=switched_off(chosen))
    finally:
        stop_stack(directory, children)
