"""Scanned invoices as PDF: one pre-encoded page image per sheet under an invisible text layer.

reportlab by default re-encodes every image (raw RGB, deflate, then ASCII85, which inflates the
stream by a quarter and costs most of the time). Here each page image arrives already encoded
(``_scan.flate`` or ``_scan.jpeg``) and is registered as an image XObject whose stream reportlab
writes untouched. The words of the layout go on top in text render mode 3 (invisible), as in a
searchable scan, so a PDF library can extract the invoice number and CUITs.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from reportlab.lib.utils import _digester  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfdoc  # type: ignore[import-untyped]
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from generators._layout import PAGE_HEIGHT_PT, PAGE_WIDTH_PT, Page
from generators._scan import PageImage

_INVISIBLE = 3
"""PDF text render mode 3: neither fill nor stroke (OCR layers use it)."""


class _EncodedImage(pdfdoc.PDFImageXObject):  # type: ignore[misc]
    """An image XObject whose stream is already Flate or DCT encoded: written as is."""

    def __init__(self, name: str, image: PageImage) -> None:
        super().__init__(name)
        self.width, self.height = image.width_px, image.height_px
        self.bitsPerComponent = 8
        self.colorSpace = "DeviceGray"
        self._filters = image.filters
        self.streamContent = image.data
        self.mask = None


def _draw_page_image(canvas: Canvas, image: PageImage, key: str) -> None:
    """Register ``image`` under the XObject name ``drawImage(key)`` looks up, then draw it full-page."""
    name = _digester(f"{key}None".encode())
    registered = canvas._doc.getXObjectName(name)
    xobject = _EncodedImage(name, image)
    canvas._setXObjects(xobject)
    canvas._doc.Reference(xobject, registered)
    canvas._doc.addForm(name, xobject)
    canvas.drawImage(key, 0, 0, width=PAGE_WIDTH_PT, height=PAGE_HEIGHT_PT)


def _draw_text_layer(canvas: Canvas, page: Page) -> None:
    for text in page.texts:
        font = "Helvetica-Bold" if text.bold else "Helvetica"
        width = stringWidth(text.text, font, text.size)
        x = {"left": text.x, "right": text.x - width, "center": text.x - width / 2}[text.align]
        layer = canvas.beginText(x, PAGE_HEIGHT_PT - text.y)
        layer.setTextRenderMode(_INVISIBLE)
        layer.setFont(font, text.size)
        layer.textOut(text.text)
        canvas.drawText(layer)


def write_pdf(path: Path, sheets: Iterable[tuple[Page, PageImage]], *, title: str) -> None:
    """Write one PDF page per ``(layout, image)`` pair; ``invariant`` keeps output byte-stable per seed."""
    canvas = Canvas(str(path), pagesize=(PAGE_WIDTH_PT, PAGE_HEIGHT_PT), invariant=1, pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator("stagegate generate invoices")
    for index, (page, image) in enumerate(sheets):
        _draw_page_image(canvas, image, f"{title}#page{index}")
        _draw_text_layer(canvas, page)
        canvas.showPage()
    canvas.save()
