"""compose.yml, the Dockerfile, the local container stack and the profiles name the same things."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from reference_stack.docker import SERVICE_IMAGES
from reference_stack.docker._base import distributions
from reference_stack.docker._stack import SERVICE_ENV
from scenarios.target.profiles import load_profile
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


IMPORTED_DISTRIBUTIONS = """
import importlib, json, pkgutil, site, sys
from importlib.metadata import packages_distributions
import reference_stack
for module in pkgutil.walk_packages(reference_stack.__path__, "reference_stack."):
    if not module.name.startswith("reference_stack.docker"):
        importlib.import_module(module.name)
roots = tuple(site.getsitepackages())
tops = {name.split(".")[0] for name, mod in list(sys.modules.items())
        if (getattr(mod, "__file__", None) or "").startswith(roots)}
mapping = packages_distributions()
print(json.dumps(sorted({dist for top in tops for dist in mapping.get(top, [])})))
"""


def test_the_local_base_carries_every_distribution_the_stack_imports() -> None:
    done = subprocess.run([sys.executable, "-c", IMPORTED_DISTRIBUTIONS], capture_output=True, text=True, check=True,
                          cwd=REPO)
    imported = {name.lower().replace("_", "-") for name in json.loads(done.stdout)} - {"stagegate", "setuptools"}
    copied = {dist.metadata["Name"].lower().replace("_", "-") for dist in distributions()}
    assert imported <= copied, f"add to ROOT_DISTRIBUTIONS in reference_stack/docker/_base.py: {imported - copied}"
