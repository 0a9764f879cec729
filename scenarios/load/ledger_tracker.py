"""The ledger check's evidence: stock of the tracked products at start and end, and every
acknowledged movement in between (``LedgerEntry``, written by the deposito users).

The analysis compares ``end - start`` with the sum of acknowledged deltas per product: a
difference is data corruption (checklist rollback trigger). The tracked products are the first
ones discovery found on the deployment (none when it found none: the analysis then has no data).
The snapshots are taken by the process that writes the stream (standalone or master), once per
segment of the run (a web UI stop and start begins a new one): ``start`` at each ``test_start``
right after the segment's header, before any user runs; ``end`` at ``test_stop`` once every user has
stopped, or else at ``quitting`` after the workers' last reports (a master quitting stops before its
workers have), just before the recorder's final flush.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Literal

import httpx
from locust.env import Environment

from scenarios.load.recorder import Recorder
from scenarios.target.credentials import Credentials
from scenarios.target.profiles import Profile
from scenarios.target.setup_calls import Unavailable
from stagegate_core.stream import LedgerEntry, ledger_record, ledger_snapshot_record

SNAPSHOT_TIMEOUT_S = 5.0

log = logging.getLogger(__name__)


def ledger_entry(t: float, producto_id: int, delta: int, key: str | None, answer: dict[str, Any]) -> LedgerEntry:
    """The record of one acknowledged movement, with what the server said it did."""
    return ledger_record(
        t, producto_id=producto_id, delta=delta,
        movimiento_id=_text(answer.get("movimiento_id")), stock_anterior=_int(answer.get("stock_anterior")),
        stock_nuevo=_int(answer.get("stock_nuevo")), idempotency_key=key,
    )


def read_stock(profile: Profile, credentials: Credentials, products: list[int]) -> dict[str, int]:
    """``stock_actual`` of each product (a product that cannot be read is left out)."""
    spec = profile.calls["product_get"]
    if not products:
        return {}
    try:
        headers = credentials.headers(spec.service, spec.auth)
    except Unavailable as exc:
        log.warning("ledger snapshot: no stock read (%s)", exc)
        return {}
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
    """Listeners that write one start and one end ``LedgerSnapshot`` per segment of the run."""

    def __init__(self, recorder: Recorder, profile: Profile, credentials: Credentials, products: list[int]) -> None:
        self.recorder = recorder
        self.profile = profile
        self.credentials = credentials
        self.products = products
        self._open = False
        """A segment has its start snapshot and not yet its end one."""

    def install(self, environment: Environment) -> None:
        """Register after the recorder's header listener, so each start snapshot follows its header."""
        self.environment = environment
        events: Any = environment.events  # Locust's hooks are untyped
        events.test_start.add_listener(self.on_test_start)
        events.test_stop.add_listener(self.on_test_stop)
        events.quitting.add_listener(self.on_quitting)

    def snapshot(self, phase: Literal["start", "end"]) -> None:
        stock = read_stock(self.profile, self.credentials, self.products)
        self.recorder.emit(ledger_snapshot_record(time.time(), phase=phase, stock=stock))

    def on_test_start(self, **_: Any) -> None:
        self._open = True
        self.snapshot("start")

    def on_test_stop(self, **_: Any) -> None:
        runner = self.environment.runner
        if self._open and (runner is None or runner.user_count == 0):
            self._open = False
            self.snapshot("end")

    def on_quitting(self, **_: Any) -> None:
        if self._open:
            self._open = False
            self.snapshot("end")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
