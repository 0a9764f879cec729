"""Synthetic results directories built from the recorder's own record types.

``RunBuilder`` writes records with ``stagegate_core.stream.StreamWriter`` exactly as producers do;
``clean_run`` is a complete, healthy run that the default rules PROMOTE, so each test changes one
thing and watches one rule move.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from stagegate_core.histogram import encode, new_sketch
from stagegate_core.stream import StreamWriter, record

T0 = 1_800_000_000.0
CHECKS = ("deposito", "negocio", "ml", "dashboard", "gateway")
NORMAL = "deposito GET /productos/{id}"
CLEAN_MOVEMENTS = 60
"""Acknowledged movements of ``clean_run``: enough (>= 59) to catch a 1-in-20 corruption at 95 %."""


def sketch_of(latencies_ms: Iterable[float]) -> str:
    sketch = new_sketch()
    for value in latencies_ms:
        sketch.add(value)
    return encode(sketch)


class RunBuilder:
    """Appends records to ``<dir>/<producer>.jsonl``; times are seconds after ``T0``."""

    def __init__(self, results: Path) -> None:
        self.dir = results
        self.dir.mkdir(parents=True, exist_ok=True)
        self._writers: dict[str, StreamWriter] = {}
        self._sketches: dict[tuple[float, ...], str] = {}

    def write(self, kind: str, at: float, file: str = "locust", **fields: Any) -> None:
        if file not in self._writers:
            self._writers[file] = StreamWriter(self.dir / f"{file}.jsonl")
        self._writers[file].write(record(kind, T0 + at, **fields))  # type: ignore[arg-type]

    def header(self, producer: str = "locust", at: float = 0.0, **settings: Any) -> None:
        self.write("run_header", at, producer, run_id="test-run", producer=producer, profile="checklist-v0.10.0",
                   scenario="steady", targets={"deposito": "http://127.0.0.1:8001"}, settings=settings,
                   versions={"stagegate": "0.1.0", "git_commit": "abc1234"})

    def end(self, producer: str = "locust", at: float = 0.0, reason: str = "completed") -> None:
        self.write("run_end", at, producer, reason=reason, detail="")

    def window(self, at: float, *, name: str = NORMAL, traffic: str = "normal", ok: int = 10, error: int = 0,
               expected: int = 0, transport: int = 0, latency_ms: float | Iterable[float] = 20.0) -> None:
        """One window; ``latency_ms`` covers the answered requests (``transport`` ones have none)."""
        answered = ok + error + expected
        count = answered + transport
        values = tuple([float(latency_ms)] * answered if isinstance(latency_ms, int | float) else latency_ms)
        if values not in self._sketches:
            self._sketches[values] = sketch_of(values)
        outcomes = {"ok": ok, "error": error, "expected": expected, **({"transport": transport} if transport else {})}
        self.write("window", at, duration_s=1.0, name=name, service=name.split()[0], traffic=traffic, count=count,
                   outcomes=outcomes,
                   errors={"status 500": error} if error else {}, bytes=100 * count,
                   latency_sum_ms=sum(values), latency_max_ms=max(values, default=0.0), sketch=self._sketches[values])

    def windows(self, start: float, stop: float, **kw: Any) -> None:
        for second in range(int(start), int(stop)):
            self.window(second, **kw)

    def health(self, at: float, check: str, ok: bool) -> None:
        self.write("health", at, check=check, ok=ok, status=200 if ok else None,
                   detail="200" if ok else "connection refused", latency_ms=2.0 if ok else None)

    def token(self, at: float, result: str, *, case_id: str = "alg_none", target: str = "negocio",
              status: int | None = 401) -> None:
        self.write("token", at, case_id=case_id, target=target, status=status, result=result,
                   severity="critical", detail=f"status {status}")

    def ocr(self, at: float, kind: str, result: str, status: int | None) -> None:
        self.write("ocr", at, invoice=f"{kind}.pdf", invoice_kind=kind, size_bytes=1000, status=status,
                   latency_ms=31_000.0 if status == 504 else 800.0, result=result, detail="")

    def ledger(self, at: float, producto_id: int, delta: int, *, movimiento_id: str, before: int) -> None:
        self.write("ledger", at, producto_id=producto_id, delta=delta, movimiento_id=movimiento_id,
                   stock_anterior=before, stock_nuevo=before + delta, idempotency_key=f"key-{movimiento_id}")

    def snapshot(self, at: float, phase: str, stock: dict[str, int]) -> None:
        self.write("ledger_snapshot", at, phase=phase, stock=stock)

    def smoke(self, at: float, check: str, status: str = "PASS", evidence: list[dict[str, Any]] | None = None) -> None:
        self.write("smoke", at, "smoke", check=check, section="§", status=status, summary=f"{check} {status}",
                   evidence=evidence or [])

    def metrics(self, at: float, **values: float) -> None:
        self.write("metrics", at, service="dashboard", values=values, error=None)

    def chaos(self, at: float, phase: str, target: str, *, step_id: str = "step-1", action: str = "app_fault") -> None:
        self.write("chaos", at, step_id=step_id, phase=phase, action=action, target=target, backend="app",
                   detail="", recovery_s=None)

    def close(self) -> Path:
        for writer in self._writers.values():
            writer.close()
        return self.dir


def clean_run(results: Path, *, seconds: int = 70, end: bool = True) -> RunBuilder:
    """A healthy run every default rule passes; call ``.close()`` after adding to it."""
    run = RunBuilder(results)
    run.header()
    run.header("smoke")
    for check in CHECKS:
        run.health(0, check, True)
    run.windows(0, seconds)
    run.token(1, "rejected")
    run.token(1, "control_ok", status=200)
    run.ocr(2, "heavy", "timeout_ok", 504)
    run.ocr(2, "normal", "processed", 200)
    run.snapshot(0, "start", {"1": 100, "2": 50})
    run.ledger(3, 1, -5, movimiento_id="m1", before=100)
    run.ledger(4, 2, 10, movimiento_id="m2", before=50)
    for n in range(3, CLEAN_MOVEMENTS + 1):  # +1, -1, +1...: product 2 ends where m2 left it
        run.ledger(5, 2, 1 if n % 2 else -1, movimiento_id=f"m{n}", before=60 if n % 2 else 61)
    run.snapshot(seconds - 1, "end", {"1": 95, "2": 60})
    for check in ("r1_non_root", "r4_inflation", "security_headers", "logs", "r6_trivy"):
        run.smoke(0, check)
    run.metrics(0, dashboard_errors_total=3, dashboard_request_duration_ms_p95=120)
    run.metrics(seconds - 1, dashboard_errors_total=3, dashboard_request_duration_ms_p95=130)
    if end:
        run.end(at=seconds)
        run.end("smoke", at=1)
    return run


@pytest.fixture
def results(tmp_path: Path) -> Path:
    return tmp_path / "results"
