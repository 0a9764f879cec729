"""``stagegate stack up --docker`` / ``stack down``: the reference stack as real containers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO


def _stagegate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "stagegate", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=600, check=False)


@pytest.mark.docker
@pytest.mark.e2e
def test_stack_up_docker_runs_named_non_root_containers_and_down_removes_them(docker_daemon: None,
                                                                                tmp_path: Path) -> None:
    import docker

    state = tmp_path / "state"
    up = _stagegate("stack", "up", "--docker", "--state-dir", str(state), "--ports", "auto", "--gateway-port", "0")
    try:
        assert up.returncode == 0, up.stderr[-2000:]
        gateway = next(line.split()[1] for line in up.stdout.splitlines() if line.strip().startswith("gateway"))
        assert httpx.get(f"{gateway}/health", timeout=5).status_code == 200
        client = docker.from_env()
        users = {name: client.containers.get(name).exec_run("id -un").output.decode().strip()
                 for name in ("agente_deposito", "agente_negocio", "ml_service", "retail_dashboard")}
        assert users == {"agente_deposito": "agente", "agente_negocio": "negocio", "ml_service": "mluser",
                         "retail_dashboard": "dashboarduser"}
    finally:
        down = _stagegate("stack", "down", "--state-dir", str(state))
    assert down.returncode == 0
    assert "removed retail_nginx, retail_dashboard, ml_service, agente_negocio, agente_deposito" in down.stdout
