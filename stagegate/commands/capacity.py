"""``stagegate capacity``: the pre-release capacity check (step load until an SLO breaks)."""

from __future__ import annotations

import argparse

from stagegate._argtypes import number_in
from stagegate.commands.run import add_gate_arguments, run_gate_from_args
from stagegate_core.errors import VERDICT_EPILOG


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "capacity",
        help="step load until an SLO breaks; report the knee (users, req/s)",
        description=(
            "Run the gate with the step scenario: users are added step by step (--users sets the last "
            "step's count) until a rule of the rules file breaks. The report shows the knee (the last "
            "step where every SLO held) as users and requests per second, with the rule that broke above it."
        ),
        epilog=VERDICT_EPILOG,
    )
    add_gate_arguments(parser, scenario_default="step")
    parser.add_argument("--step-duration", default="60s",
                        help="how long each step holds its users (default: 60s); the load lasts steps x this, "
                             "unless --duration cuts it")
    parser.add_argument("--require-rps", type=number_in(0, low_inclusive=False), metavar="N",
                        help="fail the gate (HOLD, exit 3) when the knee is below N requests per second")
    parser.set_defaults(handler=run_gate_from_args)
