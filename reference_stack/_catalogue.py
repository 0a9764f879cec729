"""Which products a started stack holds: the fixture, none, or a deterministic variant.

The gate must judge deployments it did not build, whose products are not the fixture's. A stack
started with ``catalogue="variant:SEED"`` plays such a deployment: other ids (sparse, from the
thousands up), other codes (13-digit in-store codes starting with ``2``, never a fixture code),
another count, other prices and stock levels, some at or below ``stock_minimo``. ``empty`` holds
no product at all. Every service derives its products from the same spec, so they agree: a code
deposito lists is one negocio prices and one ml predicts. Spec syntax::

    fixture                  the fixture catalogue (generators.catalogue), ids 1..40 (default)
    empty                    no products
    variant:SEED             a catalogue drawn from SEED (an integer): 12 to 35 products
    variant:SEED:COUNT       the same, with exactly COUNT products (1..1000; > 100 needs paging)

The spec reaches every service process as ``STAGEGATE_CATALOGUE`` in its environment.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping

from generators.catalogue import CATALOGUE, MARKUP, Product
from reference_stack._errors import ConfigInvalid

CATALOGUE_ENV = "STAGEGATE_CATALOGUE"
FIXTURE = "fixture"
EMPTY = "empty"
MAX_COUNT = 1000
DEFAULT_COUNTS = (12, 35)
CRITICAL_SHARE = 0.2
"""About one product in five starts at or below its minimum (the first always exactly at it)."""
_SPEC = re.compile(r"variant:(\d{1,9})(?::(\d{1,4}))?")
_GOODS = (
    ("Mermelada de durazno 454 g", "Almacén"), ("Lentejas secas 400 g", "Almacén"), ("Polenta 500 g", "Almacén"),
    ("Té negro x 50", "Almacén"), ("Vinagre de alcohol 1 L", "Almacén"), ("Galletas de arroz 150 g", "Almacén"),
    ("Leche descremada 1 L", "Lácteos"), ("Ricota 500 g", "Lácteos"), ("Crema de leche 200 ml", "Lácteos"),
    ("Jugo de naranja 1 L", "Bebidas"), ("Soda sifón 2 L", "Bebidas"), ("Sidra 720 ml", "Bebidas"),
    ("Turrón de maní 25 g", "Golosinas"), ("Chupetín frutal", "Golosinas"), ("Palitos salados 200 g", "Snacks"),
    ("Limpiavidrios 500 ml", "Limpieza"), ("Esponja multiuso x 3", "Limpieza"), ("Desodorante 150 ml", "Perfumería"),
    ("Medialunas x 6", "Panadería"), ("Tapas de tarta x 2", "Frescos"), ("Salame tandilero 250 g", "Fiambres"),
    ("Pilas AA x 4", "Bazar"), ("Velas x 6", "Bazar"), ("Carbón 4 kg", "Bazar"),
)
_BRANDS = ("Serrana", "Del Litoral", "Pampa Sur", "La Quebrada", "Patagonia Fresca", "El Molino", "Cumbres")


def parse_catalogue(spec: str) -> str:
    """``spec`` if it is one of the forms above, else ``ConfigInvalid`` in one line."""
    if spec in (FIXTURE, EMPTY):
        return spec
    found = _SPEC.fullmatch(spec)
    if found is None or (found[2] is not None and not 1 <= int(found[2]) <= MAX_COUNT):
        raise ConfigInvalid(f"catalogue: expected {FIXTURE}, {EMPTY}, variant:SEED or variant:SEED:COUNT "
                            f"(COUNT 1..{MAX_COUNT}), got {spec!r}")
    return spec


def catalogue_products(spec: str) -> tuple[Product, ...]:
    """The products a stack started with ``spec`` holds, in id order; the same for every caller."""
    if parse_catalogue(spec) == FIXTURE:
        return CATALOGUE
    if spec == EMPTY:
        return ()
    found = _SPEC.fullmatch(spec)
    assert found is not None  # parse_catalogue accepted it
    return _variant(int(found[1]), int(found[2]) if found[2] else None)


def service_catalogue(env: Mapping[str, str]) -> tuple[Product, ...]:
    """The products of the stack a service process belongs to, from its environment."""
    return catalogue_products(env.get(CATALOGUE_ENV) or FIXTURE)


def _variant(seed: int, count: int | None) -> tuple[Product, ...]:
    rng = random.Random(f"stagegate-catalogue-variant-{seed}")
    size = count if count is not None else rng.randint(*DEFAULT_COUNTS)
    product_id = rng.randrange(1000, 5000)
    codes: set[str] = set()
    products = []
    for index in range(size):
        product_id += rng.randint(1, 97)
        codigo = f"2{rng.randrange(10**12):012d}"
        while codigo in codes:
            codigo = f"2{rng.randrange(10**12):012d}"
        codes.add(codigo)
        good, categoria = rng.choice(_GOODS)
        precio = round(rng.uniform(250, 18000), -1)
        minimo = rng.randint(4, 40)
        if index == 0:
            stock = minimo
        elif rng.random() < CRITICAL_SHARE:
            stock = rng.randint(1, minimo)
        else:
            stock = rng.randint(minimo + 1, minimo * 8)
        products.append(Product(
            id=product_id, codigo=codigo, nombre=f"{good} {rng.choice(_BRANDS)}", categoria=categoria, precio_compra=precio,
            precio_venta=round(precio * MARKUP, 2), stock_actual=stock, stock_minimo=minimo,
            iva_rate=0.105 if categoria in ("Almacén", "Lácteos", "Frescos", "Panadería") else 0.21,
        ))
    return tuple(products)
