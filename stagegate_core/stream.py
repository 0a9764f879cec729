"""The results stream: the one contract between the producers (Locust side, smoke, chaos) and analysis.

A results directory holds one or more ``*.jsonl`` files, one JSON object per line, each written by
one producer (``locust.jsonl`` by the Locust master, ``smoke.jsonl`` by ``stagegate smoke``,
``chaos.jsonl`` by the chaos runner...). Every line is one record below: it has ``kind`` and the
schema version ``v``. Lines are flushed as they are written (every one-second window at least),
so a run that crashes leaves everything up to its last second; a cut last line is reported by
the reader, never silently dropped.

Times are Unix epoch seconds (float) unless the name says otherwise; latencies are milliseconds.
This module imports only the standard library (and ``typing_extensions``, for the one record type the
verdict validates with pydantic on Python 3.11), so that any side may depend on it.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, Self, TypedDict, cast

import typing_extensions

SCHEMA_VERSION = 1

Kind = Literal[
    "run_header", "window", "health", "token", "ocr", "ledger", "ledger_snapshot",
    "chaos", "smoke", "finding", "metrics", "run_end",
]
KINDS: frozenset[str] = frozenset(Kind.__args__)  # type: ignore[attr-defined]

Traffic = Literal["normal", "heavy_invoice", "forged_token", "health", "probe"]
"""Traffic class of a request series: only ``normal`` counts toward error rate and p95 rules."""

Status = Literal["PASS", "WARN", "FAIL", "NO_DATA", "SKIP"]

Severity = Literal["critical", "major", "minor", "info"]
"""How much a finding (or a forged-token case) matters, most first."""
SEVERITIES: tuple[Severity, ...] = Severity.__args__  # type: ignore[attr-defined]
"""``Severity`` in order, most severe first (reports sort by it)."""


TokenResult = Literal["rejected", "wrong_rejection", "breach", "control_ok", "control_refused", "error", "transport"]
InvoiceKind = Literal["normal", "heavy", "hostile"]
OcrResult = Literal["timeout_ok", "timeout_late", "processed", "body_limit", "rejected", "failure", "transport"]
ChaosPhase = Literal["start", "end", "recovered", "not_recovered", "error"]
EndReason = Literal["completed", "aborted", "interrupted", "failed"]
"""How a producer's run ended, least severe first."""


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
    four. ``sketch`` is a DDSketch of latencies in ms (see ``stagegate_core.histogram``) over the
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
    result: TokenResult
    """``transport``: the request never got an answer (refused, reset, timed out): no judgement of the agent."""
    severity: str
    detail: str


class OcrOutcome(TypedDict):
    """One invoice upload to the OCR route, classified."""

    kind: Literal["ocr"]
    v: int
    t: float
    invoice: str
    invoice_kind: InvoiceKind
    size_bytes: int
    status: int | None
    latency_ms: float
    result: OcrResult
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
    phase: ChaosPhase
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


class FindingFields(typing_extensions.TypedDict):
    """A gap between the deployment and the checklist, with its reference: what the verdict shows of it."""

    id: str
    section: str
    severity: Severity
    title: str
    evidence: str
    reference: str


@dataclass(frozen=True)
class FindingDraft:
    """A finding as its producer builds it (a smoke check, a login or discovery at start), before it is
    a stream record: ``to_record`` stamps it."""

    id: str
    section: str
    severity: Severity
    title: str
    evidence: str
    reference: str = ""

    def fields(self) -> FindingFields:
        return FindingFields(id=self.id, section=self.section, severity=self.severity, title=self.title,
                             evidence=self.evidence, reference=self.reference)

    def to_record(self, t: float | None = None) -> Finding:
        """The stream's ``finding`` record, at ``t`` (now when not given)."""
        return finding_record(time.time() if t is None else t, self.fields())


class Finding(FindingFields):
    """A ``FindingFields`` as a stream record."""

    kind: Literal["finding"]
    v: int
    t: float


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
    reason: EndReason
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

    def abandon(self) -> None:
        """Close after a write failed (disk full): what is buffered is dropped, the file stays as it is."""
        if not self._file.closed:
            with contextlib.suppress(OSError):
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


def _no_constant(name: str) -> Any:
    """``NaN``, ``Infinity`` and ``-Infinity`` are not JSON (the writers never write them): refuse the line."""
    raise ValueError(f"{name} is not a JSON number")


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
                obj = json.loads(line, parse_constant=_no_constant)
            except json.JSONDecodeError as exc:
                yield StreamProblem(path, number, f"not JSON ({exc.msg})")
                continue
            except ValueError as exc:  # NaN/Infinity, or an integer past Python's digit limit
                yield StreamProblem(path, number, f"not strict JSON ({exc})")
                continue
            except RecursionError:
                yield StreamProblem(path, number, "not JSON (nested too deeply)")
                continue
            if not isinstance(obj, dict) or obj.get("kind") not in KINDS:
                yield StreamProblem(path, number, f"unknown record kind {obj.get('kind') if isinstance(obj, dict) else None!r}")
                continue
            if obj.get("v") != SCHEMA_VERSION:
                yield StreamProblem(path, number, f"schema version {obj.get('v')!r}, expected {SCHEMA_VERSION}")
                continue
            yield cast(Record, obj)


def new_run_id(label: str = "") -> str:
    """A run id: start time to the second, an optional label, and 4 random hex digits
    (``20261127-231500-smoke-ab12``), sortable and unique enough for one machine's results."""
    return "-".join(part for part in (time.strftime("%Y%m%d-%H%M%S"), label, secrets.token_hex(2)) if part)


def stream_files(results_dir: Path) -> list[Path]:
    """The stream files of a results directory, in a stable order."""
    return sorted(results_dir.glob("*.jsonl"))


def read_dir(results_dir: Path) -> Iterator[Record | StreamProblem]:
    """Yield every record of every stream file in ``results_dir``."""
    for path in stream_files(results_dir):
        yield from read_file(path)


def record(kind: str, t: float, **fields: Any) -> dict[str, Any]:
    """An untyped record dict with ``kind``, ``v`` and ``t`` set (tests, synthetic streams); producers
    use the typed constructors below, so that mypy checks every field."""
    return {"kind": kind, "v": SCHEMA_VERSION, "t": t, **fields}


# Typed constructors: one per record kind a producer writes, keyword for keyword the TypedDict's fields.

def run_header_record(t: float, *, run_id: str, producer: str, profile: str, scenario: str | None,
                      targets: dict[str, str], settings: dict[str, Any], versions: dict[str, str]) -> RunHeader:
    return RunHeader(kind="run_header", v=SCHEMA_VERSION, t=t, run_id=run_id, producer=producer, profile=profile,
                     scenario=scenario, targets=targets, settings=settings, versions=versions)


def health_record(t: float, *, check: str, ok: bool, status: int | None, detail: str,
                  latency_ms: float | None) -> HealthTransition:
    return HealthTransition(kind="health", v=SCHEMA_VERSION, t=t, check=check, ok=ok, status=status, detail=detail,
                            latency_ms=latency_ms)


def token_record(t: float, *, case_id: str, target: str, status: int | None, result: TokenResult, severity: str,
                 detail: str) -> TokenOutcome:
    return TokenOutcome(kind="token", v=SCHEMA_VERSION, t=t, case_id=case_id, target=target, status=status,
                        result=result, severity=severity, detail=detail)


def ocr_record(t: float, *, invoice: str, invoice_kind: InvoiceKind, size_bytes: int, status: int | None,
               latency_ms: float, result: OcrResult, detail: str) -> OcrOutcome:
    return OcrOutcome(kind="ocr", v=SCHEMA_VERSION, t=t, invoice=invoice, invoice_kind=invoice_kind,
                      size_bytes=size_bytes, status=status, latency_ms=latency_ms, result=result, detail=detail)


def ledger_record(t: float, *, producto_id: int, delta: int, movimiento_id: str | None, stock_anterior: int | None,
                  stock_nuevo: int | None, idempotency_key: str | None) -> LedgerEntry:
    return LedgerEntry(kind="ledger", v=SCHEMA_VERSION, t=t, producto_id=producto_id, delta=delta,
                       movimiento_id=movimiento_id, stock_anterior=stock_anterior, stock_nuevo=stock_nuevo,
                       idempotency_key=idempotency_key)


def ledger_snapshot_record(t: float, *, phase: Literal["start", "end"], stock: dict[str, int]) -> LedgerSnapshot:
    return LedgerSnapshot(kind="ledger_snapshot", v=SCHEMA_VERSION, t=t, phase=phase, stock=stock)


def chaos_record(t: float, *, step_id: str, phase: ChaosPhase, action: str, target: str, backend: str, detail: str,
                 recovery_s: float | None) -> ChaosEvent:
    return ChaosEvent(kind="chaos", v=SCHEMA_VERSION, t=t, step_id=step_id, phase=phase, action=action,
                      target=target, backend=backend, detail=detail, recovery_s=recovery_s)


def smoke_record(t: float, *, check: str, section: str, status: Status, summary: str,
                 evidence: list[dict[str, Any]]) -> SmokeResult:
    return SmokeResult(kind="smoke", v=SCHEMA_VERSION, t=t, check=check, section=section, status=status,
                       summary=summary, evidence=evidence)


def finding_record(t: float, finding: FindingFields) -> Finding:
    return Finding(kind="finding", v=SCHEMA_VERSION, t=t, id=finding["id"], section=finding["section"],
                   severity=finding["severity"], title=finding["title"], evidence=finding["evidence"],
                   reference=finding["reference"])


def metrics_record(t: float, *, service: str, values: dict[str, float], error: str | None) -> MetricsSample:
    return MetricsSample(kind="metrics", v=SCHEMA_VERSION, t=t, service=service, values=values, error=error)


def run_end_record(t: float, *, reason: EndReason, detail: str) -> RunEnd:
    return RunEnd(kind="run_end", v=SCHEMA_VERSION, t=t, reason=reason, detail=detail)
