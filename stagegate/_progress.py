"""Live progress of a load phase, read from the results stream Locust is writing.

The stream is the only thing both sides share, so progress reads it too: each new window record
adds to the current second, and the line shows elapsed/remaining time, requests per second,
errors and the p95 of normal traffic over the last complete seconds.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from ddsketch.ddsketch import BaseDDSketch
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from stagegate_core import histogram

RECENT_SECONDS = 5


class StreamTail:
    """Yields the complete new lines of a file that another process is appending to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = ""

    def new_records(self) -> list[dict[str, Any]]:
        try:
            with self.path.open("r", encoding="utf-8") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
                self._offset = handle.tell()
        except FileNotFoundError:
            return []
        text = self._partial + chunk
        lines = text.split("\n")
        self._partial = lines.pop()
        records = []
        for line in lines:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records


class LoadFigures:
    """Rolling figures over the last few seconds of normal traffic."""

    def __init__(self) -> None:
        self._seconds: dict[float, list[Any]] = defaultdict(lambda: [0, 0, histogram.new_sketch()])
        self._order: deque[float] = deque()
        self.total = 0
        self.errors = 0

    def add(self, record: dict[str, Any]) -> None:
        if record.get("kind") != "window" or record.get("traffic") != "normal":
            return
        second = float(record["t"])
        if second not in self._seconds:
            self._order.append(second)
            while len(self._order) > RECENT_SECONDS + 1:
                self._seconds.pop(self._order.popleft(), None)
        slot = self._seconds[second]
        slot[0] += int(record["count"])
        slot[1] += int(record["outcomes"].get("error", 0))
        sketch: BaseDDSketch = slot[2]
        sketch.merge(histogram.decode(record["sketch"]))
        self.total += int(record["count"])
        self.errors += int(record["outcomes"].get("error", 0))

    def line(self) -> str:
        complete = list(self._order)[:-1][-RECENT_SECONDS:]  # the newest second may still be filling
        if not complete:
            return "waiting for traffic"
        count = sum(self._seconds[s][0] for s in complete)
        errors = sum(self._seconds[s][1] for s in complete)
        merged = histogram.new_sketch()
        for second in complete:
            merged.merge(self._seconds[second][2])
        p95 = merged.get_quantile_value(0.95) if merged.count else None
        rate = count / len(complete)
        share = errors / count if count else 0.0
        p95_text = f"{p95:.0f} ms" if p95 is not None else "-"
        return f"{rate:.0f} req/s  errors {share:.1%}  p95 {p95_text}  (total {self.total}, errors {self.errors})"


def follow_load(stream: Path, duration_s: int, console: Console, is_running: Any, *,
                past_planned: str = "stopping") -> None:
    """Show a progress bar for the load phase until ``is_running()`` is false.

    Past the planned duration the line says ``past_planned`` (Locust stopping, or chaos waiting for
    a recovery), so a run that goes on does not look stuck.
    """
    tail = StreamTail(stream)
    figures = LoadFigures()
    columns = (TextColumn("[bold]load[/]"), BarColumn(), TimeElapsedColumn(), TextColumn("/"),
               TimeRemainingColumn(), TextColumn("{task.fields[figures]}"))
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("load", total=duration_s, figures="starting Locust")
        started = time.monotonic()
        while is_running():
            for item in tail.new_records():
                figures.add(item)
            elapsed = time.monotonic() - started
            line = figures.line() if elapsed <= duration_s + 1 else f"{past_planned}; {figures.line()}"
            progress.update(task, completed=min(elapsed, duration_s), figures=line)
            time.sleep(0.5)
        for item in tail.new_records():
            figures.add(item)
        progress.update(task, completed=duration_s, figures=figures.line())
