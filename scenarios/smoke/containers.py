"""Reaching the deployment's containers through the Docker SDK, when there is a daemon and they exist.

Docker is optional for smoke: without a daemon, or without containers of the profile's names,
the checks fall back to the local reference stack's processes and log files, or skip with a reason.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

DOCKER_TIMEOUT_S = 5


class DockerAccess:
    """A lazily opened Docker client; ``available`` is False (with ``reason``) when there is none."""

    def __init__(self) -> None:
        self.reason = ""

    @cached_property
    def client(self) -> Any | None:
        try:
            import docker  # type: ignore[import-untyped]
            from docker.errors import DockerException  # type: ignore[import-untyped]
        except ImportError:  # pragma: no cover - docker is a declared dependency
            self.reason = "the docker package is not installed"
            return None
        try:
            client = docker.from_env(timeout=DOCKER_TIMEOUT_S)
            client.ping()
        except (DockerException, OSError) as exc:
            self.reason = f"no Docker daemon ({type(exc).__name__})"
            return None
        return client

    @property
    def available(self) -> bool:
        return self.client is not None

    def container(self, name: str | None) -> Any | None:
        """The container called ``name``, or None when Docker or the container is absent."""
        if not name or self.client is None:
            return None
        from docker.errors import DockerException

        try:
            return self.client.containers.get(name)
        except DockerException:
            return None

    def close(self) -> None:
        if "client" in self.__dict__ and self.client is not None:
            self.client.close()
