"""What the HTML report draws, reduced from ``RunData`` to small plain series.

Drawing every one-second window of a 30-minute run would make a report of many megabytes and a
chart nobody can read, so time series are cut into at most ``MAX_POINTS`` buckets. A bucket's p95
comes from merging the bucket's window sketches (exact to the sketch's accuracy, not an average of
p95s) and its error rate from its summed counts; the tables of the report keep the exact values.
Times are seconds since the run's start, so every time chart shares one x axis.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from analysis._load import RunData
from analysis._sketches import Bins, merge_encoded

MAX_POINTS = 600
"""Most points one time series is drawn with (a 30-minute run: one point per 3 s)."""
MAX_SCATTER = 1500
"""Most invoices drawn on the size/latency scatter; heavy and hostile ones are always kept."""

TOKEN_RESULT_ORDER = ("breach", "wrong_rejection", "error", "control_refused", "rejected", "control_ok")
"""Token results, worst first: a matrix cell shows the worst result its attempts got."""


@dataclass(frozen=True)
class Timeline:
    """The run's span in epoch seconds and the width of one drawing bucket."""

    start: float
    end: float
    bucket_s: int

    @property
    def length_s(self) -> float:
        return max(1.0, self.end - self.start)

    def x(self, t: float) -> float:
        """Seconds since the start of the run."""
        return t - self.start

    def bucket(self, t: float) -> int:
        return max(0, int((t - self.start) // self.bucket_s))

    @property
    def buckets(self) -> int:
        return max(1, math.ceil(self.length_s / self.bucket_s))

    def bucket_width(self, index: int) -> float:
        """Seconds a bucket covers (the last one may be cut by the end of the run)."""
        return max(1e-9, min(self.bucket_s, self.length_s - index * self.bucket_s))


@dataclass(frozen=True)
class TrafficSeries:
    """Per bucket: requests per second by outcome, error rate and p95 of ``normal`` traffic."""

    x: list[float]
    normal_ok_rps: list[float]
    normal_error_rps: list[float]
    other_rps: list[float]
    error_rate: list[float | None]
    p95_ms: list[float | None]


@dataclass(frozen=True)
class Lane:
    """One health check's states as ``(x0, x1, ok)`` segments, and how long it was down in all."""

    check: str
    segments: list[tuple[float, float, bool]]
    down_s: float
    last_detail: str


@dataclass(frozen=True)
class ChaosSpan:
    """A chaos step from its start to its revert, and whether all health came back."""

    label: str
    x0: float
    x1: float
    reverted: bool
    recovery_s: float | None
    problem: str = ""


@dataclass(frozen=True)
class OcrPoint:
    x: float
    size_bytes: int
    latency_ms: float
    kind: str
    result: str


@dataclass(frozen=True)
class OcrSeries:
    """Invoice outcomes per bucket for each invoice kind, and the points of the size/latency scatter."""

    x: list[float]
    counts: dict[str, dict[str, list[int]]]  # invoice kind -> result -> count per bucket
    points: list[OcrPoint]
    total: int


@dataclass(frozen=True)
class TokenCell:
    result: str
    statuses: list[str]
    attempts: int


@dataclass(frozen=True)
class TokenMatrix:
    """Forged (and control) token cases against target agents, worst result per cell."""

    cases: list[str]
    targets: list[str]
    cells: dict[tuple[str, str], TokenCell] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        tally: dict[str, int] = defaultdict(int)
        for cell in self.cells.values():
            tally[cell.result] += 1
        return dict(tally)


def timeline(data: RunData) -> Timeline | None:
    """The run's time axis, or None when the stream holds no timed record at all."""
    if data.start is None or data.end is None:
        return None
    length = max(1.0, data.end - data.start)
    return Timeline(data.start, data.start + length, max(1, math.ceil(length / MAX_POINTS)))


def traffic(data: RunData, line: Timeline) -> TrafficSeries | None:
    """Throughput, error rate and p95 per bucket; None when the run has no request windows."""
    if not data.windows:
        return None
    n = line.buckets
    ok, err, count, other = [0] * n, [0] * n, [0] * n, [0] * n
    sketches: list[list[str | Bins]] = [[] for _ in range(n)]  # the loader keeps them as Bins
    for window in data.windows:
        i = min(n - 1, line.bucket(window["t"]))
        if window["traffic"] != "normal":
            other[i] += window["count"]
            continue
        count[i] += window["count"]
        ok[i] += window["outcomes"].get("ok", 0) + window["outcomes"].get("expected", 0)
        err[i] += window["outcomes"].get("error", 0)
        if window["count"]:
            sketches[i].append(window["sketch"])
    widths = [line.bucket_width(i) for i in range(n)]
    return TrafficSeries(
        x=[i * line.bucket_s + widths[i] / 2 for i in range(n)],
        normal_ok_rps=[ok[i] / widths[i] for i in range(n)],
        normal_error_rps=[err[i] / widths[i] for i in range(n)],
        other_rps=[other[i] / widths[i] for i in range(n)],
        error_rate=[err[i] / count[i] if count[i] else None for i in range(n)],
        p95_ms=[_p95(s) for s in sketches],
    )


def _p95(encoded: list[str | Bins]) -> float | None:
    if not encoded:
        return None
    merged = merge_encoded(encoded)
    value = merged.get_quantile_value(0.95) if merged.count else None
    return float(value) if value is not None else None


def lanes(data: RunData, line: Timeline) -> list[Lane]:
    """Health state segments per check, from the first observation to the end of the run."""
    by_check: dict[str, list[tuple[float, bool, str]]] = defaultdict(list)
    for h in data.health:
        by_check[h["check"]].append((h["t"], h["ok"], h["detail"]))
    result = []
    for check, changes in sorted(by_check.items()):
        changes.sort(key=lambda c: c[0])
        segments: list[tuple[float, float, bool]] = []
        for (t, ok, _), nxt in zip(changes, [*changes[1:], None], strict=True):
            stop = line.x(max(t, nxt[0] if nxt else line.end))
            if segments and segments[-1][2] == ok:  # a repeated state (first observation by two watchers)
                segments[-1] = (segments[-1][0], stop, ok)
            else:
                segments.append((line.x(t), stop, ok))
        down = sum(x1 - x0 for x0, x1, ok in segments if not ok)
        result.append(Lane(check, segments, down, changes[-1][2]))
    return result


def chaos_spans(data: RunData, line: Timeline) -> list[ChaosSpan]:
    """Chaos steps paired by ``step_id``; a step never reverted runs to the end and says so."""
    steps: dict[str, dict[str, float | str | None]] = {}
    for event in sorted(data.chaos, key=lambda e: e["t"]):
        step = steps.setdefault(event["step_id"], {
            "label": _step_label(event["step_id"], event["action"], event["target"]),
            "start": None, "end": None, "recovery_s": None, "problem": ""})
        phase = event["phase"]
        if phase == "start":
            step["start"] = event["t"]
        elif phase == "end":
            step["end"] = event["t"]
        elif phase == "recovered":
            step["recovery_s"] = event["recovery_s"]
        else:
            step["problem"] = f"{phase.replace('_', ' ')}: {event['detail']}".strip(": ")
    spans = []
    for step in steps.values():
        start = step["start"] if step["start"] is not None else step["end"]
        end = step["end"]
        spans.append(ChaosSpan(
            label=str(step["label"]),
            x0=line.x(float(start)) if start is not None else 0.0,
            x1=line.x(float(end)) if end is not None else line.length_s,
            reverted=end is not None,
            recovery_s=float(step["recovery_s"]) if step["recovery_s"] is not None else None,
            problem=str(step["problem"]),
        ))
    return sorted(spans, key=lambda s: s.x0)


def _step_label(step_id: str, action: str, target: str) -> str:
    """``kill_negocio`` alone when the id already says it, else ``step-3: kill negocio``."""
    return step_id if action in step_id and target in step_id else f"{step_id}: {action} {target}"


def ocr(data: RunData, line: Timeline) -> OcrSeries | None:
    """OCR outcomes per bucket by invoice kind, and a bounded sample of size/latency points."""
    if not data.ocr:
        return None
    n = line.buckets
    counts: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0] * n))
    for o in data.ocr:
        counts[o["invoice_kind"]][o["result"]][min(n - 1, line.bucket(o["t"]))] += 1
    points = [OcrPoint(line.x(o["t"]), o["size_bytes"], o["latency_ms"], o["invoice_kind"], o["result"])
              for o in data.ocr]
    kept = [p for p in points if p.kind != "normal"]
    normal = [p for p in points if p.kind == "normal"]
    room = min(len(normal), max(0, MAX_SCATTER - len(kept)))
    kept += [normal[i * len(normal) // room] for i in range(room)]
    return OcrSeries(
        x=[i * line.bucket_s + line.bucket_width(i) / 2 for i in range(n)],
        counts={kind: dict(by_result) for kind, by_result in counts.items()},
        points=kept,
        total=len(points),
    )


def token_matrix(data: RunData) -> TokenMatrix | None:
    """Each case × target with its worst result; None when no token was presented."""
    if not data.tokens:
        return None
    grouped: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
    for tok in data.tokens:
        status = str(tok["status"]) if tok["status"] is not None else "none"
        grouped[(case_name(tok["case_id"], tok["target"]), tok["target"])].append((tok["result"], status))
    rank = {name: i for i, name in enumerate(TOKEN_RESULT_ORDER)}
    cells = {}
    for key, outcomes in grouped.items():
        worst = min((r for r, _ in outcomes), key=lambda r: rank.get(r, len(rank)))
        cells[key] = TokenCell(worst, sorted({s for _, s in outcomes}), len(outcomes))
    cases = sorted({c for c, _ in grouped}, key=lambda c: ("control" in c, c))
    return TokenMatrix(cases, sorted({t for _, t in grouped}), cells)


def case_name(case_id: str, target: str) -> str:
    """The forged case without its target, as a matrix row (the columns are the targets).

    ``alg_none_lower__negocio`` becomes ``alg_none_lower``; a cross-agent pair
    ``cross_agent__ml_to_negocio`` becomes ``cross_agent (from ml)``.
    """
    pair = f"_to_{target}"
    if case_id.endswith(pair) and "__" in case_id:
        attack, issuer = case_id[: -len(pair)].rsplit("__", 1)
        return f"{attack} (from {issuer})"
    own = f"__{target}"
    return case_id[: -len(own)] if case_id.endswith(own) and len(case_id) > len(own) else case_id
