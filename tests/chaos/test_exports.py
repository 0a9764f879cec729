"""The public faces of ``scenarios.chaos`` and ``reference_stack.docker`` are their ``__all__``."""

from __future__ import annotations

import subprocess
import sys

import reference_stack.docker
import scenarios.chaos


def test_chaos_public_names() -> None:
    assert sorted(scenarios.chaos.__all__) == sorted([
        "ACTIONS", "BACKEND_CHOICES", "AppBackend", "ChaosActionFailed", "ChaosBackend", "ChaosPlan", "ChaosRun",
        "ChaosStep", "DockerBackend", "Fault", "Journal", "OpenFault", "ProcessBackend", "RecoveryNote",
        "SteadyState", "available_plans", "build_run", "check_allowed", "check_plan", "check_targets", "default_journal_path",
        "describe_plan", "injected", "install", "load_plan", "recover", "require_allow_chaos", "select_backend",
    ])
    assert all(hasattr(scenarios.chaos, name) for name in scenarios.chaos.__all__)


def test_docker_public_names() -> None:
    assert sorted(reference_stack.docker.__all__) == sorted([
        "SERVICE_IMAGES", "SERVICE_IMAGES_BY_NAME", "DockerStack", "ImageBuildFailed", "ServiceImage", "base_image",
        "build_images", "running_docker_stack", "start_docker_stack", "stop_docker_stack",
    ])
    assert all(hasattr(reference_stack.docker, name) for name in reference_stack.docker.__all__)


def test_importing_chaos_does_not_import_locust() -> None:
    code = "import sys, scenarios.chaos; sys.exit('locust' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_the_container_entry_point_does_not_need_the_docker_sdk() -> None:
    code = ("import sys; sys.modules['docker'] = None; "
            "import reference_stack.docker.entrypoint, reference_stack.docker.healthcheck")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
