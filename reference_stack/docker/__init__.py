"""The reference stack in containers: images built without a registry, started like compose.yml.

``compose.yml`` (with ``Dockerfile``) is for machines that reach a registry: ``FROM
python:3.11-slim``. Where none is reachable, ``start_docker_stack`` builds an equivalent local
base image once (debootstrap + this project's own Python wheels, cached by content hash), the
four service images on top of it, and runs them (and the nginx gateway) with compose's container
names, users, ports and healthchecks. ``stagegate stack up --docker`` calls ``start_docker_stack`` and
``stack down`` calls ``stop_docker_stack`` when ``stack.json`` says ``"runtime": "docker"``.

Usage::

    ports = {name: 0 for name in [*SERVICE_IMAGES_BY_NAME, "gateway"]}     # 0: any free port
    with running_docker_stack(tmp_path / "stack", ports=ports, suffix="-test") as stack:
        stack.services["negocio"]     # http://127.0.0.1:<port>
        stack.containers["negocio"]   # agente_negocio-test
"""

from __future__ import annotations

from reference_stack.docker._base import ImageBuildFailed, base_image
from reference_stack.docker._images import BY_SERVICE as SERVICE_IMAGES_BY_NAME
from reference_stack.docker._images import SERVICE_IMAGES, ServiceImage, build_images
from reference_stack.docker._stack import (
    DockerStack,
    running_docker_stack,
    start_docker_stack,
    stop_docker_stack,
)

__all__ = [
    "SERVICE_IMAGES",
    "SERVICE_IMAGES_BY_NAME",
    "DockerStack",
    "ImageBuildFailed",
    "ServiceImage",
    "base_image",
    "build_images",
    "running_docker_stack",
    "start_docker_stack",
    "stop_docker_stack",
]
