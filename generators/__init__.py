"""Inputs the checklist's R2 and R3 checks need: forged JWTs and heavy invoice PDFs.

Invoices::

    manifest = generate_invoices("invoices/", kinds=("normal", "heavy", "hostile"), count=1, seed=7)
    manifest = load_manifest("invoices/")

Tokens::

    secrets = load_agent_secrets({"deposito": "JWT_SECRET_DEPOSITO", ...}, env_file="secrets.env")
    agents = [AgentIdentity(name="deposito", issuer="deposito", role="deposito",
                            secret_env="JWT_SECRET_DEPOSITO"), ...]
    catalogue = build_catalogue(agents, secrets, claim_style="iss", rejected_statuses=[401, 403])
    write_catalogue(catalogue, "tokens.json"); catalogue = load_catalogue("tokens.json")
"""

from __future__ import annotations

from generators._errors import (
    CatalogueInvalid,
    EnvFileUnreadable,
    GeneratorError,
    InvoiceSpecInvalid,
    ManifestInvalid,
    SecretMissing,
)
from generators._manifest import Expected, InvoiceFile, Manifest, load_manifest
from generators.invoices import (
    DEFAULT_APP_LIMIT_BYTES,
    DEFAULT_GATEWAY_LIMIT_BYTES,
    DEFAULT_MIN_SIZE_BYTES,
    KINDS,
    generate_invoices,
    plan_heavy,
)
from generators.secrets import AGENT_SECRET_ENVS, SHARED_SECRET_ENV, AgentSecrets, load_agent_secrets
from generators.tokens import (
    ATTACK_NAMES,
    AgentIdentity,
    TokenCase,
    TokenCatalogue,
    build_catalogue,
    load_catalogue,
    write_catalogue,
)

__all__ = [
    "AGENT_SECRET_ENVS",
    "ATTACK_NAMES",
    "DEFAULT_APP_LIMIT_BYTES",
    "DEFAULT_GATEWAY_LIMIT_BYTES",
    "DEFAULT_MIN_SIZE_BYTES",
    "KINDS",
    "SHARED_SECRET_ENV",
    "AgentIdentity",
    "AgentSecrets",
    "CatalogueInvalid",
    "EnvFileUnreadable",
    "Expected",
    "GeneratorError",
    "InvoiceFile",
    "InvoiceSpecInvalid",
    "Manifest",
    "ManifestInvalid",
    "SecretMissing",
    "TokenCase",
    "TokenCatalogue",
    "build_catalogue",
    "generate_invoices",
    "load_agent_secrets",
    "load_catalogue",
    "load_manifest",
    "plan_heavy",
    "write_catalogue",
]
