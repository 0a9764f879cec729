"""compose.yml, the Dockerfile, the local container stack and the profiles name the same things."""

from __future__ import annotations

import re

import pytest

from reference_stack.docker import SERVICE_IMAGES
from reference_stack.docker._base import distributions
from reference_stack.docker._stack import SERVICE_ENV
from scenarios.profiles import load_profile
from tests.conftest import REPO

DOCKER_DIR = REPO / "reference_stack" / "docker"
COMPOSE = (DOCKER_DIR / "compose.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize("image", SERVICE_IMAGES, ids=lambda image: image.service)
def test_compose_mirrors_the_container_stack(image) -> None:
    block = COMPOSE.split(f"\n  {image.compose_service}:\n", 1)[1].split("\n\n", 1)[0]
    assert f"container_name: {image.container}\n" in block
    assert f'args: {{SERVICE: {image.service}, APP_USER: {image.user}, PORT: "{image.port}"}}' in block
    assert f'ports: ["{image.port}:{image.port}"]' in block


@pytest.mark.parametrize("profile", ["checklist-v0.10.0", "as-built"])
def test_profiles_name_the_same_containers_and_users(profile: str) -> None:
    services = load_profile(profile).services
    for image in SERVICE_IMAGES:
        assert (services[image.service].container, services[image.service].user) == (image.container, image.user)


def test_compose_sets_the_environment_the_local_stack_sets() -> None:
    for name in SERVICE_ENV:
        assert re.search(rf"^    {name}: ", COMPOSE, re.MULTILINE), name
    assert "container_name: retail_nginx" in COMPOSE and 'ports: ["80:80"]' in COMPOSE


def test_dockerfile_runs_as_the_build_arg_user_from_a_python_311_base() -> None:
    dockerfile = (DOCKER_DIR / "Dockerfile").read_text(encoding="utf-8")
    assert "ARG BASE=python:3.11-slim\nFROM ${BASE}\n" in dockerfile
    assert "\nUSER ${APP_USER}\n" in dockerfile and "HEALTHCHECK" in dockerfile


def test_requirements_cover_what_the_local_base_copies() -> None:
    def normal(name: str) -> str:
        return name.lower().replace("_", "-")

    wanted = {normal(line.split(">=")[0]) for line in (DOCKER_DIR / "requirements.txt").read_text().splitlines()
              if line and not line.startswith("#")}
    copied = {normal(dist.metadata["Name"]) for dist in distributions()}
    assert wanted <= copied
