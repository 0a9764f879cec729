"""Invoices against a real OCR route: the intended reference negocio answers what the manifest expects."""

from __future__ import annotations

import httpx
import pytest

from generators import build_catalogue, generate_invoices, load_agent_secrets
from tests.generators.conftest import AGENTS

NEGOCIO = [agent for agent in AGENTS if agent.name == "negocio"]


@pytest.mark.e2e
def test_normal_and_hostile_invoices_get_their_expected_statuses(tmp_path) -> None:
    from reference_stack import running_stack

    manifest = generate_invoices(tmp_path / "invoices", kinds=("normal", "hostile"), seed=2)
    with running_stack(tmp_path / "stack", contract="intended", services=("deposito", "negocio"),
                       gateway=False) as stack:
        secrets = load_agent_secrets({a.name: a.secret_env for a in NEGOCIO}, environ=stack.secrets)
        token = build_catalogue(NEGOCIO, secrets, claim_style="iss", rejected_statuses=[401, 403]).cases[0].token
        answers = {}
        with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"}) as client:
            for item in manifest.files:
                upload = {"file": (item.name, manifest.path_of(item).read_bytes(), item.media_type)}
                response = client.post(stack.services["negocio"] + "/procesar_factura_completa", files=upload)
                answers[item.name] = (response.status_code, item.expected.statuses)
    assert all(status in expected for status, expected in answers.values()), answers
