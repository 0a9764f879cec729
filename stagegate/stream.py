"""The results stream: the one contract between the producers (Locust side, smoke, chaos) and analysis.

A results directory holds one or more ``*.jsonl`` files, one JSON object per line, each written by
one producer (``locust.jsonl`` by the Locust master, ``smoke.jsonl`` by ``stagegate smoke``,
``chaos.jsonl`` by the chaos runner...). Every line is one record below: it has ``kind`` and the
schema version ``v``. Lines are flushed as they are written (every one-second window at least),
so a run that crashes leaves everything up to its last second; a cut last line is reported by
the reader, never silently dropped.

Times are Unix epoch seconds (float) unless the name says otherwise; latencies are milliseconds.
This module imports only the standard library, so that any side may depend on it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, Self, TypedDict, cast

SCHEMA_VERSION = 1

Kind = Literal[
    "run_header", "window", "health", "token", "ocr", "ledger", "ledger_snapshot",
    "chaos", "smoke", "finding", "metrics", "run_end",
]
KINDS: frozenset[str] = frozenset(Kind.__args__)  # type: ignore[attr-defined]

Traffic = Literal["normal", "heavy_invoice", "forged_token", "health", "probe"]
"""Traffic class of a request series: only ``normal`` counts toward error rate and p95 rules."""

Status = Literal["PASS", "WARN", "FAIL", "NO_DATA", "SKIP"]


class RunHeader(TypedDict):
    """First record of a producer's file: enough to judge the directory again later.

    The Locust producer writes one at every test start: a web UI "stop" then "start" writes another
    one (``settings["segment"]`` 1, 2, ...). Locust-side records (windows, health, token, OCR, ledger,
    ledger snapshots, chaos, metrics) after a ``locust`` header belong to that segment; the analysis
    judges the newest segment and sets earlier ones aside, never mixing them.
    """

    kind: Literal["run_header"]
    v: int
    t: float
    run_id: str
    producer: str  # "locust", "smoke", "chaos", "run"
    profile: str
    scenario: str | None
    targets: dict[str, str]  # service name -> base URL ("gateway" included when present)
    settings: dict[str, Any]  # options of the run (never secrets); "segment": see below
    versions: dict[str, str]  # stagegate, locust, python, git commit


class WindowRecord(TypedDict):
    """One request series over one window (1 s): counts by outcome and a latency sketch.

    ``outcomes`` keys: ``ok`` (success), ``error`` (a real failure: the deployment answered wrong),
    ``expected`` (a failure the harness provoked on purpose and that came out as it should: 504 on
    a heavy invoice, 401 on a forged token), ``transport`` (no answer at all: connection refused,
    reset after a retry on a fresh connection, or a timeout at the transport; not a judgement of
    the deployment's answers, so never in error rates or latencies). ``count`` is the sum of all
    four. ``sketch`` is a DDSketch of latencies in ms (see ``stagegate.histogram``) over the
    answered requests of the window (``ok``, ``error``, ``expected``); ``latency_sum_ms`` and
    ``latency_max_ms`` are exact over the same requests. An older stream without ``transport``
    reads as zero of them.
    """

    kind: Literal["window"]
    v: int
    t: float  # window start, whole seconds
    duration_s: float
    name: str  # stable request name, e.g. "deposito GET /productos/{id}"
    service: str
    traffic: Traffic
    count: int
    outcomes: dict[str, int]
    errors: dict[str, int]  # error class ("status 500", "ConnectionRefused"...) -> count
    bytes: int
    latency_sum_ms: float
    latency_max_ms: float
    sketch: str


class HealthTransition(TypedDict):
    """A health check changed state (first observation included)."""

    kind: Literal["health"]
    v: int
    t: float
    check: str  # "deposito", "negocio", "ml", "dashboard", "gateway"
    ok: bool
    status: int | None
    detail: str  # "200", "connection refused", "timeout after 2.0 s", "status 503: ..."
    latency_ms: float | None


class TokenOutcome(TypedDict):
    """One forged or control token presented to one agent."""

    kind: Literal["token"]
    v: int
    t: float
    case_id: str
    target: str
    status: int | None
    result: Literal["rejected", "wrong_rejection", "breach", "control_ok", "control_refused", "error", "transport"]
    """``transport``: the request never got an answer (refused, reset, timed out): no judgement of the agent."""
    severity: str
    detail: str


class OcrOutcome(TypedDict):
    """One invoice upload to the OCR route, classified."""

    kind: Literal["ocr"]
    v: int
    t: float
    invoice: str
    invoice_kind: Literal["normal", "heavy", "hostile"]
    size_bytes: int
    status: int | None
    latency_ms: float
    result: Literal["timeout_ok", "timeout_late", "processed", "body_limit", "rejected", "failure", "transport"]
    """``transport``: the upload never got an answer before the client gave up on the connection (refused,
    reset); a 504 or a client timeout past timeout + grace stays ``timeout_late``/``failure``."""
    detail: str


class LedgerEntry(TypedDict):
    """An acknowledged stock movement."""

    kind: Literal["ledger"]
    v: int
    t: float
    producto_id: int
    delta: int  # signed change requested
    movimiento_id: str | None
    stock_anterior: int | None
    stock_nuevo: int | None
    idempotency_key: str | None


class LedgerSnapshot(TypedDict):
    """Stock of the tracked products at the start or end of a run."""

    kind: Literal["ledger_snapshot"]
    v: int
    t: float
    phase: Literal["start", "end"]
    stock: dict[str, int]  # producto_id (as string) -> stock_actual


class ChaosEvent(TypedDict):
    """A chaos step's life: start, end (revert done), recovered (all health back) or failed."""

    kind: Literal["chaos"]
    v: int
    t: float
    step_id: str
    phase: Literal["start", "end", "recovered", "not_recovered", "error"]
    action: str
    target: str
    backend: str
    detail: str
    recovery_s: float | None


class SmokeResult(TypedDict):
    """One smoke check of the checklist (sections 6 to 14)."""

    kind: Literal["smoke"]
    v: int
    t: float
    check: str  # stable id, e.g. "r2_jwt_isolation"
    section: str  # checklist section, e.g. "§8 R2"
    status: Status
    summary: str
    evidence: list[dict[str, Any]]


class Finding(TypedDict):
    """A gap between the deployment and the checklist, with its reference."""

    kind: Literal["finding"]
    v: int
    t: float
    id: str
    section: str
    severity: Literal["critical", "major", "minor", "info"]
    title: str
    evidence: str
    reference: str


class MetricsSample(TypedDict):
    """A scrape of a Prometheus endpoint, reduced to the metrics the profile names."""

    kind: Literal["metrics"]
    v: int
    t: float
    service: str
    values: dict[str, float]
    error: str | None


class RunEnd(TypedDict):
    """Last record of a producer's file; its absence means the producer died."""

    kind: Literal["run_end"]
    v: int
    t: float
    reason: Literal["completed", "aborted", "interrupted", "failed"]
    detail: str


Record = (
    RunHeader | WindowRecord | HealthTransition | TokenOutcome | OcrOutcome | LedgerEntry
    | LedgerSnapshot | ChaosEvent | SmokeResult | Finding | MetricsSample | RunEnd
)


class StreamWriter:
    """Appends records to one JSON-lines file, flushing each line so a crash loses nothing."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = self.path.open("a", encoding="utf-8")

    def write(self, record: Record) -> None:
        self._file.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
        self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class StreamProblem:
    """A line the reader could not take: the analysis turns it into a note, never a crash."""

    path: Path
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path.name}:{self.line}: {self.problem}"


def read_file(path: Path) -> Iterator[Record | StreamProblem]:
    """Yield each record of one file, or a ``StreamProblem`` for a line that is cut or malformed."""
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            if not line.endswith("\n"):
                yield StreamProblem(path, number, "line is cut short (the producer stopped mid-write)")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield StreamProblem(path, number, f"not JSON ({exc.msg})")
                continue
            if not isinstance(obj, dict) or obj.get("kind") not in KINDS:
                yield StreamProblem(path, number, f"unknown record kind {obj.get('kind') if isinstance(obj, dict) else None!r}")
                continue
            if obj.get("v") != SCHEMA_VERSION:
                yield StreamProblem(path, number, f"schema version {obj.get('v')!r}, expected {SCHEMA_VERSION}")
                continue
            yield cast(Record, obj)


def stream_files(results_dir: Path) -> list[Path]:
    """The stream files of a results directory, in a stable order."""
    return sorted(results_dir.glob("*.jsonl"))


def read_dir(results_dir: Path) -> Iterator[Record | StreamProblem]:
    """Yield every record of every stream file in ``results_dir``."""
    for path in stream_files(results_dir):
        yield from read_file(path)


def record(kind: str, t: float, **fields: Any) -> dict[str, Any]:
    """Build a record dict with ``kind``, ``v`` and ``t`` set; callers cast to the TypedDict."""
    return {"kind": kind, "v": SCHEMA_VERSION, "t": t, **fields}
