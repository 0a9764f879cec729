"""R1 and the logs check against real containers (the reference stack's images, compose's users)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import docker_available, require
from tests.smoke.conftest import outcome, smoke_on, statuses

EXPECTED_USERS = {"agente", "negocio", "mluser", "dashboarduser"}


@pytest.mark.docker
@pytest.mark.e2e
def test_r1_and_logs_look_inside_the_containers(tmp_path: Path) -> None:
    require(docker_available(), "a running Docker daemon")
    from reference_stack.docker import running_docker_stack

    ports = dict.fromkeys(("deposito", "negocio", "ml", "dashboard", "gateway"), 0)
    with running_docker_stack(tmp_path / "stack", ports=ports, suffix=f"-smoke{os.getpid()}",
                              env={"OCR_TIMEOUT_SECONDS": "3"}, ready_timeout_s=120) as docker_stack:
        report = smoke_on(docker_stack, tmp_path / "results")

    found = statuses(report)
    assert (found["health"], found["r1_non_root"], found["r2_jwt_isolation"], found["logs"]) == (
        "PASS", "PASS", "PASS", "PASS"), {o.check: o.summary for o in report.outcomes}
    r1 = outcome(report, "r1_non_root")
    assert {item["user"] for item in r1.evidence} == EXPECTED_USERS
    assert all(item["request"].startswith("docker exec ") and item["uid"] != "0" for item in r1.evidence)
    inspected = [item for item in outcome(report, "logs").evidence if item["request"].startswith("docker inspect")]
    assert len(inspected) == 4 and not any(item["oom_killed"] or item["restart_count"] for item in inspected)
