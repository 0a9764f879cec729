"""Invoice sets generated once per session (generation is the slow part) and agent identities."""

from __future__ import annotations

from pathlib import Path

import pytest

from generators import AgentIdentity, Manifest, generate_invoices

MIB = 1024 * 1024
SMALL_APP_LIMIT = 2 * MIB
"""Tests shrink the app limit so the oversize file stays small; the code path is the same."""
IMAGE_MIN_SIZE = 3 * MIB


@pytest.fixture(scope="session")
def pdf_set(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    """Every kind as PDF, heavy at the default 12 MB minimum."""
    return generate_invoices(tmp_path_factory.mktemp("pdf"), count=1, seed=5, fmt="pdf",
                             app_limit_bytes=SMALL_APP_LIMIT)


@pytest.fixture(scope="session")
def image_set(tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    return generate_invoices(tmp_path_factory.mktemp("image"), count=1, seed=5, fmt="image",
                             min_size_bytes=IMAGE_MIN_SIZE, app_limit_bytes=SMALL_APP_LIMIT)


def one(manifest: Manifest, kind: str, variant: str | None = None) -> tuple[Path, object]:
    [item] = [f for f in manifest.files if f.kind == kind and f.variant == variant]
    return manifest.path_of(item), item


AGENTS = [
    AgentIdentity(name="deposito", issuer="deposito", role="deposito", secret_env="JWT_SECRET_DEPOSITO"),
    AgentIdentity(name="negocio", issuer="negocio", role="negocio", secret_env="JWT_SECRET_NEGOCIO"),
    AgentIdentity(name="ml", issuer="ml", role="ml_service", secret_env="JWT_SECRET_ML"),
]
SECRETS = {
    "deposito": "test-secret-deposito-6f1c0b9e2a7d4c3b8e5f",
    "negocio": "test-secret-negocio-0a9b8c7d6e5f4a3b2c1d",
    "ml": "test-secret-ml-11aa22bb33cc44dd55ee66ff77",
}
