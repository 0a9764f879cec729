"""``report.html``: one self-contained page a release engineer reads in a minute.

Usage::

    write(verdict, load_results(results_dir), results_dir / "report.html")

The page is rendered from the ``Verdict`` (what was decided and why) and the ``RunData`` (what
happened over time). It opens offline from a CI artifact: charts are inline SVG from matplotlib,
styles are inline, there is no script and no URL except the run's own target URLs as text and
relative links to the files beside it (Locust's HTML report and CSVs, ``verdict.json``...).
A part without data says what is missing instead of drawing an empty chart.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from analysis._judge import RULE_KINDS
from analysis._load import RunData
from analysis._reports import _html_charts as charts
from analysis._reports import _html_series as series
from analysis._verdict import RuleResult, Verdict
from stagegate_core.atomicfile import write_text_atomic
from stagegate_core.stream import SEVERITIES

TEMPLATES = Path(__file__).parent / "templates"
STATUS_ORDER = {"FAIL": 0, "NO_DATA": 1, "WARN": 2, "PASS": 3}
ROLE_ORDER = {"rollback": 0, "completion": 1, "alert": 2}
SEVERITY_ORDER = {severity: rank for rank, severity in enumerate(SEVERITIES)}
CHECKLIST_OCR_TIMEOUT_S = 30.0
"""The checklist's ``OCR_TIMEOUT_SECONDS``, drawn (and labelled as such) when the run names none."""
SIBLING_OUTPUTS = ("verdict.json", "junit.xml", "summary.md")
_SECRET_KEY = re.compile(r"secret|token|passw|api_?key|auth|credential", re.IGNORECASE)


@dataclass(frozen=True)
class Chart:
    """One chart of the page: its SVG, or the sentence saying why it is not there."""

    id: str
    title: str
    svg: Markup | None
    missing: str = ""
    caption: str = ""


def write(verdict: Verdict, run_data: RunData | None, path: Path) -> None:
    """Render the report of ``verdict`` (with ``run_data`` for the charts) to ``path``."""
    path = Path(path)
    html = render(verdict, run_data, siblings=_siblings(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, html)


def render(verdict: Verdict, run_data: RunData | None, *, siblings: dict[str, list[str]]) -> str:
    """The report as a string; ``siblings`` are the relative links to files beside it."""
    line = series.timeline(run_data) if run_data is not None else None
    template = environment().get_template("report.html.j2")
    return template.render(
        v=verdict,
        run=verdict.run,
        targets={name: safe_url(url) for name, url in verdict.run.targets.items()},
        settings=_safe_settings(verdict.run.settings),
        rules=sorted(verdict.rules, key=_rule_order),
        status_counts=_status_counts(verdict.rules),
        sections=_findings_by_section(verdict),
        requests=sorted(verdict.requests, key=lambda r: (r.traffic != "normal", r.traffic, r.name)),
        time_charts=_time_charts(verdict, run_data, line),
        ocr_charts=_ocr_charts(verdict, run_data, line),
        jwt_chart=_jwt_chart(run_data),
        capacity_chart=_capacity_chart(verdict),
        comparison_chart=_comparison_chart(verdict),
        start=line.start if line else verdict.run.started_at,
        problems=[str(p) for p in run_data.problems] if run_data is not None else [],
        coverage=coverage(run_data),
        siblings=siblings,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    )


def coverage(data: RunData | None) -> list[tuple[str, int]]:
    """How many records of each part the run holds, so a reader sees at once what is missing."""
    if data is None:
        return []
    return [("request windows", len(data.windows)), ("health", len(data.health)), ("chaos", len(data.chaos)),
            ("OCR uploads", len(data.ocr)), ("tokens", len(data.tokens)), ("smoke checks", len(data.smoke)),
            ("ledger", len(data.ledger)), ("metrics", len(data.metrics)), ("findings", len(data.findings))]


def environment() -> Environment:
    """The report templates, autoescaped, with the formatting filters both pages use."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(when=format_time, duration=format_duration, ms=format_ms, pct=format_pct,
                       clock=format_clock, value=format_value, short=shorten, nonempty=nonempty,
                       item_line=item_line, nonempty_counts=nonempty_counts)
    return env


def format_time(epoch: float | None) -> str:
    if epoch is None:
        return "unknown"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes} min {secs} s"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def format_ms(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def format_pct(value: float | None, decimals: int = 2) -> str:
    return "–" if value is None else f"{value * 100:.{decimals}f} %"


def format_clock(epoch: float, start: float | None) -> str:
    """A time as ``m:ss`` since the run's start (the charts' x axis), or absolute when unknown."""
    return charts.clock(epoch - start) if start is not None else format_time(epoch)


def format_value(value: Any) -> str:
    """A threshold or evidence value as a person writes it: 0.05, "normal, heavy_invoice", "a=1, b=2"."""
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value) or "none"
    if isinstance(value, dict):
        return ", ".join(f"{k}={format_value(v)}" for k, v in value.items()) or "none"
    return str(value)


def item_line(item: dict[str, Any], start: float | None) -> str:
    """One offending case or request as ``key: value · key: value``, times as ``m:ss`` since the start."""
    parts = []
    for key, value in item.items():
        if key in ("t", "start", "end") and isinstance(value, float) and value > 1e9:
            value = format_clock(value, start)
        parts.append(f"{key}: {shorten(format_value(value), 120)}")
    return shorten(" · ".join(parts), 400)


def shorten(text: str, limit: int = 200) -> str:
    """Evidence cut for a table cell (response bodies can be kilobytes); verdict.json keeps it whole."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def nonempty(mapping: dict[str, Any]) -> dict[str, Any]:
    """The entries worth showing: a threshold's unset options (None, [], {}) are noise to a reader."""
    return {k: v for k, v in mapping.items() if v is not None and v != [] and v != {} and v != ""}


def nonempty_counts(counts: Any) -> dict[str, int]:
    """The non-zero counts of an evidence ``set_aside`` value (``{"windows": 3, "requests": 0}``); {} otherwise."""
    if not isinstance(counts, dict):
        return {}
    return {str(k): int(v) for k, v in counts.items() if isinstance(v, int | float) and v}


def safe_url(url: str) -> str:
    """A target URL without user info, query or fragment: what a report may show."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(unparseable URL)"
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _safe_settings(settings: dict[str, Any]) -> dict[str, str]:
    return {key: "(hidden)" if _SECRET_KEY.search(key) else format_value(value)
            for key, value in sorted(settings.items())}


def _rule_order(rule: RuleResult) -> tuple[int, int, str]:
    return STATUS_ORDER.get(rule.status, 9), ROLE_ORDER.get(rule.role, 9), rule.id


def _status_counts(rules: list[RuleResult]) -> dict[str, int]:
    counts = {status: 0 for status in STATUS_ORDER}
    for rule in rules:
        counts[rule.status] = counts.get(rule.status, 0) + 1
    return {status: n for status, n in counts.items() if n}


def _section_key(section: str) -> tuple[int, str]:
    number = re.search(r"\d+", section)
    return (int(number.group()) if number else 10_000, section)


def _findings_by_section(verdict: Verdict) -> list[tuple[str, list[Any]]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for finding in verdict.findings:
        grouped[finding["section"] or "(no section)"].append(finding)
    return [(section, sorted(items, key=lambda f: (SEVERITY_ORDER.get(f["severity"], 9), f["id"])))
            for section, items in sorted(grouped.items(), key=lambda kv: _section_key(kv[0]))]


def error_rate_lines(verdict: Verdict) -> list[tuple[float, str, str]]:
    """Lines for the error-rate chart (the kinds that declare ``chart`` ``error-rate``: sustained)."""
    return chart_lines(verdict, "error-rate")


def p95_lines(verdict: Verdict) -> list[tuple[float, str, str]]:
    """Lines for the p95 chart (the kinds that declare ``chart`` ``p95``: p95 statistics)."""
    return chart_lines(verdict, "p95")


def chart_lines(verdict: Verdict, chart: str) -> list[tuple[float, str, str]]:
    """``(value, role, label)`` per rule on normal traffic whose kind declares a line on ``chart``
    (``@rule_kind(..., chart=ChartLine(...))``): the limits the verdict used.

    The values come from the rules file the run was judged with, never from constants here.
    """
    found = set()
    for rule in verdict.rules:
        declared = RULE_KINDS.get(rule.kind)
        line = declared.chart if declared is not None else None
        if line is None or line.chart != chart:
            continue
        t = rule.threshold
        value = t.get(line.key)
        if not isinstance(value, int | float) or "normal" not in t.get("traffic", []):
            continue
        if any(t.get(k) != v for k, v in line.where.items()):
            continue
        found.add((float(value), rule.role, f"{rule.id} ({rule.role}): {line.shown(value)}"))
    return sorted(found)


TIME_CHARTS = {
    "rps": "Requests per second",
    "error-rate": "Error rate of normal traffic",
    "p95": "p95 latency of normal traffic",
    "health": "Health checks",
}


def _time_charts(verdict: Verdict, data: RunData | None, line: series.Timeline | None) -> list[Chart]:
    """The charts over time, in ``TIME_CHARTS`` order, each drawn or saying what is missing."""
    if data is None or line is None:
        why = "No stream records in this results directory, so there is nothing to draw over time."
        return [Chart(key, title, None, why) for key, title in TIME_CHARTS.items()]
    spans = series.chaos_spans(data, line)
    traffic = series.traffic(data, line)
    if traffic is None:
        why = "No request windows were recorded (no locust.jsonl, or the run sent no traffic)."
        charts_ = [Chart(key, TIME_CHARTS[key], None, why) for key in ("rps", "error-rate", "p95")]
    else:
        charts_ = _traffic_charts(verdict, traffic, line, spans)
    return [*charts_, _health_chart(series.lanes(data, line), line, spans)]


def _traffic_charts(verdict: Verdict, traffic: series.TrafficSeries, line: series.Timeline,
                    spans: list[series.ChaosSpan]) -> list[Chart]:
    bucket = f"Each point covers {line.bucket_s} s; the tables below keep exact values."
    errors, p95 = error_rate_lines(verdict), p95_lines(verdict)
    highest = max((v for v in traffic.p95_ms if v is not None), default=None)
    return [
        Chart("rps", TIME_CHARTS["rps"], Markup(charts.traffic_chart(traffic, line, spans)),
              caption=bucket + ("" if spans else " No chaos step in this run.")),
        Chart("error-rate", TIME_CHARTS["error-rate"],
              Markup(charts.error_rate_chart(traffic, line, spans, errors)),
              caption=bucket + ("" if errors else " No error-rate rule in this verdict, so no line.")),
        Chart("p95", TIME_CHARTS["p95"], Markup(charts.p95_chart(traffic, line, spans, p95, line.bucket_s)),
              caption=f"Highest point {format_ms(highest)} ms. {bucket}"
              + ("" if p95 else " No p95 rule in this verdict, so no line.")),
    ]


def _health_chart(lanes: list[series.Lane], line: series.Timeline, spans: list[series.ChaosSpan]) -> Chart:
    if not lanes:
        why = "No health records: the health watcher did not run."
        return Chart("health", TIME_CHARTS["health"], None, why)
    down = ", ".join(f"{lane.check} down {format_duration(lane.down_s)}" for lane in lanes if lane.down_s)
    return Chart("health", TIME_CHARTS["health"], Markup(charts.health_chart(lanes, line, spans)),
                 caption=down or "Every check stayed up.")


def ocr_timeout(verdict: Verdict) -> tuple[float, str]:
    """The OCR timeout in ms and its source: the run's ``ocr_timeout_s`` setting, else the checklist."""
    configured = verdict.run.settings.get("ocr_timeout_s")
    if isinstance(configured, int | float):
        return configured * 1000, f"OCR timeout {configured:g} s (run settings)"
    return CHECKLIST_OCR_TIMEOUT_S * 1000, f"OCR timeout {CHECKLIST_OCR_TIMEOUT_S:g} s (checklist default)"


def _ocr_charts(verdict: Verdict, data: RunData | None, line: series.Timeline | None) -> list[Chart]:
    ocr = series.ocr(data, line) if data is not None and line is not None else None
    if ocr is None:
        why = "No invoice uploads were recorded (no ocr records): the OCR route was not exercised."
        return [Chart("ocr-outcomes", "OCR outcomes over time", None, why),
                Chart("ocr-scatter", "OCR size against latency", None, why)]
    assert line is not None and data is not None
    timeout_ms, label = ocr_timeout(verdict)
    sampled = "" if len(ocr.points) == ocr.total else f" {len(ocr.points)} of {ocr.total} invoices drawn."
    return [
        Chart("ocr-outcomes", "OCR outcomes over time",
              Markup(charts.ocr_outcome_chart(ocr, line, series.chaos_spans(data, line))),
              caption=f"{ocr.total} uploads; each bar covers {line.bucket_s} s."),
        Chart("ocr-scatter", "OCR size against latency",
              Markup(charts.ocr_scatter_chart(ocr, timeout_ms, label)), caption=label + "." + sampled),
    ]


def _jwt_chart(data: RunData | None) -> Chart:
    matrix = series.token_matrix(data) if data is not None else None
    if matrix is None:
        return Chart("jwt", "Forged tokens", None,
                     "No token records: no forged or control token was presented in this run.")
    counts = ", ".join(f"{n} {result.replace('_', ' ')}" for result, n in sorted(matrix.counts().items()))
    return Chart("jwt", "Forged tokens: case × target agent", Markup(charts.token_matrix_chart(matrix)),
                 caption=f"Cells show the worst result and the statuses received ({counts}).")


def _capacity_chart(verdict: Verdict) -> Chart | None:
    if verdict.capacity is None or not verdict.capacity.steps:
        return None
    return Chart("capacity", "Throughput and p95 per user step",
                 Markup(charts.capacity_chart(verdict.capacity)))


def _comparison_chart(verdict: Verdict) -> Chart | None:
    if verdict.comparison is None or not verdict.comparison.rows:
        return None
    return Chart("comparison", "Latency shift per request name",
                 Markup(charts.comparison_chart(verdict.comparison)))


def _siblings(path: Path) -> dict[str, list[str]]:
    """Relative links to the files beside ``path``: Locust's report and CSVs, outputs, streams, logs."""
    folder = path.parent
    files = sorted(p.name for p in folder.iterdir() if p.is_file()) if folder.is_dir() else []
    mine = {path.name, "index.html"}
    return {
        "locust": [n for n in files if n.endswith((".html", ".csv")) and n not in mine],
        "outputs": [n for n in SIBLING_OUTPUTS if n in files],
        "streams": [n for n in files if n.endswith(".jsonl")],
        "logs": [n for n in files if n.endswith(".log")],
    }
