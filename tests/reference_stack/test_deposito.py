"""docs/contract.md §4: products, stock movements with idempotency keys, critical stock, no corruption."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from generators.catalogue import CATALOGUE
from reference_stack import StackHandle, running_stack
from tests.reference_stack.intended_client import bearer, own_token

FIELDS = {"id", "codigo", "nombre", "categoria", "precio_compra", "precio_venta", "stock_actual", "stock_minimo"}


@pytest.fixture
def client(stack: StackHandle) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.services["deposito"], headers=bearer(own_token(stack, "deposito"))) as c:
        yield c


def stock(client: httpx.Client, producto_id: int) -> int:
    return int(client.get(f"/productos/{producto_id}").json()["stock_actual"])


def move(client: httpx.Client, producto_id: int, tipo: str, cantidad: int, key: str | None = None) -> httpx.Response:
    body = {"producto_id": producto_id, "tipo_movimiento": tipo, "cantidad": cantidad, "idempotency_key": key}
    return client.post("/stock/update", json=body)


def test_product_list_pages_and_filters(client: httpx.Client) -> None:
    first = client.get("/productos", params={"limit": 5}).json()
    assert first["total"] == len(CATALOGUE) and [p["id"] for p in first["productos"]] == [1, 2, 3, 4, 5]
    assert set(first["productos"][0]) == FIELDS
    assert [p["id"] for p in client.get("/productos", params={"limit": 2, "offset": 5}).json()["productos"]] == [6, 7]
    lacteos = client.get("/productos", params={"categoria": "Lácteos"}).json()
    assert lacteos["total"] == sum(p.categoria == "Lácteos" for p in CATALOGUE)
    assert {p["categoria"] for p in lacteos["productos"]} == {"Lácteos"}


def test_product_list_limit_is_at_most_100(client: httpx.Client) -> None:
    response = client.get("/productos", params={"limit": 101})
    assert response.status_code == 422
    assert response.json() == {"detail": "query.limit: Input should be less than or equal to 100"}


def test_product_by_id(client: httpx.Client) -> None:
    product = client.get("/productos/2").json()
    assert product["codigo"] == CATALOGUE[1].codigo and product["precio_venta"] == CATALOGUE[1].precio_venta
    missing = client.get("/productos/9999")
    assert missing.status_code == 404 and missing.json() == {"detail": "producto 9999 no encontrado"}


def test_stock_movements_change_stock(client: httpx.Client) -> None:
    before = stock(client, 3)
    entrada = move(client, 3, "entrada", 7).json()
    assert entrada["stock_anterior"] == before and entrada["stock_nuevo"] == before + 7
    assert set(entrada) == {"movimiento_id", "producto_id", "stock_anterior", "stock_nuevo"}
    salida = move(client, 3, "salida", 2).json()
    assert salida["stock_nuevo"] == before + 5 == stock(client, 3)


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        ({"producto_id": 31, "tipo_movimiento": "salida", "cantidad": 10_000}, 400, None),
        ({"producto_id": 9999, "tipo_movimiento": "entrada", "cantidad": 1}, 404, "producto 9999 no encontrado"),
        ({"producto_id": 1, "tipo_movimiento": "entrada", "cantidad": 0}, 422,
         "body.cantidad: Input should be greater than 0"),
        ({"producto_id": 1, "tipo_movimiento": "robo", "cantidad": 1}, 422,
         "body.tipo_movimiento: Input should be 'entrada' or 'salida'"),
    ],
)
def test_stock_update_refusals(client: httpx.Client, body: dict[str, object], status: int, detail: str | None) -> None:
    before = stock(client, 31)
    response = client.post("/stock/update", json=body)
    assert response.status_code == status
    if detail is not None:
        assert response.json() == {"detail": detail}
    else:
        assert response.json()["detail"].startswith("insufficient stock:")
    assert stock(client, 31) == before


def test_repeated_idempotency_key_returns_the_first_result(client: httpx.Client) -> None:
    key = f"test-{uuid.uuid4()}"
    before = stock(client, 4)
    first = move(client, 4, "salida", 3, key).json()
    again = move(client, 4, "salida", 3, key).json()
    different_body = move(client, 4, "entrada", 50, key).json()
    assert first == again == different_body
    assert stock(client, 4) == before - 3


def test_critical_stock_lists_products_at_or_below_minimum(client: httpx.Client) -> None:
    critical = client.get("/stock/critical").json()
    assert critical and all(p["stock_actual"] <= p["stock_minimo"] for p in critical)
    expected = {p.id for p in CATALOGUE if p.stock_actual <= p.stock_minimo}
    assert expected <= {p["id"] for p in critical}


def test_concurrent_idempotent_updates_apply_each_movement_once(stack: StackHandle) -> None:
    """8 threads send 120 movements, every one twice under the same key: stock moves by each once."""
    producto_id, threads, per_thread = 12, 8, 15
    token = own_token(stack, "deposito")
    plan = [(f"conc-{uuid.uuid4()}", "entrada" if n % 3 else "salida", 1 + n % 4) for n in range(threads * per_thread)]
    results: dict[str, list[dict[str, int]]] = {key: [] for key, _, _ in plan}
    lock = threading.Lock()

    def worker(thread_no: int) -> None:
        """Threads n and n + threads/2 send the same slice of keys, in the same order, concurrently."""
        with httpx.Client(base_url=stack.services["deposito"], headers=bearer(token)) as c:
            for key, tipo, cantidad in plan[thread_no % (threads // 2)::threads // 2]:
                response = move(c, producto_id, tipo, cantidad, key)
                assert response.status_code in (200, 400)
                if response.status_code == 200:
                    with lock:
                        results[key].append(response.json())

    with httpx.Client(base_url=stack.services["deposito"], headers=bearer(token)) as c:
        before = stock(c, producto_id)
        pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(timeout=60)
        after = stock(c, producto_id)
    acknowledged = {key: answers[0] for key, answers in results.items() if answers}
    assert all(len({a["movimiento_id"] for a in answers}) == 1 for answers in results.values() if answers)
    applied = sum(a["stock_nuevo"] - a["stock_anterior"] for a in acknowledged.values())
    assert after == before + applied
    assert sum(len(a) for a in results.values()) > len(acknowledged) > 0  # duplicates really were sent


def test_stock_never_goes_negative_under_concurrent_salidas(stack: StackHandle) -> None:
    producto_id = 34  # starts at 3 units
    token = own_token(stack, "deposito")
    statuses: list[int] = []

    def take() -> None:
        with httpx.Client(base_url=stack.services["deposito"], headers=bearer(token)) as c:
            statuses.append(move(c, producto_id, "salida", 1).status_code)

    with httpx.Client(base_url=stack.services["deposito"], headers=bearer(token)) as c:
        before = stock(c, producto_id)
        pool = [threading.Thread(target=take) for _ in range(before + 5)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(timeout=30)
        assert stock(c, producto_id) == 0
    assert statuses.count(200) == before and statuses.count(400) == 5


def test_health_is_503_while_the_database_is_gone(tmp_path: Path) -> None:
    with running_stack(tmp_path, services=("deposito", "dashboard"), gateway=False) as lone:
        database = tmp_path / "data" / "inventario.sqlite3"
        database.rename(database.with_name("moved.sqlite3"))
        try:
            down = httpx.get(lone.services["deposito"] + "/health")
            dashboard = httpx.get(lone.services["dashboard"] + "/health")
        finally:
            database.with_name("moved.sqlite3").rename(database)
        assert (down.status_code, down.json()) == (503, {
            "status": "unhealthy", "service": "deposito", "error": "database unavailable: inventario.sqlite3 is missing"})
        assert (dashboard.status_code, dashboard.json()["status"]) == (503, "unhealthy")
        assert httpx.get(lone.services["deposito"] + "/health").status_code == 200
