"""The report's charts: matplotlib figures rendered to inline SVG with no script and no URL.

matplotlib is used through ``Figure`` objects only (never ``pyplot``), so drawing keeps no global
state and needs no display. Text stays text (``svg.fonttype = none``), which keeps the SVG small
and searchable; the XML prolog, the DTD reference and the namespace declarations are dropped
because an SVG inline in HTML needs none of them, so the page holds no URL that is not the run's.
Each chart gets its own hash salt, so the ids of two charts on one page never collide.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from analysis._reports._html_series import (
    TOKEN_RESULT_ORDER,
    ChaosSpan,
    Lane,
    OcrSeries,
    Timeline,
    TokenMatrix,
    TrafficSeries,
)
from analysis._verdict import Capacity, Comparison

WIDTH_IN = 11.0
COLOURS = {
    "ok": "#2f6db5", "error": "#c62828", "other": "#9e9e9e", "alert": "#e08600", "rollback": "#c62828",
    "chaos": "#7b1fa2", "up": "#43a047", "down": "#d32f2f", "knee": "#2e7d32",
}
OCR_COLOURS = {
    "processed": "#43a047", "timeout_ok": "#1e88e5", "timeout_late": "#fb8c00", "body_limit": "#8e24aa",
    "rejected": "#757575", "failure": "#d32f2f",
}
TOKEN_COLOURS = {
    "rejected": "#43a047", "wrong_rejection": "#fb8c00", "breach": "#d32f2f", "error": "#616161",
    "control_ok": "#1e88e5", "control_refused": "#fdd835",
}
VERDICT_COLOURS = {"PROMOTE": "#1b7f3b", "HOLD": "#b26a00", "ROLLBACK": "#b71c1c"}
CHANGE_COLOURS = {"regression": "#d32f2f", "improvement": "#43a047", "no_change": "#9e9e9e"}
DESCRIPTIONS = {
    "chart-rps": "Requests per second over the run, normal traffic by outcome",
    "chart-error-rate": "Error rate of normal traffic over the run, with the rules' levels",
    "chart-p95": "p95 latency of normal traffic over the run, with the rules' limit",
    "chart-health": "Health of each service over the run",
    "chart-ocr-outcomes": "Invoice uploads per time bucket by outcome",
    "chart-ocr-scatter": "Invoice upload size against latency, with the OCR timeout",
    "chart-jwt": "Forged token cases by target agent, coloured by result",
    "chart-capacity": "Throughput and p95 per user step, with the knee",
    "chart-comparison": "Latency shift per request name against the baseline",
    "chart-trend": "p95 and error rate across runs, coloured by verdict",
}
"""Alt text of each chart (its ``aria-label``), by the name the page and tests find it by."""
_RC: dict[str, Any] = {
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Liberation Sans", "Arial"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "legend.fontsize": 8,
    "legend.frameon": False,
}
_PROLOG = re.compile(r"\A.*?(?=<svg)", re.DOTALL)
_NAMESPACES = re.compile(r'\s+xmlns(:xlink)?="[^"]*"')
_SIZE = re.compile(r'<svg width="[^"]*" height="[^"]*"')


@contextmanager
def _figure(salt: str, height_in: float) -> Iterator[tuple[Figure, list[str]]]:
    """A figure drawn under the report's style; on leaving the block its cleaned SVG is ``out[0]``.

    ``salt`` names the chart (``data-chart``, alt text from ``DESCRIPTIONS``) and seeds its SVG ids.
    """
    out: list[str] = []
    with matplotlib.rc_context(cast(Any, {**_RC, "svg.hashsalt": salt})):  # rc keys are a Literal in stubs
        fig = Figure(figsize=(WIDTH_IN, height_in), layout="constrained")
        yield fig, out
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Creator": None, "Date": None, "Format": None,
                                                    "Type": None})
    svg = _NAMESPACES.sub("", _PROLOG.sub("", buffer.getvalue(), count=1), count=2)
    opening = f'<svg class="chart" data-chart="{salt}" role="img" aria-label="{DESCRIPTIONS[salt]}"'
    out.append(_SIZE.sub(opening, svg, count=1))


def clock(seconds: float, _pos: object = None) -> str:
    """Seconds since the start as ``m:ss`` (``h:mm:ss`` past an hour): the x axis of every time chart."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _time_axis(ax: Axes, line: Timeline, spans: Sequence[ChaosSpan]) -> None:
    """Shared x axis (time since start) with the chaos steps shaded and labelled."""
    ax.set_xlim(0, line.length_s)
    ax.set_axisbelow(True)
    ax.xaxis.set_major_formatter(FuncFormatter(clock))
    ax.set_xlabel("time since start (m:ss)")
    for span in spans:
        ax.axvspan(span.x0, max(span.x1, span.x0 + line.length_s / 400), color=COLOURS["chaos"],
                   alpha=0.14, lw=0, zorder=2.5)
        ax.text(span.x0, 0.98, " " + span.label + ("" if span.reverted else " (not reverted)"),
                transform=ax.get_xaxis_transform(), va="top", ha="left", fontsize=7,
                color=COLOURS["chaos"], clip_on=True)


def _legend(ax: Axes, handles: list[Any] | None = None, ncols: int = 4) -> None:
    """The legend above the plot, right-aligned, so it never hides data or a chaos label."""
    kwargs: dict[str, Any] = {"handles": handles} if handles is not None else {}
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=ncols, borderaxespad=0.3, **kwargs)


def _threshold(ax: Axes, value: float, colour: str, label: str) -> None:
    ax.axhline(value, color=colour, lw=1.2, ls="--", label=label)


def traffic_chart(series: TrafficSeries, line: Timeline, spans: Sequence[ChaosSpan]) -> str:
    """Requests per second: normal traffic stacked by outcome, other traffic as a line."""
    with _figure("chart-rps", 2.6) as (fig, out):
        ax = fig.add_subplot()
        ax.stackplot(series.x, series.normal_ok_rps, series.normal_error_rps,
                     colors=[COLOURS["ok"], COLOURS["error"]], alpha=0.85,
                     labels=["normal ok", "normal errors"], step="mid")
        if any(series.other_rps):
            ax.plot(series.x, series.other_rps, color=COLOURS["other"], lw=1,
                    label="other traffic (health, forged tokens, heavy invoices)", drawstyle="steps-mid")
        ax.set_ylabel("requests / s")
        ax.set_ylim(bottom=0)
        _time_axis(ax, line, spans)
        _legend(ax)
    return out[0]


def error_rate_chart(series: TrafficSeries, line: Timeline, spans: Sequence[ChaosSpan],
                     lines: Sequence[tuple[float, str, str]]) -> str:
    """Error rate of normal traffic with the alert and rollback levels as lines."""
    with _figure("chart-error-rate", 2.4) as (fig, out):
        ax = fig.add_subplot()
        ax.plot(series.x, [v if v is not None else float("nan") for v in series.error_rate],
                color=COLOURS["error"], lw=1.2, label="error rate (normal traffic)", drawstyle="steps-mid")
        top = max([v for v in series.error_rate if v is not None] + [value for value, _, _ in lines] + [0.01])
        for value, role, label in lines:
            _threshold(ax, value, COLOURS.get(role, COLOURS["alert"]), label)
        ax.set_ylim(0, min(1.0, top * 1.15))
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
        ax.set_ylabel("errors / requests")
        _time_axis(ax, line, spans)
        _legend(ax)
    return out[0]


def p95_chart(series: TrafficSeries, line: Timeline, spans: Sequence[ChaosSpan],
              lines: Sequence[tuple[float, str, str]], bucket_s: int) -> str:
    """p95 latency of normal traffic per bucket with the SLO line."""
    with _figure("chart-p95", 2.4) as (fig, out):
        ax = fig.add_subplot()
        ax.plot(series.x, [v if v is not None else float("nan") for v in series.p95_ms],
                color=COLOURS["ok"], lw=1.2, label=f"p95, normal traffic ({bucket_s} s buckets)",
                drawstyle="steps-mid")
        for value, role, label in lines:
            _threshold(ax, value, COLOURS.get(role, COLOURS["rollback"]), label)
        top = max([v for v in series.p95_ms if v is not None] + [value for value, _, _ in lines] + [1.0])
        ax.set_ylim(0, top * 1.15)
        ax.set_ylabel("ms")
        _time_axis(ax, line, spans)
        _legend(ax)
    return out[0]


def health_chart(lanes: Sequence[Lane], line: Timeline, spans: Sequence[ChaosSpan]) -> str:
    """One lane per health check, green while up and red while down."""
    with _figure("chart-health", 0.7 + 0.38 * len(lanes)) as (fig, out):
        ax = fig.add_subplot()
        for row, lane in enumerate(reversed(lanes)):
            for ok in (True, False):
                bars = [(x0, x1 - x0) for x0, x1, up in lane.segments if up is ok]
                ax.broken_barh(bars, (row - 0.35, 0.7), color=COLOURS["up" if ok else "down"], lw=0)
        ax.set_yticks(range(len(lanes)), [lane.check for lane in reversed(lanes)])
        ax.set_ylim(-0.6, len(lanes) - 0.4)
        ax.grid(axis="y", visible=False)
        _time_axis(ax, line, spans)
        _legend(ax, [Patch(color=COLOURS["up"], label="up"), Patch(color=COLOURS["down"], label="down")])
    return out[0]


def ocr_outcome_chart(series: OcrSeries, line: Timeline, spans: Sequence[ChaosSpan]) -> str:
    """Invoices per bucket stacked by outcome, one panel per invoice kind."""
    kinds = [k for k in ("normal", "heavy", "hostile") if k in series.counts]
    with _figure("chart-ocr-outcomes", 0.6 + 1.7 * len(kinds)) as (fig, out):
        axes = fig.subplots(len(kinds), 1, sharex=True, squeeze=False)[:, 0]
        for ax, kind in zip(axes, kinds, strict=True):
            bottom = [0] * len(series.x)
            for result, colour in OCR_COLOURS.items():
                counts = series.counts[kind].get(result)
                if counts is None:
                    continue
                ax.bar(series.x, counts, width=line.bucket_s, bottom=bottom, color=colour, label=result,
                       align="center", lw=0)
                bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
            ax.set_ylabel(f"{kind}\ninvoices")
            ax.set_ylim(0, max(bottom + [1]) * 1.15)
            ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
            _time_axis(ax, line, spans)
            _legend(ax, ncols=6)
            if ax is not axes[-1]:
                ax.set_xlabel("")
    return out[0]


def ocr_scatter_chart(series: OcrSeries, timeout_ms: float | None, timeout_label: str) -> str:
    """Upload size against latency, coloured by outcome, marker by invoice kind, timeout as a line."""
    markers = {"normal": "o", "heavy": "^", "hostile": "x"}
    with _figure("chart-ocr-scatter", 3.0) as (fig, out):
        ax = fig.add_subplot()
        for kind, marker in markers.items():
            for result, colour in OCR_COLOURS.items():
                pts = [p for p in series.points if p.kind == kind and p.result == result]
                if pts:
                    ax.scatter([p.size_bytes / 1e6 for p in pts], [p.latency_ms / 1000 for p in pts], s=18,
                               marker=marker, color=colour, label=f"{kind}: {result}", alpha=0.85, zorder=3)
        if timeout_ms is not None:
            _threshold(ax, timeout_ms / 1000, COLOURS["rollback"], timeout_label)
        top_s = max([p.latency_ms / 1000 for p in series.points] + [(timeout_ms or 0) / 1000, 1.0])
        ax.set_xlabel("upload size (MB)")
        ax.set_ylabel("latency (s)")
        ax.set_xlim(0, max([p.size_bytes / 1e6 for p in series.points] + [0.1]) * 1.05)
        ax.set_ylim(0, top_s * 1.12)
        _legend(ax)
    return out[0]


def token_matrix_chart(matrix: TokenMatrix) -> str:
    """Forged case × target agent, each cell coloured by the worst result and labelled with statuses."""
    order = {name: i for i, name in enumerate(TOKEN_RESULT_ORDER)}
    with _figure("chart-jwt", 0.9 + 0.28 * len(matrix.cases)) as (fig, out):
        ax = fig.add_subplot()
        for row, case in enumerate(matrix.cases):
            for col, target in enumerate(matrix.targets):
                cell = matrix.cells.get((case, target))
                if cell is None:
                    continue
                ax.add_patch(Rectangle(
                    (col - 0.48, row - 0.45), 0.96, 0.9, color=TOKEN_COLOURS.get(cell.result, "#bdbdbd")))
                ax.text(col, row, "/".join(cell.statuses), ha="center", va="center", fontsize=7,
                        color="black" if cell.result in ("control_refused", "wrong_rejection") else "white")
        ax.set_xlim(-0.5, len(matrix.targets) - 0.5)
        ax.set_ylim(len(matrix.cases) - 0.5, -0.5)
        ax.set_xticks(range(len(matrix.targets)), matrix.targets)
        ax.xaxis.tick_top()
        ax.set_yticks(range(len(matrix.cases)), matrix.cases)
        ax.grid(False)
        ax.tick_params(length=0)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        present = sorted({c.result for c in matrix.cells.values()}, key=lambda r: order.get(r, 99))
        fig.legend(handles=[Patch(color=TOKEN_COLOURS.get(r, "#bdbdbd"), label=r.replace("_", " "))
                            for r in present], loc="outside lower center", ncols=len(present))
    return out[0]


def capacity_chart(capacity: Capacity) -> str:
    """Throughput and p95 per user step, failed steps in red, the knee and required rps as lines."""
    steps = capacity.steps
    with _figure("chart-capacity", 3.0) as (fig, out):
        ax = fig.add_subplot()
        users = [s.users for s in steps]
        ax.plot(users, [s.rps for s in steps], color=COLOURS["ok"], lw=1.5, label="requests / s")
        ax.scatter(users, [s.rps for s in steps], zorder=3, s=30,
                   c=[COLOURS["up"] if s.ok else COLOURS["down"] for s in steps])
        if capacity.knee_users is not None:
            ax.axvline(capacity.knee_users, color=COLOURS["knee"], ls="--",
                       label=f"knee: {capacity.knee_users} users, {capacity.knee_rps or 0:.0f} req/s")
        if capacity.require_rps is not None:
            required = capacity.require_rps
            _threshold(ax, required, COLOURS["rollback"], f"required {required:g} req/s")
        ax.set_xlabel("users")
        ax.set_ylabel("requests / s")
        ax.set_ylim(bottom=0)
        p95 = ax.twinx()
        p95.plot(users, [s.p95_ms if s.p95_ms is not None else float("nan") for s in steps],
                 color=COLOURS["alert"], lw=1, ls=":", marker=".", label="p95 (ms, right axis)")
        p95.set_ylabel("p95 ms")
        p95.set_ylim(bottom=0)
        p95.grid(False)
        handles = ax.get_legend_handles_labels()[0] + p95.get_legend_handles_labels()[0]
        _legend(ax, handles)
    return out[0]


def comparison_chart(comparison: Comparison) -> str:
    """Median latency shift per request name against the baseline, coloured by the judgement."""
    rows = [r for r in comparison.rows if r.shift_ms is not None]
    with _figure("chart-comparison", 0.8 + 0.26 * max(1, len(rows))) as (fig, out):
        ax = fig.add_subplot()
        ax.barh(range(len(rows)), [r.shift_ms or 0.0 for r in rows],
                color=[CHANGE_COLOURS[r.change] for r in rows])
        ax.set_yticks(range(len(rows)), [r.name for r in rows])
        ax.invert_yaxis()
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel("latency shift against the baseline (ms, Hodges-Lehmann)")
        _legend(ax, [Patch(color=c, label=k.replace("_", " ")) for k, c in CHANGE_COLOURS.items()])
    return out[0]



def trend_chart(labels: Sequence[str], p95_ms: Sequence[float | None], error_rate: Sequence[float | None],
                verdicts: Sequence[str]) -> str:
    """Runs oldest to newest: the judged p95 of normal traffic above, error rate below, points coloured by verdict."""
    with _figure("chart-trend", 3.4) as (fig, out):
        top, bottom = fig.subplots(2, 1, sharex=True)
        xs = list(range(len(labels)))
        colours = [VERDICT_COLOURS.get(v, "#9e9e9e") for v in verdicts]
        panels = ((top, p95_ms, "p95 ms\n(normal, judged)"), (bottom, error_rate, "error rate\n(normal)"))
        for ax, values, ylabel in panels:
            ys = [v if v is not None else float("nan") for v in values]
            ax.plot(xs, ys, color="#8c959f", lw=1, zorder=2)
            ax.scatter(xs, ys, c=colours, s=40, zorder=3)
            ax.set_ylabel(ylabel)
            ax.set_ylim(bottom=0, top=max([v for v in values if v is not None] + [0.0]) * 1.2 or 1)
            ax.set_xlim(-0.5, len(xs) - 0.5)
        bottom.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
        bottom.set_xticks(xs, labels, rotation=20, ha="right", fontsize=7)
        _legend(top, [Patch(color=c, label=v) for v, c in VERDICT_COLOURS.items()], ncols=3)
    return out[0]
