"""``stagegate analyze RESULTS_DIR``: judge a results directory and write verdict.json, junit.xml,
summary.md and report.html; exit with the verdict's code."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from stagegate._argtypes import directory_path, file_path, number_in
from stagegate.judge import judge
from stagegate_core.errors import VERDICT_EPILOG


def number_from(low: float, *, inclusive: bool) -> Callable[[str], float]:
    """An argparse type: a finite number above ``low`` (or equal to it when ``inclusive``)."""
    return number_in(low, low_inclusive=inclusive)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "analyze", help="judge a results directory: PROMOTE, HOLD or ROLLBACK",
        description="Judge the results stream of a run against the rules file (default: the checklist's "
                    "completion criteria, rollback triggers and alert level), print the rules table and "
                    "write verdict.json, junit.xml, summary.md and report.html.",
        epilog=VERDICT_EPILOG,
    )
    parser.add_argument("results_dir", type=Path, metavar="RESULTS_DIR", help="directory holding the *.jsonl streams")
    parser.add_argument("--rules", type=file_path, metavar="FILE",
                        help="rules file (TOML; default: the shipped analysis/rules/default.toml)")
    parser.add_argument("--require-rps", type=number_from(0, inclusive=False), metavar="N",
                        help="step-shape run: HOLD unless the capacity knee reaches N requests per second")
    parser.add_argument("--out", type=directory_path, metavar="DIR", help="where to write the reports (default: RESULTS_DIR)")
    parser.set_defaults(handler=_analyze)


def _analyze(args: argparse.Namespace) -> int:
    return judge(args.results_dir, rules_path=args.rules, require_rps=args.require_rps, out=args.out).exit_code
