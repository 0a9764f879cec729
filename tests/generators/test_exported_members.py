"""The public face of ``generators``: a name added or dropped here is an API change."""

from __future__ import annotations

import generators


def test_all_is_the_public_api() -> None:
    assert sorted(generators.__all__) == sorted(
        [
            "AGENT_SECRET_ENVS", "ATTACK_NAMES", "DEFAULT_APP_LIMIT_BYTES", "DEFAULT_GATEWAY_LIMIT_BYTES",
            "DEFAULT_MIN_SIZE_BYTES", "KINDS", "SHARED_SECRET_ENV", "AgentIdentity", "AgentSecrets",
            "CatalogueInvalid", "EnvFileUnreadable", "Expected", "GeneratorError", "InvoiceFile",
            "InvoiceSpecInvalid", "Manifest", "ManifestInvalid", "SecretMissing", "TokenCase", "TokenCatalogue",
            "build_catalogue", "generate_invoices", "load_agent_secrets", "load_catalogue", "load_manifest",
            "plan_heavy", "write_catalogue",
        ]
    )
    for name in generators.__all__:
        assert getattr(generators, name) is not None
