"""docs/contract.md §5: prices with inflation, and OCR bounded by OCR_TIMEOUT_SECONDS (R3)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader

from generators.catalogue import CATALOGUE
from reference_stack import StackHandle
from tests.reference_stack.conftest import OCR_TIMEOUT_S
from tests.reference_stack.intended_client import bearer, has_security_headers, own_token

OCR_PATH = "/procesar_factura_completa"
MARGIN_S = 1.0


@pytest.fixture
def client(stack: StackHandle) -> Iterator[httpx.Client]:
    headers = bearer(own_token(stack, "negocio"))
    with httpx.Client(base_url=stack.services["negocio"], headers=headers, timeout=30) as c:
        yield c


def upload(client: httpx.Client, path: Path, media: str = "application/pdf") -> httpx.Response:
    return client.post(OCR_PATH, files={"file": (path.name, path.read_bytes(), media)})


def test_products_carry_current_prices(client: httpx.Client) -> None:
    products = client.get("/api/productos").json()
    assert len(products) == len(CATALOGUE)
    assert all(p["precio_actualizado"] == p["precio_venta"] for p in products)


def test_price_lookup_applies_monthly_inflation(client: httpx.Client) -> None:
    product = CATALOGUE[0]
    body = client.get("/precios/consultar", params={"codigo": product.codigo, "dias_desde_compra": 30}).json()
    assert body["codigo"] == product.codigo
    assert body["inflacion_aplicada"] == pytest.approx(0.045)
    assert body["precio_actualizado"] == round(product.precio_venta * 1.045, 2)


def test_price_lookup_refusals(client: httpx.Client) -> None:
    missing = client.get("/precios/consultar", params={"codigo": "0000000000000"})
    assert missing.status_code == 404 and missing.json() == {"detail": "producto 0000000000000 no encontrado"}
    no_code = client.get("/precios/consultar")
    assert no_code.status_code == 422 and no_code.json() == {"detail": "query.codigo: Field required"}


def test_normal_invoice_is_read_well_inside_the_timeout(client: httpx.Client, invoices: dict[str, Path]) -> None:
    started = time.monotonic()
    response = upload(client, invoices["normal"])
    elapsed = time.monotonic() - started
    body = response.json()
    assert response.status_code == 200, body
    assert elapsed < OCR_TIMEOUT_S
    assert body["factura_id"].startswith("FAC-") and body["items"] and body["total"] > 0
    assert {item["codigo"] for item in body["items"]} <= {p.codigo for p in CATALOGUE}


def test_heavy_invoice_gets_504_at_the_timeout_while_health_answers(
    stack: StackHandle, client: httpx.Client, invoices: dict[str, Path]
) -> None:
    heavy = invoices["heavy"]
    assert heavy.stat().st_size >= 12 * 1024 * 1024 and len(PdfReader(heavy).pages) >= 1
    health: list[tuple[int, float]] = []
    done = threading.Event()

    def probe() -> None:
        with httpx.Client(base_url=stack.services["negocio"]) as c:
            while not done.is_set():
                started = time.monotonic()
                health.append((c.get("/health").status_code, time.monotonic() - started))
                time.sleep(0.1)

    prober = threading.Thread(target=probe)
    prober.start()
    started = time.monotonic()
    try:
        response = upload(client, heavy)
    finally:
        elapsed = time.monotonic() - started
        done.set()
        prober.join()
    assert response.status_code == 504
    assert response.json() == {"detail": f"OCR processing exceeded timeout ({OCR_TIMEOUT_S:g}s)"}
    assert has_security_headers(response)
    assert OCR_TIMEOUT_S <= elapsed < OCR_TIMEOUT_S + MARGIN_S
    assert len(health) >= 5 and all(status == 200 and took < 0.5 for status, took in health)
    assert "ERROR negocio OCR processing exceeded timeout (2s)" in stack.log("negocio")


def test_upload_over_the_app_limit_is_413(client: httpx.Client) -> None:
    body = b"%PDF-1.4\n" + b"0" * (51 * 1024 * 1024)
    response = client.post(OCR_PATH, files={"file": ("big.pdf", body, "application/pdf")})
    assert response.status_code == 413
    assert response.json() == {"detail": "File exceeds the 50 MB upload limit"}


@pytest.mark.parametrize(
    ("name", "media", "status", "detail"),
    [
        ("hostile_not_document", "application/pdf", 400, "File content is not a valid application/pdf document"),
        ("hostile_bomb", "application/pdf", 400,
         "Image of 40000x40000 pixels exceeds the 89478485-pixel decompression-bomb limit"),
        ("hostile_nested_flate", "application/pdf", 400, "PDF stream behind 6 nested filters is not accepted"),
        ("normal", "text/plain", 415,
         "Unsupported file type 'text/plain' (accepted: application/pdf, image/png, image/jpeg)"),
    ],
)
def test_non_documents_are_refused_fast(
    client: httpx.Client, invoices: dict[str, Path], name: str, media: str, status: int, detail: str
) -> None:
    response = upload(client, invoices[name], media)
    assert (response.status_code, response.json()) == (status, {"detail": detail})
    assert response.elapsed.total_seconds() < 1.0


def test_upload_needs_the_file_field(client: httpx.Client) -> None:
    response = client.post(OCR_PATH, files={"image": ("a.pdf", b"%PDF-1.4\n", "application/pdf")})
    assert response.status_code == 400
    assert response.json() == {"detail": "multipart field 'file' with a PDF or image is required"}
