"""The Locust side's public face: what locustfiles import from scenarios.load.traffic."""

from __future__ import annotations

import scenarios.load.traffic


def test_traffic_exports() -> None:
    assert scenarios.load.traffic.__all__ == [
        "DashboardUser", "DepositoUser", "HealthWatcher", "HeavyInvoiceUser", "MlUser", "NegocioUser",
        "Recorder", "StagegateUser", "StagesShape", "TokenForgerUser", "add_arguments", "install",
    ]
    assert all(hasattr(scenarios.load.traffic, name) for name in scenarios.load.traffic.__all__)
