"""``stagegate analyze RESULTS_DIR``: judge a results directory and write verdict.json, junit.xml,
summary.md and report.html; exit with the verdict's code."""

from __future__ import annotations

import argparse
from collections.abc import Callable
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
from stagegate_core.errors import VERDICT_EPILOG

STATUS_STYLE = {"PASS": "green", "WARN": "yellow", "FAIL": "bold red", "NO_DATA": "magenta"}
VERDICT_STYLE = {"PROMOTE": "bold green", "HOLD": "bold yellow", "ROLLBACK": "bold red"}
STATUS_ORDER = {"FAIL": 0, "NO_DATA": 1, "WARN": 2, "PASS": 3}


def number_from(low: float, *, inclusive: bool) -> Callable[[str], float]:
    """An argparse type: a number above ``low`` (or equal to it when ``inclusive``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not (value >= low if inclusive else value > low):
            raise argparse.ArgumentTypeError(f"must be {'>=' if inclusive else '>'} {low:g} (got {text})")
        return value

    return parse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "analyze", help="judge a results directory: PROMOTE, HOLD or ROLLBACK",
        description="Judge the results stream of a run against the rules file (default: the checklist's "
                    "completion criteria, rollback triggers and alert level), print the rules table and "
                    "write verdict.json, junit.xml, summary.md and report.html.",
        epilog=VERDICT_EPILOG,
    )
    parser.add_argument("results_dir", type=Path, metavar="RESULTS_DIR", help="directory holding the *.jsonl streams")
    parser.add_argument("--rules", type=Path, metavar="FILE",
                        help="rules file (TOML; default: the shipped analysis/rules/default.toml)")
    parser.add_argument("--require-rps", type=number_from(0, inclusive=False), metavar="N",
                        help="step-shape run: HOLD unless the capacity knee reaches N requests per second")
    parser.add_argument("--out", type=Path, metavar="DIR", help="where to write the reports (default: RESULTS_DIR)")
    parser.set_defaults(handler=_analyze)


def _analyze(args: argparse.Namespace) -> int:
    return judge(args.results_dir, rules_path=args.rules, require_rps=args.require_rps, out=args.out).exit_code


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
