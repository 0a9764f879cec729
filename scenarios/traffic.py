"""The Locust side of the harness, for ``locustfiles/staging.py``: users, shape, options, install.

Importing this module imports Locust (which monkey-patches gevent); the rest of ``scenarios``
does not, so the CLI can use profiles and smoke checks without it.
"""

from __future__ import annotations

from scenarios._base_user import StagegateUser
from scenarios._health import HealthWatcher
from scenarios._heavy_invoice import HeavyInvoiceUser
from scenarios._install import install
from scenarios._options import add_arguments
from scenarios._recorder import Recorder
from scenarios._service_users import DashboardUser, DepositoUser, MlUser, NegocioUser
from scenarios._shapes import StagesShape
from scenarios._token_forger import TokenForgerUser

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
