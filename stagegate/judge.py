"""Judge a results directory and print the verdict: what ``stagegate analyze`` and the gate share.

The CLI layer (it prints with rich), but no command: ``gate.py`` and the command modules call it.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from analysis import (
    Verdict,
    analyze_capacity,
    evaluate,
    load_results,
    load_rules,
    with_capacity,
    write_reports,
)
from analysis._capacity import has_stages

STATUS_STYLE = {"PASS": "green", "WARN": "yellow", "FAIL": "bold red", "NO_DATA": "magenta"}
VERDICT_STYLE = {"PROMOTE": "bold green", "HOLD": "bold yellow", "ROLLBACK": "bold red"}
STATUS_ORDER = {"FAIL": 0, "NO_DATA": 1, "WARN": 2, "PASS": 3}


def judge(results_dir: Path, *, rules_path: Path | None = None, require_rps: float | None = None,
          out: Path | None = None, console: Console | None = None) -> Verdict:
    """Judge a results directory, write its reports and print the verdict (``analyze`` and ``run``)."""
    rules = load_rules(rules_path)
    data = load_results(results_dir)
    verdict = evaluate(data, rules)
    if require_rps is not None or has_stages(data):
        verdict = with_capacity(verdict, analyze_capacity(data, rules, require_rps))
    written = write_reports(verdict, out or results_dir, data)
    print_verdict(verdict, written, console)
    return verdict


def print_verdict(verdict: Verdict, written: list[Path], console: Console | None = None) -> None:
    """The rules table, failing ones first, then the verdict with its reasons, notes and files."""
    console = console or Console()
    table = Table(title=f"stagegate: {verdict.run.results_dir}", show_lines=False)
    for column in ("status", "rule", "role", "summary"):
        table.add_column(column, overflow="fold")
    for rule in sorted(verdict.rules, key=lambda r: STATUS_ORDER[r.status]):
        table.add_row(f"[{STATUS_STYLE[rule.status]}]{rule.status}[/]", rule.id, rule.role, rule.summary)
    console.print(table)
    if verdict.capacity is not None:
        cap = verdict.capacity
        knee = f"knee {cap.knee_users} users at {cap.knee_rps} req/s" if cap.knee_users else "no step held every SLO"
        above = f"broken above by {cap.broken_by}" if cap.broken_by else "no step broke an SLO"
        console.print(f"capacity: {knee}; {above}"
                      + (f"; required {cap.require_rps:g} req/s: {'pass' if cap.passed else 'FAIL'}"
                         if cap.require_rps is not None else ""), soft_wrap=True)
    for note in verdict.notes:
        console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    console.print(f"[{VERDICT_STYLE[verdict.verdict]}]{verdict.verdict}[/] (exit {verdict.exit_code})", soft_wrap=True)
    for reason in verdict.reasons:
        console.print(f"  - {reason}", markup=False, highlight=False, soft_wrap=True)
    for path in written:
        console.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)
