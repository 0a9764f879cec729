"""Reading a results directory once into ``RunData``: the records by kind, plus aggregation helpers.

The stream is read in one pass (``stagegate.stream.read_dir``); window sketches stay encoded until
a percentile is asked for, then are merged per request name once and cached, because decoding is
the expensive part of a one-hour run (72,000 window records). Lines the reader cannot take, and
records missing a field, become ``problems`` (shown as notes), never an exception.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, cast, get_type_hints

from ddsketch.ddsketch import BaseDDSketch

from analysis._errors import ResultsDirInvalid
from analysis._sketches import merge_encoded
from stagegate import stream
from stagegate.stream import (
    ChaosEvent,
    Finding,
    HealthTransition,
    LedgerEntry,
    LedgerSnapshot,
    MetricsSample,
    OcrOutcome,
    RunEnd,
    RunHeader,
    SmokeResult,
    StreamProblem,
    TokenOutcome,
    WindowRecord,
)

_TYPED: dict[str, type] = {
    "run_header": RunHeader, "window": WindowRecord, "health": HealthTransition, "token": TokenOutcome,
    "ocr": OcrOutcome, "ledger": LedgerEntry, "ledger_snapshot": LedgerSnapshot, "chaos": ChaosEvent,
    "smoke": SmokeResult, "finding": Finding, "metrics": MetricsSample, "run_end": RunEnd,
}
REQUIRED_KEYS: dict[str, frozenset[str]] = {
    kind: frozenset(get_type_hints(typed)) for kind, typed in _TYPED.items()
}
"""Every field of each record kind: a record lacking one is a stream problem, not a crash later."""


@dataclass(frozen=True)
class SecondTotals:
    """Request outcomes of one window start ``t`` summed over the series asked for."""

    t: float
    count: int
    ok: int
    error: int
    expected: int


@dataclass(frozen=True)
class Series:
    """The windows of one request name, in time order, and their totals."""

    name: str
    service: str
    traffic: str
    windows: list[WindowRecord]

    @property
    def count(self) -> int:
        return sum(w["count"] for w in self.windows)

    def outcome(self, key: str) -> int:
        return sum(w["outcomes"].get(key, 0) for w in self.windows)

    @property
    def max_ms(self) -> float | None:
        return max((w["latency_max_ms"] for w in self.windows if w["count"]), default=None)


@dataclass
class RunData:
    """Everything one results directory holds, by record kind, in file order."""

    results_dir: Path
    files: list[Path] = field(default_factory=list)
    headers: list[RunHeader] = field(default_factory=list)
    ends: list[RunEnd] = field(default_factory=list)
    problems: list[StreamProblem] = field(default_factory=list)
    windows: list[WindowRecord] = field(default_factory=list)
    health: list[HealthTransition] = field(default_factory=list)
    tokens: list[TokenOutcome] = field(default_factory=list)
    ocr: list[OcrOutcome] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    snapshots: list[LedgerSnapshot] = field(default_factory=list)
    chaos: list[ChaosEvent] = field(default_factory=list)
    smoke: list[SmokeResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    metrics: list[MetricsSample] = field(default_factory=list)
    start: float | None = None
    end: float | None = None

    @property
    def duration_s(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return max(0.0, self.end - self.start)

    def header(self) -> RunHeader | None:
        """The header that describes the run best: ``run``, then ``locust``, then the first one."""
        for producer in ("run", "locust"):
            for header in self.headers:
                if header["producer"] == producer:
                    return header
        return self.headers[0] if self.headers else None

    @cached_property
    def series(self) -> dict[str, Series]:
        """Request series by name, sorted by name."""
        grouped: dict[str, list[WindowRecord]] = defaultdict(list)
        for window in self.windows:
            grouped[window["name"]].append(window)
        return {
            name: Series(name, ws[0]["service"], ws[0]["traffic"], sorted(ws, key=lambda w: w["t"]))
            for name, ws in sorted(grouped.items())
        }

    def names(self, *, traffic: Collection[str] | None = None, names: Collection[str] | None = None) -> list[str]:
        """Request names in the scope: a traffic class set and/or an explicit name list (None = all)."""
        return [
            s.name for s in self.series.values()
            if (traffic is None or s.traffic in traffic) and (names is None or s.name in names)
        ]

    def sketch(self, name: str) -> BaseDDSketch | None:
        """The merged latency sketch of one request name over the whole run (cached)."""
        if name not in self._sketch_cache:
            series = self.series.get(name)
            self._sketch_cache[name] = merge_encoded(w["sketch"] for w in series.windows) if series else None
        return self._sketch_cache[name]

    def merged_sketch(self, names: Iterable[str]) -> BaseDDSketch | None:
        """One sketch over several request names (None when none has data)."""
        merged: BaseDDSketch | None = None
        for name in names:
            one = self.sketch(name)
            if one is None or one.count == 0:
                continue
            if merged is None:
                merged = merge_encoded(())
            merged.merge(one)
        return merged

    def per_second(self, names: Collection[str]) -> list[SecondTotals]:
        """Outcome totals per window start over the named series, in time order (seconds without traffic omitted)."""
        acc: dict[float, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for name in names:
            for w in self.series[name].windows if name in self.series else ():
                row = acc[w["t"]]
                outcomes = w["outcomes"]
                row[0] += w["count"]
                row[1] += outcomes.get("ok", 0)
                row[2] += outcomes.get("error", 0)
                row[3] += outcomes.get("expected", 0)
        return [SecondTotals(t, *row) for t, row in sorted(acc.items())]

    @cached_property
    def _sketch_cache(self) -> dict[str, BaseDDSketch | None]:
        return {}


def load_results(results_dir: Path) -> RunData:
    """Read every stream file of ``results_dir`` in one pass.

    Raises ``ResultsDirInvalid`` when the directory is missing, unreadable or has no ``*.jsonl``
    file; every problem inside the files is kept in ``RunData.problems`` instead.
    """
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise ResultsDirInvalid(f"{results_dir}: not a results directory (missing or not a directory)")
    try:
        files = stream.stream_files(results_dir)
    except OSError as exc:
        raise ResultsDirInvalid(f"{results_dir}: cannot read ({exc.strerror or exc})") from None
    if not files:
        raise ResultsDirInvalid(f"{results_dir}: no stream file (*.jsonl) in it")
    data = RunData(results_dir=results_dir, files=files)
    buckets: dict[str, list[Any]] = {
        "run_header": data.headers, "run_end": data.ends, "window": data.windows, "health": data.health,
        "token": data.tokens, "ocr": data.ocr, "ledger": data.ledger, "ledger_snapshot": data.snapshots,
        "chaos": data.chaos, "smoke": data.smoke, "finding": data.findings, "metrics": data.metrics,
    }
    first: float | None = None
    last: float | None = None
    for path in files:
        try:
            for ordinal, item in enumerate(stream.read_file(path), start=1):
                if isinstance(item, StreamProblem):
                    data.problems.append(item)
                    continue
                rec = cast(dict[str, Any], item)
                missing = REQUIRED_KEYS[rec["kind"]] - rec.keys()
                if missing:
                    data.problems.append(StreamProblem(
                        path, _line_number(path, ordinal),
                        f"{rec['kind']} record without {', '.join(sorted(missing))}"))
                    continue
                buckets[rec["kind"]].append(rec)
                t = rec["t"]
                stop = t + rec["duration_s"] if rec["kind"] == "window" else t
                first = t if first is None or t < first else first
                last = stop if last is None or stop > last else last
        except OSError as exc:
            data.problems.append(StreamProblem(path, 0, f"cannot read ({exc.strerror or exc})"))
    data.start, data.end = first, last
    return data


def _line_number(path: Path, ordinal: int) -> int:
    """The line number of the ``ordinal``-th non-blank line (the reader skips blank ones); rare, so re-read."""
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        seen = 0
        for number, line in enumerate(handle, start=1):
            seen += bool(line.strip())
            if seen == ordinal:
                return number
    return 0
