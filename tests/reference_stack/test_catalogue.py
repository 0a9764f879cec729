"""A stack seeded with another catalogue plays a deployment that is not the fixture, in every service."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import jwt
import pytest

from generators.catalogue import CATALOGUE
from reference_stack import ConfigInvalid, StackHandle, catalogue_products, parse_catalogue, running_stack
from tests.reference_stack.intended_client import bearer, own_token

FIXTURE_IDS = {p.id for p in CATALOGUE}
FIXTURE_CODES = {p.codigo for p in CATALOGUE}


def get(stack: StackHandle, service: str, path: str, **params: object) -> httpx.Response:
    return httpx.get(stack.services[service] + path, params=params, headers=bearer(own_token(stack, service)),
                     timeout=10, trust_env=False)


def test_a_variant_is_the_same_for_every_caller_and_shares_nothing_with_the_fixture() -> None:
    products = catalogue_products("variant:7")
    assert products == catalogue_products("variant:7") != catalogue_products("variant:8")
    assert len(products) != len(CATALOGUE) and min(p.id for p in products) >= 1000
    assert not {p.id for p in products} & FIXTURE_IDS and not {p.codigo for p in products} & FIXTURE_CODES
    assert [p.id for p in products] == sorted({p.id for p in products})
    assert len({p.codigo for p in products}) == len(products)
    critical = [p for p in products if p.stock_actual <= p.stock_minimo]
    assert critical and products[0].stock_actual == products[0].stock_minimo
    assert all(p.stock_actual > 0 and p.precio_venta > p.precio_compra > 0 for p in products)
    assert len(catalogue_products("variant:7:250")) == 250
    assert catalogue_products("empty") == () and catalogue_products("fixture") == CATALOGUE


@pytest.mark.parametrize("spec", ["variant", "variant:x", "variant:7:0", "variant:7:1001", "fixtures", "variant:-1"])
def test_a_bad_catalogue_is_a_one_line_error(spec: str) -> None:
    with pytest.raises(ConfigInvalid) as error:
        parse_catalogue(spec)
    assert str(error.value) == ("catalogue: expected fixture, empty, variant:SEED or variant:SEED:COUNT (COUNT 1..1000), "
                                f"got {spec!r}")


def test_every_intended_service_holds_the_variant(tmp_path: Path) -> None:
    with running_stack(tmp_path, catalogue="variant:7", gateway=False) as stack:
        products = stack.catalogue
        assert json.loads((tmp_path / "stack.json").read_text())["catalogue"] == "variant:7"
        listed = get(stack, "deposito", "/productos").json()
        assert listed["total"] == len(products)
        assert [(p["id"], p["codigo"], p["stock_actual"]) for p in listed["productos"]] == [
            (p.id, p.codigo, p.stock_actual) for p in products]
        critical = get(stack, "deposito", "/stock/critical").json()
        assert {row["id"] for row in critical} == {p.id for p in products if p.stock_actual <= p.stock_minimo} != set()
        assert get(stack, "deposito", f"/productos/{products[-1].id}").json()["codigo"] == products[-1].codigo
        assert get(stack, "deposito", "/productos/1").status_code == 404
        for product in (products[0], products[-1]):
            price = get(stack, "negocio", "/precios/consultar", codigo=product.codigo)
            assert price.status_code == 200 and price.json()["precio_actualizado"] == product.precio_venta
        assert get(stack, "negocio", "/precios/consultar", codigo=CATALOGUE[0].codigo).status_code == 404
        assert [p["codigo"] for p in get(stack, "negocio", "/api/productos").json()] == [p.codigo for p in products]
        predict = httpx.post(stack.services["ml"] + "/predict", json={"producto_id": products[1].id, "dias": 7},
                             headers=bearer(own_token(stack, "ml")), timeout=10)
        assert predict.status_code == 200
        assert httpx.post(stack.services["ml"] + "/predict", json={"producto_id": 1, "dias": 7},
                          headers=bearer(own_token(stack, "ml")), timeout=10).status_code == 404
        summary = httpx.get(stack.services["dashboard"] + "/api/summary",
                            headers={"X-API-Key": stack.secrets["DASHBOARD_API_KEY"]}, timeout=10).json()
        assert summary["total_productos"] == len(products)


def test_an_empty_deployment_answers_every_route_with_nothing(tmp_path: Path) -> None:
    with running_stack(tmp_path, catalogue="empty", gateway=False) as stack:
        assert stack.catalogue == ()
        assert get(stack, "deposito", "/productos").json() == {"productos": [], "total": 0}
        assert get(stack, "deposito", "/stock/critical").json() == []
        assert get(stack, "deposito", "/productos/1").status_code == 404
        movement = httpx.post(stack.services["deposito"] + "/stock/update", headers=bearer(own_token(stack, "deposito")),
                              json={"producto_id": 1, "tipo_movimiento": "entrada", "cantidad": 1}, timeout=10)
        assert movement.status_code == 404
        assert get(stack, "negocio", "/api/productos").json() == []
        assert get(stack, "negocio", "/precios/consultar", codigo=CATALOGUE[0].codigo).status_code == 404
        assert httpx.post(stack.services["ml"] + "/predict", json={"producto_id": 1, "dias": 7},
                          headers=bearer(own_token(stack, "ml")), timeout=10).status_code == 404
        key = {"X-API-Key": stack.secrets["DASHBOARD_API_KEY"]}
        dashboard = stack.services["dashboard"]
        assert httpx.get(dashboard + "/api/summary", headers=key).json()["total_productos"] == 0
        assert httpx.get(dashboard + "/api/top-products", headers=key).json() == []
        assert httpx.get(dashboard + "/health").status_code == 200


def test_the_as_built_model_holds_the_variant_too(tmp_path: Path) -> None:
    with running_stack(tmp_path, contract="as-built", catalogue="variant:3", gateway=False) as stack:
        products = stack.catalogue

        def token(agent: str, role: str) -> dict[str, str]:
            claims = {"sub": "t", "role": role, "exp": int(time.time()) + 600}
            return bearer(jwt.encode(claims, stack.secrets[f"JWT_SECRET_{agent.upper()}"], algorithm="HS256"))

        listed = httpx.get(stack.services["deposito"] + "/productos", headers=token("deposito", "deposito")).json()
        assert [p["codigo"] for p in listed["productos"]] == [p.codigo for p in products]
        one = httpx.get(f"{stack.services['deposito']}/productos/{products[2].id}", headers=token("deposito", "deposito"))
        assert one.json()["codigo"] == products[2].codigo  # (its negocio prices nothing: it sends deposito no token)
        top = httpx.get(stack.services["dashboard"] + "/api/top-products",
                        headers={"X-API-Key": stack.secrets["DASHBOARD_API_KEY"]}).json()
        assert top and {row["codigo"] for row in top} <= {p.codigo for p in products}
