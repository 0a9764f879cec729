"""stagegate's locustfile: the staging gate's traffic, checks and recorder.

It ships in the package, so an installed stagegate runs it without a source tree
(``stagegate run`` hands Locust this file's path). ``locustfiles/staging.py`` in a checkout is the
user-facing entry that imports it::

    locust -f locustfiles/staging.py                      # web UI, local reference stack
    locust -f locustfiles/staging.py --headless -u 20 -t 2m --scenario steady --results-dir out/
    locust -f locustfiles/staging.py --headless --processes 2 -t 60s --profile as-built

It stays thin: users, shape and listeners live in ``scenarios.load``; the options are Locust options
(command line, ``locust.conf``, ``[tool.locust]``, ``STAGEGATE_*`` variables); ``--help`` lists them.
Locust loads it by path (as module ``locustfile``), or a locustfile imports it (as
``scenarios.load.locustfile``): load it one way per process, or its listeners are added twice.
"""

from __future__ import annotations

import sys
import traceback
from pathlib import Path
from typing import Any

_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:  # loaded by path from a checkout: import the scenarios beside this file
    sys.path.insert(0, _ROOT)

import locust

from scenarios.load.traffic import (  # Locust finds users and the shape in this module
    DashboardUser,
    DepositoUser,
    HealthWatcher,
    HeavyInvoiceUser,
    MlUser,
    NegocioUser,
    StagesShape,
    TokenForgerUser,
    add_arguments,
    install,
)
from stagegate_core.errors import EXIT_HARNESS_FAILURE, EXIT_USAGE, StagegateError

__all__ = [  # what Locust runs: ``locustfiles/staging.py`` imports the same names
    "DashboardUser",
    "DepositoUser",
    "HealthWatcher",
    "HeavyInvoiceUser",
    "MlUser",
    "NegocioUser",
    "StagesShape",
    "TokenForgerUser",
]


def _harness_options(parser: Any, **_: Any) -> None:
    add_arguments(parser)


def _install(environment: Any, **_: Any) -> None:
    try:
        install(environment)
    except StagegateError as exc:
        options = environment.parsed_options
        if options is not None and options.worker and options.processes:
            sys.exit(1)  # a forked worker: its master has the same options and says it once
        sys.stderr.write(f"stagegate: error: {exc}\n")
        sys.exit(EXIT_USAGE)
    except Exception as exc:  # noqa: BLE001  (a bug: Locust would log it and run on without the recorder)
        traceback.print_exc()
        sys.stderr.write(f"stagegate: harness failure ({type(exc).__name__}); traceback above\n")
        sys.exit(EXIT_HARNESS_FAILURE)


events: Any = locust.events  # Locust's hooks are untyped
events.init_command_line_parser.add_listener(_harness_options)
events.init.add_listener(_install)
