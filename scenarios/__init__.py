"""Traffic models, load shapes, checks and chaos plans.

Importing this package does not import Locust (which monkey-patches gevent): only the modules the
locustfile loads do, so the CLI can use profiles, smoke checks and chaos without it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["install"]


def install(environment: Any) -> Any:
    """Make a Locust environment a stagegate run (recorder, checks, ledger, chaos, abort).

    Imports Locust on first use; see ``scenarios.load.traffic`` for the users and shape.
    """
    from scenarios.load.install import install as install_run

    return install_run(environment)
