"""``stagegate run``: the whole gate in one command (stack, smoke, load with chaos, verdict)."""

from __future__ import annotations

import argparse
from pathlib import Path

from stagegate._argtypes import directory_path, file_path, number_in, text_file
from stagegate_core.errors import VERDICT_EPILOG


def add_gate_arguments(parser: argparse.ArgumentParser, *, scenario_default: str) -> None:
    """Options shared by ``run`` and ``capacity``."""
    parser.add_argument("--profile", default="checklist-v0.10.0",
                        help="target profile: a shipped name (checklist-v0.10.0, as-built) or a TOML file")
    parser.add_argument("--target", default="local",
                        help="'local' (start the embedded reference stack, stop it at the end) or "
                             "SERVICE=URL,... for a deployment (default: local)")
    parser.add_argument("--env-file", type=text_file, help="file with the secrets (JWT_SECRET_*, DASHBOARD_API_KEY)")
    parser.add_argument("--scenario", default=scenario_default,
                        help=f"load shape: smoke, steady, spike, soak, step (default: {scenario_default})")
    parser.add_argument("--duration", default=None,
                        help="load duration, e.g. 90s, 10m, 1h (default: 60s; capacity: the whole step table)")
    parser.add_argument("--users", type=int, help="peak number of Locust users (default: the scenario's)")
    parser.add_argument("--processes", type=int, help="Locust worker processes on this machine (--processes)")
    parser.add_argument("--expect-workers", type=int,
                        help="run Locust as master and wait for this many workers from other machines")
    parser.add_argument("--chaos", metavar="PLAN", help="chaos plan (shipped name or TOML file)")
    parser.add_argument("--allow-chaos", action="store_true", help="allow the chaos plan to act (required with --chaos)")
    parser.add_argument("--rules", type=file_path, help="rules file (default: the checklist's thresholds)")
    parser.add_argument("--trivy-report", type=file_path, help="Trivy JSON report for the R6 check")
    parser.add_argument("--abort-on-rollback", action="store_true",
                        help="stop the load within 5 s when a rollback trigger fires")
    parser.add_argument("--no-smoke", action="store_true", help="skip the smoke checks before the load")
    parser.add_argument("--out", type=directory_path, help="results directory (default: reports/<run id>)")
    parser.add_argument("--reuse-stack", action="store_true",
                        help="with --target local, share the stack of a run already using the state directory "
                             "(it is stopped only once every run sharing it ended)")
    parser.add_argument("--lock-wait", type=number_in(0, 86400), default=0.0, metavar="SECONDS",
                        help="with --target local, wait this long for another run on the state directory to end "
                             "(default: 0: exit 2 at once, naming it)")
    parser.add_argument("--reports-dir", type=directory_path, default=Path("reports"),
                        help="folder whose index.html lists the runs (default: reports)")


def run_gate_from_args(args: argparse.Namespace) -> int:
    """Imported here so that ``stagegate --help`` does not load the whole harness."""
    from stagegate import gate

    return gate.run_gate(gate.GateOptions.from_args(args))


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "run",
        help="the staging gate: smoke checks, load with chaos, verdict and reports",
        description=(
            "Run the staging gate: start the reference stack when --target is local, run the smoke "
            "checks, run Locust headless on its locustfile (with the chaos plan), analyse, "
            "write report.html, verdict.json, junit.xml and summary.md, and exit with the verdict."
        ),
        epilog=VERDICT_EPILOG,
    )
    add_gate_arguments(parser, scenario_default="steady")
    parser.set_defaults(handler=run_gate_from_args)
