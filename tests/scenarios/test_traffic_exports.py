"""The Locust side's public face: what locustfiles import from scenarios.traffic."""

from __future__ import annotations

import scenarios.traffic


def test_traffic_exports() -> None:
    assert scenarios.traffic.__all__ == [
        "DashboardUser", "DepositoUser", "HealthWatcher", "HeavyInvoiceUser", "MlUser", "NegocioUser",
        "Recorder", "StagegateUser", "StagesShape", "TokenForgerUser", "add_arguments", "install",
    ]
    assert all(hasattr(scenarios.traffic, name) for name in scenarios.traffic.__all__)
