"""Reading a results directory once into ``RunData``: the records by kind, plus aggregation helpers.

The stream is read in one pass (``stagegate_core.stream.read_dir``); window sketches stay encoded until
a percentile is asked for, then are merged per request name once and cached, because decoding is
the expensive part of a one-hour run (72,000 window records). Lines the reader cannot take, and
records missing a field, become ``problems`` (shown as notes), never an exception.

A Locust web UI "stop" then "start" writes a new ``locust`` run header: a new segment. Only the
newest segment's Locust-side records are judged (mixing two starts' ledger snapshots reads as
corruption); the earlier ones are set aside and counted in ``segments_set_aside``. Smoke's files
are kept whole.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, cast, get_args, get_origin, get_type_hints

import numpy as np
from ddsketch.ddsketch import BaseDDSketch

from analysis._chaos import ChaosSpan, chaos_spans
from analysis._errors import ResultsDirInvalid
from analysis._sketches import Bins, merge_bins, parse, to_sketch
from stagegate_core import stream
from stagegate_core.stream import (
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
_BUCKETS: dict[str, str] = {
    "run_header": "headers", "run_end": "ends", "window": "windows", "health": "health", "token": "tokens",
    "ocr": "ocr", "ledger": "ledger", "ledger_snapshot": "snapshots", "chaos": "chaos", "smoke": "smoke",
    "finding": "findings", "metrics": "metrics",
}
"""Record kind -> the ``RunData`` list holding it."""
SEGMENTED = frozenset({"window", "health", "token", "ocr", "ledger", "ledger_snapshot", "chaos", "metrics"})
"""Locust-side record kinds: they belong to the segment (test start) they were written in."""


@dataclass(frozen=True)
class SecondTotals:
    """Request outcomes of one window start ``t`` summed over the series asked for."""

    t: float
    count: int
    ok: int
    error: int
    expected: int
    transport: int = 0


_COLUMNS = ("count", "ok", "error", "expected", "transport")
ANSWERED = ("ok", "error", "expected")
"""Outcomes of requests that got an answer: the only ones latencies and error rates speak about."""


@dataclass(frozen=True)
class Series:
    """The windows of one request name, in time order, with their outcome totals computed once.

    ``table`` has one row per window: start ``t``, then ``count``, ``ok``, ``error``, ``expected``,
    ``transport`` (no answer; an older stream without the key reads as 0).
    """

    name: str
    service: str
    traffic: str
    windows: list[WindowRecord]
    table: np.ndarray
    max_ms: float | None

    @classmethod
    def of(cls, name: str, windows: list[WindowRecord]) -> Series:
        ordered = sorted(windows, key=lambda w: w["t"])
        table = np.array([
            (w["t"], w["count"], *(w["outcomes"].get(k, 0) for k in _COLUMNS[1:])) for w in ordered
        ], dtype=np.float64).reshape(-1, 1 + len(_COLUMNS))
        max_ms = max((w["latency_max_ms"] for w in ordered if w["count"] > w["outcomes"].get("transport", 0)),
                     default=None)
        return cls(name, ordered[0]["service"], ordered[0]["traffic"], ordered, table, max_ms)

    @property
    def count(self) -> int:
        return self.outcome("count")

    @property
    def answered(self) -> int:
        return sum(self.outcome(key) for key in ANSWERED)

    def outcome(self, key: str) -> int:
        """Total of one outcome (``ok``, ``error``, ``expected``, ``transport``) or of ``count`` over the run."""
        return int(self.table[:, 1 + _COLUMNS.index(key)].sum()) if key in _COLUMNS else 0

    def set_aside_mask(self, spans: Iterable[ChaosSpan]) -> np.ndarray | None:
        """Rows (windows) of this series inside a chaos span on its service; None when there is none."""
        mine = [s for s in spans if s.target == self.service]
        if not mine:
            return None
        inside = np.array([any(s.overlaps(w["service"], w["t"], w["duration_s"]) for s in mine) for w in self.windows],
                          dtype=bool)
        return inside if inside.any() else None


class Selection:
    """The request series of a rule's scope, minus the windows set aside during chaos spans.

    ``set_aside`` counts what was left out: ``{"windows": n, "requests": n}``. Whole-run merges
    of a series with nothing set aside reuse ``RunData``'s cache.
    """

    def __init__(self, data: RunData, names: Iterable[str], spans: Iterable[ChaosSpan] = ()) -> None:
        self.data = data
        self.names = [n for n in names if n in data.series]
        spans = list(spans)
        self._aside: dict[str, np.ndarray] = {}
        for name in self.names:
            mask = data.series[name].set_aside_mask(spans)
            if mask is not None:
                self._aside[name] = mask
        self.set_aside = {
            "windows": int(sum(m.sum() for m in self._aside.values())),
            "requests": int(sum(data.series[n].table[m, 1].sum() for n, m in self._aside.items())),
        }

    def table(self, name: str) -> np.ndarray:
        table = self.data.series[name].table
        return table[~self._aside[name]] if name in self._aside else table

    def total(self, key: str, names: Iterable[str] | None = None) -> int:
        """Total of one outcome, ``count`` or ``answered`` over the kept windows of ``names`` (default all)."""
        keys = ANSWERED if key == "answered" else (key,)
        columns = [1 + _COLUMNS.index(k) for k in keys]
        return int(sum(self.table(n)[:, columns].sum() for n in (self.names if names is None else names)))

    def per_second(self) -> list[SecondTotals]:
        """Outcome totals per window start over the kept windows, in time order (empty seconds omitted)."""
        tables = [self.table(n) for n in self.names]
        if not tables:
            return []
        rows = np.concatenate(tables)
        seconds, where = np.unique(rows[:, 0], return_inverse=True)
        sums = np.zeros((seconds.size, len(_COLUMNS)))
        np.add.at(sums, where, rows[:, 1:])
        return [SecondTotals(float(t), *(int(v) for v in row)) for t, row in zip(seconds, sums)]

    def bins(self, name: str) -> Bins | None:
        """Merged latency bins of one series over its kept windows."""
        if name not in self._aside:
            return self.data.bins(name)
        windows = self.data.series[name].windows
        return merge_bins(w["sketch"] for w, aside in zip(windows, self._aside[name]) if not aside)

    def sketch(self, names: Iterable[str] | None = None) -> BaseDDSketch | None:
        """One latency sketch over the kept windows of ``names`` (default all); None without latency."""
        merged = merge_bins(b for n in (self.names if names is None else names) if (b := self.bins(n)) is not None)
        return to_sketch(merged) if merged.count else None

    def max_ms(self) -> float | None:
        """The slowest answered request over the kept windows."""
        found = []
        for name in self.names:
            aside = self._aside.get(name)
            found += [w["latency_max_ms"] for i, w in enumerate(self.data.series[name].windows)
                      if (aside is None or not aside[i]) and w["count"] > w["outcomes"].get("transport", 0)]
        return max(found, default=None)


@dataclass
class RunData:
    """Everything one results directory holds, by record kind, in file order.

    Window records are kept as read except ``sketch``: the loader replaces the base64 text by its
    decoded ``analysis._sketches.Bins`` (non-empty bins only), which is what keeps a one-hour run
    small. Merge sketches with ``analysis._sketches.merge_encoded`` (accepts both forms), or ask
    ``bins(name)`` / ``sketch(name)`` / ``merged_sketch(names)`` for whole-run merges.
    """

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
    segments_set_aside: int = 0

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
        return {name: Series.of(name, ws) for name, ws in sorted(grouped.items())}

    def names(self, *, traffic: Collection[str] | None = None, names: Collection[str] | None = None) -> list[str]:
        """Request names in the scope: a traffic class set and/or an explicit name list (None = all)."""
        return [
            s.name for s in self.series.values()
            if (traffic is None or s.traffic in traffic) and (names is None or s.name in names)
        ]

    def bins(self, name: str) -> Bins | None:
        """The merged latency bins of one request name over the whole run (cached); None if unknown."""
        if name not in self._bins_cache:
            series = self.series.get(name)
            self._bins_cache[name] = merge_bins(w["sketch"] for w in series.windows) if series else None
        return self._bins_cache[name]

    def sketch(self, name: str) -> BaseDDSketch | None:
        """The merged latency sketch of one request name over the whole run; None if unknown."""
        bins = self.bins(name)
        return to_sketch(bins) if bins is not None else None

    def merged_sketch(self, names: Iterable[str]) -> BaseDDSketch | None:
        """One sketch over several request names (None when none has a latency)."""
        return Selection(self, names).sketch()

    def per_second(self, names: Collection[str]) -> list[SecondTotals]:
        """Outcome totals per window start over the named series, in time order (seconds without traffic omitted)."""
        return Selection(self, names).per_second()

    def select(self, names: Iterable[str], spans: Iterable[ChaosSpan] = ()) -> Selection:
        """The named series without their windows inside ``spans`` (see ``Selection``)."""
        return Selection(self, names, spans)

    @cached_property
    def spans(self) -> list[ChaosSpan]:
        """The chaos steps' spans (see ``analysis._chaos``); an open one ends with the data."""
        return chaos_spans(self.chaos, self.end or 0.0)

    def records(self, kind: str) -> list[Any]:
        """The list holding records of ``kind`` (``"token"``, ``"ocr"``...)."""
        return self._lists[kind]

    def add(self, rec: Any) -> None:
        """Append one validated record to its list and widen ``start``/``end``."""
        self._lists[rec["kind"]].append(rec)
        t = rec["t"]
        stop = t + rec["duration_s"] if rec["kind"] == "window" else t
        self.start = t if self.start is None or t < self.start else self.start
        self.end = stop if self.end is None or stop > self.end else self.end

    def between(self, start: float, end: float) -> RunData:
        """The records with ``start <= t < end`` (headers and stream problems kept), e.g. one load step."""
        part = RunData(self.results_dir, files=self.files, headers=self.headers, problems=self.problems,
                       segments_set_aside=self.segments_set_aside)
        for bucket in _BUCKETS.values():
            if bucket in ("headers",):
                continue
            getattr(part, bucket).extend(r for r in getattr(self, bucket) if start <= r["t"] < end)
        part.start, part.end = start, end
        return part

    @cached_property
    def _lists(self) -> dict[str, list[Any]]:
        return {kind: getattr(self, name) for kind, name in _BUCKETS.items()}

    @cached_property
    def _bins_cache(self) -> dict[str, Bins | None]:
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
    taken: list[tuple[bool, dict[str, Any]]] = []  # (from a smoke file, record)
    for path in files:
        smoke_file = False
        try:
            for ordinal, item in enumerate(stream.read_file(path), start=1):
                if isinstance(item, StreamProblem):
                    data.problems.append(item)
                    continue
                rec = cast(dict[str, Any], item)
                problem = record_problem(rec) or (_decode_sketch(rec) if rec["kind"] == "window" else None)
                if problem is None:
                    smoke_file = smoke_file or (rec["kind"] == "run_header" and rec["producer"] == "smoke")
                    taken.append((smoke_file, rec))
                else:
                    data.problems.append(StreamProblem(path, _line_number(path, ordinal), problem))
        except OSError as exc:
            data.problems.append(StreamProblem(path, 0, f"cannot read ({exc.strerror or exc})"))
    for rec in newest_segment(taken, data):
        data.add(rec)
    return data


def newest_segment(taken: list[tuple[bool, dict[str, Any]]], data: RunData) -> Iterable[dict[str, Any]]:
    """The records to judge: Locust-side ones from the newest ``locust`` header on (and those written
    before the first one, e.g. setup); earlier segments' records and headers are left out and
    counted in ``data.segments_set_aside``. Records of a smoke producer's file are always kept."""
    starts = sorted(r["t"] for _, r in taken if r["kind"] == "run_header" and r["producer"] == "locust")
    if len(starts) < 2:
        return (r for _, r in taken)
    first, newest = starts[0], starts[-1]
    data.segments_set_aside = len(starts) - 1
    return (
        r for smoke, r in taken
        if smoke or not first <= r["t"] < newest
        or not (r["kind"] in SEGMENTED or (r["kind"] == "run_header" and r["producer"] == "locust"))
    )


def _decode_sketch(window: dict[str, Any]) -> str | None:
    """Replace the window's encoded sketch by its ``Bins``; a problem when it is not a sketch."""
    try:
        window["sketch"] = parse(window["sketch"])
    except ValueError as exc:
        return f"window record with a bad sketch ({exc})"
    return None


NUMBER_BOUND = 1e15
"""Largest magnitude a number of the stream may have (an epoch in seconds is ~2e9, a count far less):
past it, or not finite, the record is damaged; so no overflow or ``Infinity`` reaches the arithmetic or
the JSON reports."""

_Check = Callable[[Any], bool]


def _finite_tree(value: Any) -> bool:
    """Every number inside ``value`` (dicts and lists walked without recursion) is finite and bounded."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, int | float) and not isinstance(item, bool) and not -NUMBER_BOUND <= item <= NUMBER_BOUND:
            return False  # NaN fails both comparisons
    return True


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -NUMBER_BOUND <= value <= NUMBER_BOUND


def _is_float(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and -NUMBER_BOUND <= value <= NUMBER_BOUND


def _check_of(hint: Any) -> _Check:
    """A predicate telling whether a parsed JSON value matches a record field's type hint."""
    origin, args = get_origin(hint), get_args(hint)
    if hint is Any:
        return _finite_tree
    if origin is Literal:
        allowed = frozenset(args)
        return lambda v: isinstance(v, str | int) and not isinstance(v, bool) and v in allowed
    if origin in (Union, UnionType):
        checks = [_check_of(a) for a in args]
        return lambda v: any(check(v) for check in checks)
    if origin is dict:
        value_check = _check_of(args[1])
        return lambda v: isinstance(v, dict) and all(isinstance(k, str) and value_check(x) for k, x in v.items())
    if origin is list:
        item_check = _check_of(args[0])
        return lambda v: isinstance(v, list) and all(item_check(x) for x in v)
    simple: dict[Any, _Check] = {
        str: lambda v: isinstance(v, str), bool: lambda v: isinstance(v, bool), int: _is_int, float: _is_float,
        type(None): lambda v: v is None,
    }
    if hint in simple:
        return simple[hint]
    raise TypeError(f"no stream check for {hint!r}")  # a new field type: teach it here


_FIELD_CHECKS: dict[str, tuple[tuple[str, _Check], ...]] = {
    kind: tuple((name, _check_of(hint)) for name, hint in get_type_hints(typed).items())
    for kind, typed in _TYPED.items()
}
"""Per record kind, each field with the check of its declared type (``stagegate_core.stream``)."""


def record_problem(rec: Any) -> str | None:
    """Why a parsed record cannot be used: a missing field, or one whose value is not of its declared
    type (a name that is null, a time that is not a finite number, outcomes that are not counts...)."""
    if rec.get("kind") not in REQUIRED_KEYS:
        return f"unknown record kind {rec.get('kind')!r}"
    missing = REQUIRED_KEYS[rec["kind"]] - rec.keys()
    if missing:
        return f"{rec['kind']} record without {', '.join(sorted(missing))}"
    bad = [name for name, check in _FIELD_CHECKS[rec["kind"]] if not check(rec[name])]
    if rec["kind"] == "window" and not bad:
        bad = [name for name, ok in (
            ("count", rec["count"] >= 0), ("duration_s", rec["duration_s"] > 0),
            ("outcomes", all(n >= 0 for n in rec["outcomes"].values())),
        ) if not ok]
    if bad:
        return f"{rec['kind']} record with a malformed {', '.join(bad)}"
    return None


def _line_number(path: Path, ordinal: int) -> int:
    """The line number of the ``ordinal``-th non-blank line (the reader skips blank ones); rare, so re-read."""
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        seen = 0
        for number, line in enumerate(handle, start=1):
            seen += bool(line.strip())
            if seen == ordinal:
                return number
    return 0
