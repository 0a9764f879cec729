"""One-second windows of one request series: counts by outcome, bytes and a latency sketch.

This is the mergeable value behind the recorder, kept free of Locust so it can be tested and
reasoned about alone: ``SeriesWindow.merge`` adds two windows of the same series and second (from
two workers, or two reports of one worker) and gives the same totals as one process would have.
``WindowBook`` holds the open windows of a process and hands out those that are closed.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from ddsketch.ddsketch import BaseDDSketch

from stagegate_core.histogram import decode, encode, new_sketch
from stagegate_core.stream import SCHEMA_VERSION, Traffic, WindowRecord

WINDOW_S = 1
"""Window length in seconds: the analysis judges time in these steps."""

Outcome = Literal["ok", "error", "expected", "transport"]
OUTCOMES: tuple[Outcome, ...] = ("ok", "error", "expected", "transport")
ANSWERED: tuple[Outcome, ...] = ("ok", "error", "expected")
"""Outcomes of requests that got an answer: only these have a latency worth measuring."""


@dataclass
class SeriesWindow:
    """Everything one request name did during one window (``t`` = window start, whole seconds)."""

    t: int
    name: str
    service: str
    traffic: Traffic
    count: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    bytes: int = 0
    latency_sum_ms: float = 0.0
    latency_max_ms: float = 0.0
    sketch: BaseDDSketch = field(default_factory=new_sketch)

    def add(self, latency_ms: float, outcome: Outcome, size_bytes: int, error_class: str | None = None) -> None:
        """Count one request; ``error_class`` is kept only for outcome ``error``. A ``transport`` outcome
        (no answer) is counted only: the time a refused or reset connection took says nothing about
        how fast the deployment answers, so it stays out of the sketch and the latency sums."""
        latency_ms = max(0.0, latency_ms)
        self.count += 1
        self.outcomes[outcome] += 1
        if outcome == "error":
            self.errors[error_class or "unknown"] += 1
        self.bytes += size_bytes
        if outcome not in ANSWERED:
            return
        self.latency_sum_ms += latency_ms
        self.latency_max_ms = max(self.latency_max_ms, latency_ms)
        self.sketch.add(latency_ms)

    def merge(self, other: SeriesWindow) -> None:
        """Add ``other`` (same series and second) into this window."""
        if (other.t, other.name) != (self.t, self.name):
            raise ValueError(f"cannot merge window {other.name}@{other.t} into {self.name}@{self.t}")
        self.count += other.count
        self.outcomes.update(other.outcomes)
        self.errors.update(other.errors)
        self.bytes += other.bytes
        self.latency_sum_ms += other.latency_sum_ms
        self.latency_max_ms = max(self.latency_max_ms, other.latency_max_ms)
        self.sketch.merge(other.sketch)

    def to_record(self) -> WindowRecord:
        """The stream record of this window."""
        return {
            "kind": "window", "v": SCHEMA_VERSION, "t": float(self.t), "duration_s": float(WINDOW_S),
            "name": self.name, "service": self.service, "traffic": self.traffic, "count": self.count,
            "outcomes": {key: self.outcomes.get(key, 0) for key in OUTCOMES},
            "errors": dict(self.errors), "bytes": self.bytes,
            "latency_sum_ms": round(self.latency_sum_ms, 3), "latency_max_ms": round(self.latency_max_ms, 3),
            "sketch": encode(self.sketch),
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SeriesWindow:
        """A window back from its record (how worker windows travel to the master)."""
        return cls(
            t=int(record["t"]), name=record["name"], service=record["service"],
            traffic=cast(Traffic, record["traffic"]), count=record["count"],
            outcomes=Counter({k: v for k, v in record["outcomes"].items() if v}),
            errors=Counter(record["errors"]), bytes=record["bytes"],
            latency_sum_ms=record["latency_sum_ms"], latency_max_ms=record["latency_max_ms"],
            sketch=decode(record["sketch"]),
        )


class WindowBook:
    """The windows a process holds, by (second, request name), until they are written or shipped."""

    def __init__(self) -> None:
        self._open: dict[tuple[int, str], SeriesWindow] = {}

    def __len__(self) -> int:
        return len(self._open)

    def add(self, *, end_t: float, name: str, service: str, traffic: Traffic, latency_ms: float,
            outcome: Outcome, size_bytes: int, error_class: str | None = None) -> None:
        """Count a request that ended at ``end_t`` (epoch seconds) in its window."""
        key = (math.floor(end_t), name)
        window = self._open.get(key)
        if window is None:
            window = self._open[key] = SeriesWindow(key[0], name, service, traffic)
        window.add(latency_ms, outcome, size_bytes, error_class)

    def merge(self, window: SeriesWindow) -> None:
        """Fold a window from elsewhere (a worker) into the book."""
        key = (window.t, window.name)
        mine = self._open.get(key)
        if mine is None:
            self._open[key] = window
        else:
            mine.merge(window)

    def take_closed(self, before_t: float) -> list[SeriesWindow]:
        """Remove and return the windows that ended at or before ``before_t``, oldest first."""
        closed = sorted(key for key in self._open if key[0] + WINDOW_S <= before_t)
        return [self._open.pop(key) for key in closed]

    def take_all(self) -> list[SeriesWindow]:
        """Remove and return every window, oldest first (end of run, or a worker's report)."""
        return self.take_closed(math.inf)
