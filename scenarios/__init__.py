"""Driving a deployment, split by runtime.

- ``scenarios.target``: what the deployment is and how it answers (profiles, resolution and secrets,
  discovery, login, the answer classifier); plain httpx.
- ``scenarios.load``: the Locust side (users, shape, recorder, health watcher, ledger, live abort).
- ``scenarios.smoke`` and ``scenarios.chaos``: the smoke checks and chaos plans; no Locust.

Importing this package does not import Locust (which monkey-patches gevent): only ``scenarios.load``
does, and only the locustfile imports it, so the CLI can use profiles, smoke checks and chaos without it
(an import-linter contract in pyproject.toml).
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
