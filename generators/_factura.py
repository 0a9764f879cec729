"""The content of an Argentine invoice (factura): parties, lines and totals that add up.

Letters follow AFIP usage: ``A`` from a Responsable Inscripto to another one (IVA shown apart),
``B`` from a Responsable Inscripto to a final consumer or monotributista (IVA included in the
prices, shown as "IVA contenido"), ``C`` from a monotributista (no IVA). Money is ``Decimal``
rounded half-up to cents; IVA is computed per rate on the net base, so
``subtotal + sum(iva.values()) == total`` holds exactly.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from generators._cuit import COMPANY_PREFIXES, PERSON_PREFIXES, random_cuit
from generators.catalogue import CATALOGUE

Letter = Literal["A", "B", "C"]
LETTERS: tuple[Letter, ...] = ("A", "B", "C")
AFIP_CODE: dict[Letter, str] = {"A": "001", "B": "006", "C": "011"}
"""AFIP voucher type code printed under the letter box."""

IVA_RATES = (Decimal("0.21"), Decimal("0.105"))
_CENT = Decimal("0.01")

_EMITTERS = (
    ("Distribuidora del Litoral S.A.", "Av. Pellegrini 1450, Rosario, Santa Fe"),
    ("Mayorista Cuyo S.R.L.", "San Martín 820, Godoy Cruz, Mendoza"),
    ("Alimentos Pampeanos S.A.", "Ruta 5 km 12, Santa Rosa, La Pampa"),
    ("Comercial Norte Grande S.A.", "Belgrano 233, San Miguel de Tucumán"),
)
_MONOTRIBUTO_EMITTERS = (
    ("Almacén Don Tito", "Mitre 455, Bahía Blanca, Buenos Aires"),
    ("Granja La Esperanza", "Camino Rural 14, Tandil, Buenos Aires"),
)
_RECEIVERS = (
    ("Minimarket La Esquina S.R.L.", "Corrientes 3120, CABA", "Responsable Inscripto"),
    ("Autoservicio El Sol", "Sarmiento 77, Córdoba", "Monotributista"),
)


def money(value: Decimal) -> Decimal:
    return value.quantize(_CENT, rounding=ROUND_HALF_UP)


def format_ars(value: Decimal) -> str:
    """``Decimal("12345.6")`` -> ``"$ 12.345,60"`` (Argentine grouping and decimal comma)."""
    text = f"{money(value):,.2f}"
    return "$ " + text.replace(",", "_").replace(".", ",").replace("_", ".")


@dataclass(frozen=True)
class Party:
    name: str
    address: str
    cuit: str
    iva_condition: str


@dataclass(frozen=True)
class Line:
    codigo: str
    description: str
    quantity: int
    unit_price: Decimal
    iva_rate: Decimal

    @property
    def amount(self) -> Decimal:
        return money(self.unit_price * self.quantity)


@dataclass(frozen=True)
class Factura:
    letter: Letter
    point_of_sale: int
    sequence: int
    issued: dt.date
    emitter: Party
    receiver: Party
    lines: tuple[Line, ...]
    cae: str

    @property
    def number(self) -> str:
        """``00003-00012345``: point of sale and sequence, as printed."""
        return f"{self.point_of_sale:05d}-{self.sequence:08d}"

    @property
    def subtotal(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))

    @property
    def iva(self) -> dict[Decimal, Decimal]:
        """IVA per rate over that rate's net base; empty for a Factura C."""
        if self.letter == "C":
            return {}
        return {
            rate: money(sum((ln.amount for ln in self.lines if ln.iva_rate == rate), Decimal(0)) * rate)
            for rate in IVA_RATES
        }

    @property
    def total(self) -> Decimal:
        return self.subtotal + sum(self.iva.values(), Decimal(0))


def make_factura(rng: random.Random, *, letter: Letter, line_count: int) -> Factura:
    """A factura with ``line_count`` lines drawn from the catalogue (products repeat past 40)."""
    if letter == "C":
        name, address = rng.choice(_MONOTRIBUTO_EMITTERS)
        emitter = Party(name, address, random_cuit(rng, PERSON_PREFIXES), "Responsable Monotributo")
    else:
        name, address = rng.choice(_EMITTERS)
        emitter = Party(name, address, random_cuit(rng, COMPANY_PREFIXES), "IVA Responsable Inscripto")
    r_name, r_address, r_condition = _RECEIVERS[0] if letter == "A" else rng.choice(_RECEIVERS)
    receiver = Party(r_name, r_address, random_cuit(rng, COMPANY_PREFIXES), r_condition)
    products = [CATALOGUE[rng.randrange(len(CATALOGUE))] for _ in range(line_count)]
    lines = tuple(
        Line(
            codigo=p.codigo,
            description=p.nombre,
            quantity=rng.randint(1, 48),
            unit_price=money(Decimal(str(p.precio_compra))),
            iva_rate=Decimal(str(p.iva_rate)),
        )
        for p in products
    )
    issued = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randrange(330))
    return Factura(
        letter=letter,
        point_of_sale=rng.randint(1, 12),
        sequence=rng.randint(1, 99_999_999),
        issued=issued,
        emitter=emitter,
        receiver=receiver,
        lines=lines,
        cae=f"{rng.randrange(10**14):014d}",
    )
