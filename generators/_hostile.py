"""Hostile uploads: files a service must refuse quickly with a 4xx, without hanging or crashing.

- ``bomb``: a page image declaring 40000 x 40000 pixels (1.6 gigapixels, far past Pillow's
  decompression-bomb limit) with only a few rows of data behind it.
- ``nested_flate``: a page image behind six nested FlateDecode filters; a few kilobytes on disk,
  64 MB once every layer is undone (each layer alone looks harmless).
- ``not_document``: a ZIP archive named like an invoice.
(The fourth, ``oversize``, is a real heavy invoice past the app's limit, made by ``invoices``.)
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path

from generators._layout import Page
from generators._pdf import write_pdf
from generators._scan import PageImage

BOMB_SIDE_PX = 40_000
"""Declared width and height of the bomb image: 1.6e9 pixels, about 9x Pillow's error threshold."""
_BOMB_ROWS = 8
NESTED_LAYERS = 6
NESTED_SIDE_PX = 8_000
"""The nested image's side: 64e6 pixels, under Pillow's limit, so only the nesting is hostile."""


def _white_rows(width: int, rows: int, *, png_filter_byte: bool) -> bytes:
    row = (b"\x00" if png_filter_byte else b"") + b"\xff" * width
    return row * rows


def write_bomb_pdf(path: Path, page: Page, *, title: str) -> None:
    data = zlib.compress(_white_rows(BOMB_SIDE_PX, _BOMB_ROWS, png_filter_byte=False), 9)
    write_pdf(path, [(page, PageImage(BOMB_SIDE_PX, BOMB_SIDE_PX, data, ("FlateDecode",)))], title=title)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def write_bomb_png(path: Path) -> None:
    """A PNG whose header declares the bomb size; built by hand because Pillow refuses to write one."""
    header = struct.pack(">IIBBBBB", BOMB_SIDE_PX, BOMB_SIDE_PX, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(_white_rows(BOMB_SIDE_PX, _BOMB_ROWS, png_filter_byte=True), 9)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", rows) + _png_chunk(b"IEND", b"")
    )


def write_nested_flate_pdf(path: Path, page: Page, *, title: str) -> None:
    data = _white_rows(NESTED_SIDE_PX, NESTED_SIDE_PX, png_filter_byte=False)
    for _ in range(NESTED_LAYERS):
        data = zlib.compress(data, 9)
    image = PageImage(NESTED_SIDE_PX, NESTED_SIDE_PX, data, ("FlateDecode",) * NESTED_LAYERS)
    write_pdf(path, [(page, image)], title=title)


def write_not_document(path: Path, text: str) -> None:
    """A ZIP archive (what a renamed office document is) holding ``text``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("factura.txt", date_time=(2025, 1, 1, 0, 0, 0)), text)
    path.write_bytes(buffer.getvalue())
