"""The ledger check's evidence: stock of the tracked products at start and end, and every
acknowledged movement in between (``LedgerEntry``, written by the deposito users).

The analysis compares ``end - start`` with the sum of acknowledged deltas per product: a
difference is data corruption (checklist rollback trigger). The snapshots are taken by the process
that writes the stream (standalone or master): at ``test_start`` before any user runs, and at
``quitting`` after the workers' last reports, just before the recorder's final flush.
"""

from __future__ import annotations

import logging
import time
from typing import Any, cast

import httpx
from locust.env import Environment

from scenarios._auth import Credentials
from scenarios._recorder import Recorder
from scenarios.profiles import Profile
from stagegate.stream import LedgerEntry, LedgerSnapshot, record

SNAPSHOT_TIMEOUT_S = 5.0

log = logging.getLogger(__name__)


def ledger_entry(t: float, producto_id: int, delta: int, key: str | None, answer: dict[str, Any]) -> LedgerEntry:
    """The record of one acknowledged movement, with what the server said it did."""
    return cast(LedgerEntry, record(
        "ledger", t, producto_id=producto_id, delta=delta,
        movimiento_id=_text(answer.get("movimiento_id")), stock_anterior=_int(answer.get("stock_anterior")),
        stock_nuevo=_int(answer.get("stock_nuevo")), idempotency_key=key,
    ))


def read_stock(profile: Profile, credentials: Credentials, products: list[int]) -> dict[str, int]:
    """``stock_actual`` of each product (a product that cannot be read is left out)."""
    spec = profile.calls["product_get"]
    headers = credentials.headers(spec.service, spec.auth)
    stock: dict[str, int] = {}
    with httpx.Client(timeout=SNAPSHOT_TIMEOUT_S, headers=headers, trust_env=False) as client:
        for product in products:
            try:
                answer = client.get(profile.url(spec.service, spec.path.replace("{id}", str(product))))
                value = answer.json().get("stock_actual") if answer.status_code == 200 else None
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("ledger snapshot: product %s unreadable (%s)", product, type(exc).__name__)
                continue
            if isinstance(value, int):
                stock[str(product)] = value
    return stock


class LedgerTracker:
    """Listener pair that writes the start and end ``LedgerSnapshot``."""

    def __init__(self, recorder: Recorder, profile: Profile, credentials: Credentials, products: list[int]) -> None:
        self.recorder = recorder
        self.profile = profile
        self.credentials = credentials
        self.products = products
        self._started = False

    def install(self, environment: Environment) -> None:
        events: Any = environment.events  # Locust's hooks are untyped
        events.test_start.add_listener(self.on_test_start)
        events.quitting.add_listener(self.on_quitting)

    def snapshot(self, phase: str) -> None:
        stock = read_stock(self.profile, self.credentials, self.products)
        self.recorder.emit(cast(LedgerSnapshot, record("ledger_snapshot", time.time(), phase=phase, stock=stock)))

    def on_test_start(self, **_: Any) -> None:
        self._started = True
        self.snapshot("start")

    def on_quitting(self, **_: Any) -> None:
        if self._started:
            self.snapshot("end")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
