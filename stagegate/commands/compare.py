"""``stagegate compare BASELINE CURRENT``: latency and error-rate changes per request name."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from analysis import compare_runs, comparison_verdict, load_results, load_rules, write_reports
from stagegate._argtypes import directory_path, file_path
from stagegate.commands.analyze import number_from
from stagegate.judge import print_verdict
from stagegate_core.errors import VERDICT_EPILOG

CHANGE_STYLE = {"regression": "bold red", "improvement": "green", "no_change": "dim"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "compare", help="compare a run with a baseline run (regressions per request name)",
        description="Per request name: Mann-Whitney U test and Hodges-Lehmann shift on the latency "
                    "histograms, two-proportion test on the error rate. A significant change beyond the "
                    "tolerance is a regression (HOLD) or an improvement. Writes verdict.json, junit.xml, "
                    "summary.md and report.html.",
        epilog=VERDICT_EPILOG + " (PROMOTE: no regression; HOLD: a regression or too few requests)",
    )
    parser.add_argument("baseline", type=Path, metavar="BASELINE", help="results directory of the baseline run")
    parser.add_argument("current", type=Path, metavar="CURRENT", help="results directory of the run to judge")
    parser.add_argument("--tolerance", type=number_from(0, inclusive=True), metavar="RATIO",
                        help="relative latency shift still counted as no change (default from the rules "
                             "file's [compare] table: 0.10)")
    parser.add_argument("--rules", type=file_path, metavar="FILE", help="rules file with a [compare] table")
    parser.add_argument("--out", type=directory_path, metavar="DIR", help="where to write the reports (default: CURRENT/comparison)")
    parser.set_defaults(handler=_compare)


def _compare(args: argparse.Namespace) -> int:
    rules = load_rules(args.rules)
    baseline, current = load_results(args.baseline), load_results(args.current)
    comparison = compare_runs(baseline, current, rules, tolerance=args.tolerance)
    verdict = comparison_verdict(baseline, current, comparison)
    written = write_reports(verdict, args.out or args.current / "comparison", current)
    console = Console()
    table = Table(title=f"{args.baseline} → {args.current}")
    for column in ("request", "change", "shift ms", "shift", "p", "errors before → after", "error p"):
        table.add_column(column, overflow="fold")
    for row in comparison.rows:
        table.add_row(row.name, f"[{CHANGE_STYLE[row.change]}]{row.change}[/]", _num(row.shift_ms),
                      _num(row.shift_ratio, pct=True), _num(row.p_value),
                      f"{_num(row.error_rate_before, pct=True)} → {_num(row.error_rate_after, pct=True)}",
                      _num(row.error_p_value))
    console.print(table)
    print_verdict(verdict.model_copy(update={"rules": []}), written, console)
    return verdict.exit_code


def _num(value: float | None, *, pct: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value * 100:+.1f} %" if pct else f"{value:.3g}"
