"""Shared test plumbing: system requirements that skip locally and fail in CI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

REQUIRE_SYSTEM = os.environ.get("STAGEGATE_REQUIRE_SYSTEM") == "1"
"""Set by ``.ci/run``: a test that needs nginx, Docker or Chromium fails instead of skipping."""


def require(condition: bool, what: str) -> None:
    """Skip the test when ``condition`` is false, or fail it in CI, so CI never passes by not running."""
    if condition:
        return
    if REQUIRE_SYSTEM:
        pytest.fail(f"{what} is required in CI (STAGEGATE_REQUIRE_SYSTEM=1)")
    pytest.skip(f"{what} is not available")


def require_binary(name: str) -> str:
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    require(path is not None, f"the {name} binary")
    assert path is not None
    return path


def docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False).returncode == 0


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def docker_daemon() -> None:
    require(docker_available(), "a running Docker daemon")
