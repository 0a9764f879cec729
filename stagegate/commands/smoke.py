"""``stagegate smoke``: the checklist's validation steps (§6-§14) as one fast command.

Runs every smoke check once against the target, writes ``smoke.jsonl`` (smoke results, findings,
health, token, OCR and metrics records) into the results directory, prints a table, and judges the
directory with the analysis rules that a smoke run can feed (the ones over Locust traffic windows
and the stock ledger are left out), ending with the verdict's exit code.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from stagegate._argtypes import directory_path, file_path, text_file
from stagegate_core.errors import VERDICT_EPILOG
from stagegate_core.models import MAX_DURATION_S

if TYPE_CHECKING:
    from scenarios.smoke import SmokeReport

STATUS_STYLE = {"PASS": "green", "WARN": "yellow", "FAIL": "bold red", "NO_DATA": "magenta", "SKIP": "dim"}
VERDICT_STYLE = {"PROMOTE": "bold green", "HOLD": "bold yellow", "ROLLBACK": "bold red"}


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, e.g. 5 (got {text!r})") from None
    if not 0 <= value <= MAX_DURATION_S:  # NaN fails too
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_DURATION_S:g} (got {text})")
    return value


def _print_outcomes(console: Console, report: SmokeReport) -> None:
    table = Table(title=f"smoke checks ({report.duration_s:.1f} s)", show_lines=False)
    for column in ("check", "section", "status", "summary"):
        table.add_column(column, overflow="fold")
    for outcome in report.outcomes:
        style = STATUS_STYLE.get(outcome.status, "")
        table.add_row(outcome.check, outcome.section, f"[{style}]{outcome.status}[/]", outcome.summary)
    console.print(table)
    if report.findings:
        findings = Table(title=f"findings ({len(report.findings)})")
        for column in ("id", "section", "severity", "title"):
            findings.add_column(column, overflow="fold")
        for finding in report.findings:
            findings.add_row(finding.id, finding.section, finding.severity, finding.title)
        console.print(findings)
    console.print(f"results: {report.results_file}")


def _smoke_verdict(console: Console, results_dir: Path, rules_path: Path | None) -> int:
    import analysis

    rules = analysis.load_rules(rules_path)
    smoke_rules = rules.model_copy(update={"rules": {  # kinds declared needs_load: a smoke run cannot feed them
        rule_id: rule for rule_id, rule in rules.rules.items() if not analysis.RULE_KINDS[rule.kind].needs_load}})
    data = analysis.load_results(results_dir)
    verdict = analysis.evaluate(data, smoke_rules)
    analysis.write_reports(verdict, results_dir, data)
    style = VERDICT_STYLE.get(verdict.verdict, "")
    console.print(f"verdict: [{style}]{verdict.verdict}[/] (exit {verdict.exit_code})")
    for reason in verdict.reasons:
        console.print(f"  - {reason}")
    console.print(f"reports: {results_dir}")
    return int(verdict.exit_code)


def run_smoke_command(args: argparse.Namespace) -> int:
    import analysis
    from scenarios.smoke import load_trivy_report, run_smoke
    from scenarios.target.resolve import replaced_secrets_note, resolve_profile

    if args.rules is not None:
        analysis.load_rules(args.rules)  # a malformed rules file fails before any request
    if args.trivy_report is not None:
        load_trivy_report(args.trivy_report)  # so does a file that is not a Trivy report by its schema
    resolved = resolve_profile(args.profile, args.target, env_file=args.env_file)
    if note := replaced_secrets_note(resolved):
        print(note, file=sys.stderr)
    results_dir = args.results_dir or Path("results") / time.strftime("smoke-%Y%m%d-%H%M%S")
    console = Console()
    report = run_smoke(
        resolved, results_dir=results_dir, trivy_report=args.trivy_report, ocr_grace_s=args.ocr_grace,
        ocr_timeout_s=args.ocr_timeout,
        on_check=lambda outcome: console.print(
            f"  {outcome.check:<18} [{STATUS_STYLE.get(outcome.status, '')}]{outcome.status}[/]"),
    )
    _print_outcomes(console, report)
    return _smoke_verdict(console, results_dir, args.rules)


DESCRIPTION = ("Run the staging checklist's validation steps as checks ({checks}) against the target, "
               "write smoke.jsonl into the results directory, print the results and findings, and exit with "
               "the verdict of the analysis rules a smoke run can feed.")


def _list_checks_in_help(parser: argparse.ArgumentParser) -> None:
    """``--help`` names the declared checks; the smoke package is imported only when help is asked for."""
    plain = parser.format_help

    def format_help() -> str:
        from scenarios.smoke import declared_checks

        parser.description = DESCRIPTION.format(checks=", ".join(check.label for check in declared_checks()))
        return plain()

    setattr(parser, "format_help", format_help)  # noqa: B010  (an instance's own help, not a method patch)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "smoke",
        help="the checklist's smoke checks (§6-§14) in well under a minute, with a verdict",
        description=DESCRIPTION.format(checks="every declared check"),
        epilog=VERDICT_EPILOG,
    )
    _list_checks_in_help(parser)
    parser.add_argument("--profile", default="checklist-v0.10.0",
                        help="target profile: a shipped name (checklist-v0.10.0, as-built) or a TOML file")
    parser.add_argument("--target", help="'local' (the running reference stack) or SERVICE=URL,... "
                                         "(default: the profile's URLs)")
    parser.add_argument("--env-file", type=text_file, help="file with the secrets (JWT_SECRET_*, DASHBOARD_API_KEY)")
    parser.add_argument("--trivy-report", type=file_path, help="Trivy JSON report for R6 (without it R6 has no data)")
    parser.add_argument("--results-dir", type=directory_path,
                        help="where smoke.jsonl and the verdict go (default: results/smoke-<time>)")
    parser.add_argument("--ocr-grace", type=_seconds, metavar="S",
                        help="how late after the OCR timeout the 504 may come (default: the profile's)")
    parser.add_argument("--ocr-timeout", type=_seconds, metavar="S",
                        help="the deployment's OCR timeout (default: from negocio's start-up log, else the profile's)")
    parser.add_argument("--rules", type=file_path, help="rules file (default: the checklist's thresholds)")
    parser.set_defaults(handler=run_smoke_command)
