"""From a results directory and a rule set to a ``Verdict``: judge every rule, then decide."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from analysis import _rules, _windows  # noqa: F401  (declares every rule kind: @rule_kind)
from analysis._judge import judge_rule
from analysis._load import RunData, load_results
from analysis._ruleset import RuleSet
from analysis._sketches import quantile_ms
from analysis._verdict import FindingOut, RequestRow, RunInfo, Verdict, decide

_END_SEVERITY = ("completed", "aborted", "interrupted", "failed")
PERCENTILES = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99}


def evaluate(results: Path | RunData, rules: RuleSet) -> Verdict:
    """Judge a results directory (or data already loaded) against ``rules``."""
    data = results if isinstance(results, RunData) else load_results(results)
    judged = [judge_rule(rule_id, rule, data) for rule_id, rule in rules.rules.items()]
    verdict, code, reasons = decide(judged)
    return Verdict(
        verdict=verdict, exit_code=code, reasons=reasons, run=run_info(data), rules=judged,
        findings=[FindingOut(id=f["id"], section=f["section"], severity=f["severity"], title=f["title"],
                             evidence=f["evidence"], reference=f["reference"]) for f in data.findings],
        requests=request_rows(data), notes=notes(data),
    )


def run_info(data: RunData) -> RunInfo:
    """What was run, from the best run header, and how it ended (the worst producer end)."""
    header = data.header()
    settings: dict[str, Any] = dict(header["settings"]) if header else {}
    versions = header["versions"] if header else {}
    contract = settings.get("contract")
    reasons = [e["reason"] for e in data.ends]
    return RunInfo(
        run_id=header["run_id"] if header else None, results_dir=str(data.results_dir),
        profile=header["profile"] if header else None,
        contract=contract if contract in ("intended", "as-built") else None,
        scenario=header["scenario"] if header else None, targets=header["targets"] if header else {},
        started_at=data.start, ended_at=data.end, duration_s=data.duration_s,
        end_reason=max(reasons, key=_END_SEVERITY.index) if reasons else None,
        stagegate_version=versions.get("stagegate"), git_commit=versions.get("git_commit") or versions.get("git"),
        settings=settings,
    )


def request_rows(data: RunData) -> list[RequestRow]:
    """Per request name: counts by outcome and percentiles of the merged sketch."""
    duration = data.duration_s or 0.0
    rows = []
    for series in data.series.values():
        sketch = data.sketch(series.name)
        quantiles = {key: round(v, 3) if (v := quantile_ms(sketch, q)) is not None else None
                     for key, q in PERCENTILES.items()}
        rows.append(RequestRow(
            name=series.name, service=series.service, traffic=series.traffic, count=series.count,
            ok=series.outcome("ok"), errors=series.outcome("error"), expected=series.outcome("expected"),
            transport=series.outcome("transport"),
            max_ms=series.max_ms, rps=round(series.count / duration, 3) if duration else 0.0, **quantiles,
        ))
    return rows


def notes(data: RunData) -> list[str]:
    """Stream problems as ``file:line: problem`` lines, producers that never ended, earlier segments."""
    found = [str(p) for p in data.problems]
    if data.segments_set_aside:
        found.append(f"{data.segments_set_aside} earlier segment(s) set aside: the Locust run was stopped and "
                     "started again; only the newest start is judged")
    missing = len({h["producer"] for h in data.headers}) - len(data.ends)
    if missing > 0:
        found.append(f"{missing} producer(s) wrote a run_header but no run_end: the results stop early")
    return found
