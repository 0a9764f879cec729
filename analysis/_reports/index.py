"""``index.html`` of a reports folder: every run in it, newest first, with its verdict and key figures.

Usage::

    write_index(Path("reports"))   # reports/index.html, linking reports/<run>/report.html

A run is a subdirectory holding a ``verdict.json``. The index reads only those files (never the
streams), so it stays fast over hundreds of runs and keeps working for runs whose stream files were
pruned. A ``verdict.json`` that cannot be read is listed with the reason instead of being skipped,
so a broken run is noticed. Links are relative: the folder can be moved or served as CI artifacts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from markupsafe import Markup
from pydantic import ValidationError

from analysis._errors import ResultsDirInvalid
from analysis._reports import _html_charts as charts
from analysis._reports.html import environment
from analysis._verdict import RequestRow, RuleResult, Verdict
from stagegate_core.atomicfile import write_text_atomic

INDEX_NAME = "index.html"
P95_RULE = "p95_normal"
"""The rule of the default rules file whose value is the judged p95 of normal traffic."""


@dataclass(frozen=True)
class RunRow:
    """One run of the index; ``problem`` is set (and ``verdict`` None) when its verdict.json is unreadable."""

    name: str
    link: str
    sort_time: float
    verdict: Verdict | None = None
    problem: str = ""

    @property
    def normal_rps(self) -> float | None:
        rows = self._normal()
        return sum(r.rps for r in rows) if rows else None

    @property
    def error_rate(self) -> float | None:
        judged = sum(r.ok + r.errors for r in self._normal())  # answered normal requests: no-answer ones say nothing
        return sum(r.errors for r in self._normal()) / judged if judged else None

    @property
    def p95_rule(self) -> RuleResult | None:
        """The rule that judged the p95 of normal traffic: ``p95_normal``, else the first statistic rule
        on ``p95_ms`` of normal traffic alone (a rules file of one's own may name it otherwise)."""
        if self.verdict is None:
            return None
        judged = [r for r in self.verdict.rules if r.kind == "statistic" and r.threshold.get("stat") == "p95_ms"
                  and r.threshold.get("traffic") == ["normal"]]
        return next((r for r in self.verdict.rules if r.id == P95_RULE), None) or next(iter(judged), None)

    @property
    def judged_p95_ms(self) -> float | None:
        """The p95 of normal traffic the verdict judged (its rule's value); None when no rule judged one."""
        rule = self.p95_rule
        value = rule.evidence.values.get("p95_ms") if rule is not None else None
        return float(value) if isinstance(value, int | float) else None

    @property
    def reasons(self) -> list[str]:
        return list(self.verdict.reasons) if self.verdict else []

    def _normal(self) -> list[RequestRow]:
        return [r for r in self.verdict.requests if r.traffic == "normal"] if self.verdict else []


def write_index(reports_dir: Path) -> Path:
    """Write ``reports_dir/index.html`` listing every run subdirectory; returns its path.

    Raises ``ResultsDirInvalid`` when ``reports_dir`` is missing or not a directory.
    """
    reports_dir = Path(reports_dir)
    if not reports_dir.is_dir():
        raise ResultsDirInvalid(f"{reports_dir}: not a reports directory (missing or not a directory)")
    rows = sorted(runs(reports_dir), key=lambda r: (r.sort_time, r.name), reverse=True)
    html = environment().get_template("index.html.j2").render(
        rows=rows, folder=reports_dir.resolve().name, trend=trend(rows),
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))
    path = reports_dir / INDEX_NAME
    write_text_atomic(path, html)
    return path


def trend(rows: list[RunRow]) -> Markup | None:
    """The trend chart over the readable runs, oldest first; None with fewer than two."""
    readable = [r for r in reversed(rows) if r.verdict is not None]
    if len(readable) < 2:
        return None
    return Markup(charts.trend_chart(
        [r.name for r in readable], [r.judged_p95_ms for r in readable], [r.error_rate for r in readable],
        [r.verdict.verdict for r in readable if r.verdict is not None]))


def runs(reports_dir: Path) -> list[RunRow]:
    """A row per subdirectory of ``reports_dir`` that holds a ``verdict.json``."""
    found = []
    for folder in sorted(p for p in reports_dir.iterdir() if p.is_dir()):
        verdict_file = folder / "verdict.json"
        if not verdict_file.is_file():
            continue
        report = folder / "report.html"
        link = f"{folder.name}/{report.name if report.is_file() else verdict_file.name}"
        mtime = verdict_file.stat().st_mtime
        try:
            verdict = Verdict.model_validate_json(verdict_file.read_bytes())
        except (OSError, ValidationError) as exc:
            found.append(RunRow(folder.name, link, mtime, problem=_why(exc)))
            continue
        start = verdict.run.started_at
        found.append(RunRow(folder.name, link, start if start is not None else mtime, verdict))
    return found


def _why(exc: OSError | ValidationError) -> str:
    if isinstance(exc, OSError):
        return f"verdict.json cannot be read ({exc.strerror or exc})"
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "file"
    return f"verdict.json is not a stagegate verdict ({where}: {first['msg']})"
