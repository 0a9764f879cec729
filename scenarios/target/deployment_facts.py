"""Facts about a deployment that both the smoke checks and the load need, read the same way.

- ``token_catalogue``: the forged and control tokens for the profile's agents, signed with the
  run's secrets in the profile's claim style;
- ``configured_ocr_timeout``: the OCR timeout negocio logs at start-up (docs/as-built.md §4, and the
  reference stack), so a 504 is judged against the deployment's own value;
- ``prometheus_values``: the named samples of a ``/metrics`` scrape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from prometheus_client.parser import text_string_to_metric_families

from generators import AgentIdentity, TokenCatalogue, build_catalogue, load_agent_secrets
from scenarios.target.profiles import AGENTS, Profile
from scenarios.target.resolve import Secrets

OCR_TIMEOUT_LOG = re.compile(r"OCR timeout configured: ([0-9.]+) s", re.IGNORECASE)
"""The start-up line of negocio naming its OCR timeout."""


def token_catalogue(profile: Profile, secrets: Secrets) -> TokenCatalogue:
    """Every token case for the profile's agents; ``SecretMissing`` (one line) if a secret is unset."""
    agents = [AgentIdentity(name=agent, issuer=profile.services[agent].issuer or agent,
                            role=profile.services[agent].role or agent,
                            secret_env=profile.services[agent].secret_env or f"JWT_SECRET_{agent.upper()}")
              for agent in AGENTS]
    agent_secrets = load_agent_secrets({agent.name: agent.secret_env for agent in agents},
                                       fallback_env=profile.auth.shared_secret_env, environ=secrets)
    return build_catalogue(agents, agent_secrets, claim_style=profile.auth.claims,
                           rejected_statuses=profile.auth.rejected_statuses, ttl_s=profile.auth.token_ttl_s,
                           profile=profile.name)


def configured_ocr_timeout(log_lines: Iterable[str]) -> float | None:
    """The OCR timeout of the last start-up the log shows, or None when it shows none."""
    found = None
    for line in log_lines:
        match = OCR_TIMEOUT_LOG.search(line)
        if match:
            found = float(match.group(1))
    return found


def prometheus_values(text: str, wanted: list[str]) -> dict[str, float]:
    """Value of each wanted sample name (labelled samples summed); raises ValueError if unparsable."""
    values: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name in wanted:
                values[sample.name] = values.get(sample.name, 0.0) + float(sample.value)
    return values
