"""The Locust side of the harness, for the locustfile (``scenarios/load/locustfile.py``): users, shape, options, install.

Importing this module imports Locust (which monkey-patches gevent); the rest of ``scenarios``
does not, so the CLI can use profiles and smoke checks without it.
"""

from __future__ import annotations

from scenarios.load.base_user import StagegateUser
from scenarios.load.health_watcher import HealthWatcher
from scenarios.load.heavy_invoice import HeavyInvoiceUser
from scenarios.load.install import install
from scenarios.load.options import add_arguments
from scenarios.load.recorder import Recorder
from scenarios.load.service_users import DashboardUser, DepositoUser, MlUser, NegocioUser
from scenarios.load.shapes import StagesShape
from scenarios.load.token_forger import TokenForgerUser

__all__ = [
    "DashboardUser",
    "DepositoUser",
    "HealthWatcher",
    "HeavyInvoiceUser",
    "MlUser",
    "NegocioUser",
    "Recorder",
    "StagegateUser",
    "StagesShape",
    "TokenForgerUser",
    "add_arguments",
    "install",
]
