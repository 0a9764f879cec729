"""Where everything on an invoice page goes, in points from the top-left corner of an A4 sheet.

One layout feeds two renderers: the scanner (``_scan.py``) burns it into pixels, and the PDF
writer (``_pdf.py``) lays the same words as an invisible text layer, the way a searchable scan
carries its OCR text. Long invoices continue on further sheets ("Hoja 2 de 3"), each repeating
the header as Argentine multi-sheet invoices do; totals go on the last sheet.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from generators._factura import AFIP_CODE, Factura, format_ars

PAGE_WIDTH_PT = 595.0
PAGE_HEIGHT_PT = 842.0
LINES_PER_PAGE = 28
"""Item lines that fit between the header and the footer of one sheet."""
LINES_ON_LAST_PAGE = 22
"""The last sheet also carries the totals block, so it holds fewer lines."""
_LINE_STEP_PT = 15.0
_TABLE_TOP_PT = 262.0

Align = Literal["left", "right", "center"]


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    """Baseline, in points from the top of the page."""
    text: str
    size: float = 9.0
    bold: bool = False
    align: Align = "left"


@dataclass(frozen=True)
class Rule:
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Page:
    number: int
    of: int
    texts: list[Text] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)


def pages_for_lines(line_count: int) -> int:
    """Sheets needed for ``line_count`` item lines."""
    if line_count <= LINES_ON_LAST_PAGE:
        return 1
    return 1 + -(-(line_count - LINES_ON_LAST_PAGE) // LINES_PER_PAGE)


def line_count_for_pages(pages: int, extra: int) -> int:
    """Item lines that make exactly ``pages`` sheets; ``extra`` (0..LINES_ON_LAST_PAGE-1) varies the last one."""
    return (pages - 1) * LINES_PER_PAGE + 1 + extra % LINES_ON_LAST_PAGE


def layout(factura: Factura) -> list[Page]:
    """Every sheet of ``factura``, ready to render."""
    total_pages = pages_for_lines(len(factura.lines))
    pages: list[Page] = []
    start = 0
    for number in range(1, total_pages + 1):
        last = number == total_pages
        count = len(factura.lines) - start if last else LINES_PER_PAGE
        page = Page(number=number, of=total_pages)
        _header(page, factura)
        y = _table(page, factura, start, count)
        if last:
            _totals(page, factura, y + 10)
        _footer(page, factura)
        pages.append(page)
        start += count
    return pages


def _box(page: Page, x: float, y: float, w: float, h: float) -> None:
    page.rules.extend(
        [Rule(x, y, x + w, y), Rule(x + w, y, x + w, y + h), Rule(x, y + h, x + w, y + h), Rule(x, y, x, y + h)]
    )


def _header(page: Page, f: Factura) -> None:
    add = page.texts.append
    _box(page, 20, 20, 555, 150)
    _box(page, 277, 20, 41, 44)
    page.rules.append(Rule(297.5, 64, 297.5, 170))
    add(Text(297.5, 52, f.letter, size=30, bold=True, align="center"))
    add(Text(297.5, 76, f"COD. {AFIP_CODE[f.letter]}", size=7, bold=True, align="center"))
    add(Text(30, 48, f.emitter.name, size=13, bold=True))
    add(Text(30, 70, f"Domicilio: {f.emitter.address}", size=8))
    add(Text(30, 84, f"Condición frente al IVA: {f.emitter.iva_condition}", size=8))
    add(Text(30, 150, f"ORIGINAL - Hoja {page.number} de {page.of}", size=8, bold=True))
    add(Text(320, 44, "FACTURA", size=16, bold=True))
    add(Text(320, 66, f"Factura N° {f.number}", size=10, bold=True))
    add(Text(320, 82, f"Punto de Venta: {f.point_of_sale:05d}   Comp. Nro: {f.sequence:08d}", size=8))
    add(Text(320, 96, f"Fecha de Emisión: {f.issued:%d/%m/%Y}", size=8))
    add(Text(320, 112, f"CUIT: {f.emitter.cuit}", size=9, bold=True))
    add(Text(320, 126, f"Ingresos Brutos: {f.emitter.cuit.replace('-', '')}", size=8))
    add(Text(320, 140, f"Inicio de Actividades: 01/03/{2000 + f.point_of_sale}", size=8))
    _box(page, 20, 176, 555, 62)
    add(Text(30, 192, f"CUIT: {f.receiver.cuit}", size=9, bold=True))
    add(Text(220, 192, f"Apellido y Nombre / Razón Social: {f.receiver.name}", size=8))
    add(Text(30, 210, f"Condición frente al IVA: {f.receiver.iva_condition}", size=8))
    add(Text(300, 210, f"Domicilio: {f.receiver.address}", size=8))
    add(Text(30, 228, "Condición de venta: Cuenta Corriente", size=8))


_COLUMNS: tuple[tuple[float, str, Align], ...] = (
    (30, "Código", "left"), (120, "Producto", "left"), (380, "Cant.", "right"),
    (450, "P. Unitario", "right"), (500, "% IVA", "right"), (565, "Subtotal", "right"),
)


def _table(page: Page, f: Factura, start: int, count: int) -> float:
    add = page.texts.append
    for x, title, align in _COLUMNS:
        if title != "% IVA" or f.letter != "C":
            add(Text(x, _TABLE_TOP_PT - 8, title, size=8, bold=True, align=align))
    page.rules.append(Rule(20, _TABLE_TOP_PT - 3, 575, _TABLE_TOP_PT - 3))
    y = _TABLE_TOP_PT + 10
    for line in f.lines[start : start + count]:
        add(Text(30, y, line.codigo, size=8))
        add(Text(120, y, line.description, size=8))
        add(Text(380, y, str(line.quantity), size=8, align="right"))
        add(Text(450, y, format_ars(line.unit_price), size=8, align="right"))
        if f.letter != "C":
            add(Text(500, y, _percent(line.iva_rate), size=8, align="right"))
        add(Text(565, y, format_ars(line.amount), size=8, align="right"))
        y += _LINE_STEP_PT
    return y


def _totals(page: Page, f: Factura, y: float) -> None:
    add = page.texts.append
    page.rules.append(Rule(330, y - 10, 575, y - 10))
    label = "IVA contenido" if f.letter == "B" else "IVA"
    rows = [("Subtotal neto" if f.letter != "C" else "Subtotal", f.subtotal)]
    rows += [(f"{label} {_percent(rate)}", amount) for rate, amount in f.iva.items()]
    rows.append(("Importe Total", f.total))
    for title, amount in rows:
        bold = title == "Importe Total"
        add(Text(340, y, f"{title}:", size=9, bold=bold))
        add(Text(565, y, format_ars(amount), size=9, bold=bold, align="right"))
        y += 14


def _percent(rate: Decimal) -> str:
    """``Decimal("0.105")`` -> ``"10,5%"``."""
    return f"{(rate * 100).normalize():f}%".replace(".", ",")


def _footer(page: Page, f: Factura) -> None:
    page.rules.append(Rule(20, 770, 575, 770))
    page.texts.append(Text(30, 790, f"CAE N°: {f.cae}", size=9, bold=True))
    page.texts.append(Text(30, 804, f"Fecha de Vto. de CAE: {f.issued + dt.timedelta(days=10):%d/%m/%Y}", size=8))
    page.texts.append(Text(565, 790, f"Pág. {page.number}/{page.of}", size=8, align="right"))
