"""The catalogue against a real agent: the intended reference stack refuses every forgery, accepts controls."""

from __future__ import annotations

import httpx
import pytest

from generators import build_catalogue, load_agent_secrets
from tests.generators.conftest import AGENTS

PROBES = {
    "deposito": ("GET", "/productos", None),
    "negocio": ("GET", "/api/productos", None),
    "ml": ("POST", "/predict", {"producto_id": 1, "dias": 7}),
}


@pytest.mark.e2e
def test_intended_stack_answers_every_case_as_expected(tmp_path) -> None:
    from reference_stack import running_stack

    with running_stack(tmp_path / "stack", contract="intended", services=tuple(PROBES), gateway=False) as stack:
        secrets = load_agent_secrets({a.name: a.secret_env for a in AGENTS}, environ=stack.secrets)
        catalogue = build_catalogue(AGENTS, secrets, claim_style="iss", rejected_statuses=[401, 403])
        wrong = []
        with httpx.Client(timeout=10) as client:
            for case in catalogue.cases:
                method, path, body = PROBES[case.target]
                response = client.request(method, stack.services[case.target] + path, json=body,
                                          headers={"Authorization": f"Bearer {case.token}"})
                if response.status_code not in case.expected_statuses:
                    wrong.append(f"{case.id}: {response.status_code}")
    assert wrong == []
