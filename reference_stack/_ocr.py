"""negocio's invoice OCR model (docs/contract.md §5, R3): a cost that grows with the document.

No OCR engine is needed: the model makes one real pass over the bytes (it hashes them and reads
the stack's product codes from the PDF's text layer, see ``_document``) and then takes ``seconds_per_mb`` per MB
of document, times the ``ocr_cost_multiplier`` fault. A one-page invoice of a few hundred KB takes
about a second; a 12 MB scan takes well over the 30 s timeout. The work waits in short slices and
stops as soon as ``cancel`` is set, so a timed-out job does not keep a core busy.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from generators.catalogue import Product
from reference_stack._document import DocumentRejected, inspect_document

ACCEPTED_TYPES = ("application/pdf", "image/png", "image/jpeg")
DEFAULT_SECONDS_PER_MB = 3.0
"""A 300 KB invoice: ~0.9 s; a 12 MB heavy invoice: ~36 s, past the default 30 s timeout."""
APP_BODY_LIMIT_BYTES = 50 * 1024 * 1024
_MAGIC = {"application/pdf": (b"%PDF-",), "image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",)}
_CODE = re.compile(rb"(?<!\d)(\d{13})(?!\d)")
_SLICE_S = 0.05
_CHUNK = 1024 * 1024


class OcrCancelled(Exception):
    """The caller gave up (timeout) and set the cancel event."""


@dataclass(frozen=True)
class OcrResult:
    items: list[dict[str, Any]]
    total: float
    size_bytes: int
    digest: str


def code_index(products: Iterable[Product]) -> dict[bytes, Product]:
    """The stack's products by barcode, as ``run_ocr`` looks them up."""
    return {p.codigo.encode(): p for p in products}


def check_document(content_type: str | None, head: bytes) -> str:
    """The accepted media type of an upload, or ``DocumentRejected``."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media not in ACCEPTED_TYPES:
        raise DocumentRejected(415, f"Unsupported file type {media or 'unknown'!r} (accepted: {', '.join(ACCEPTED_TYPES)})")
    if not head.startswith(_MAGIC[media]):
        raise DocumentRejected(400, f"File content is not a valid {media} document")
    return media


def ocr_cost_s(size_bytes: int, *, seconds_per_mb: float, multiplier: float) -> float:
    return size_bytes / (1024 * 1024) * seconds_per_mb * multiplier


def run_ocr(
    data: bytes,
    media: str,
    *,
    seconds_per_mb: float,
    multiplier: float,
    cancel: threading.Event,
    known: Mapping[bytes, Product],
    refuse_hostile: bool = False,
) -> OcrResult:
    """Read ``data`` and take its modelled time; ``OcrCancelled`` once ``cancel`` is set.

    Items are the ``known`` products (``code_index``) whose barcode the document's text holds.

    With ``refuse_hostile`` a decompression bomb or nested-filter PDF raises ``DocumentRejected``
    (the intended contract); without, it is read as a document with no items.
    """
    deadline = time.monotonic() + ocr_cost_s(len(data), seconds_per_mb=seconds_per_mb, multiplier=multiplier)
    digest = hashlib.sha256()
    for start in range(0, len(data), _CHUNK):
        if cancel.is_set():
            raise OcrCancelled
        digest.update(data[start:start + _CHUNK])
    try:
        text = inspect_document(data, media).text
    except DocumentRejected:
        if refuse_hostile:
            raise
        text = b""
    items = _read_items(text, known)
    while (left := deadline - time.monotonic()) > 0:
        if cancel.wait(min(left, _SLICE_S)):
            raise OcrCancelled
    total = round(sum(item["cantidad"] * item["precio_unitario"] for item in items), 2)
    return OcrResult(items=items, total=total, size_bytes=len(data), digest=digest.hexdigest()[:16])


def _read_items(text: bytes, known: Mapping[bytes, Product]) -> list[dict[str, Any]]:
    """Known products whose barcode appears in the document's text, one line per product."""
    found: dict[bytes, int] = {}
    for code in _CODE.findall(text):
        if code in known:
            found[code] = found.get(code, 0) + 1
    return [
        {"producto_id": known[code].id, "codigo": code.decode(), "nombre": known[code].nombre,
         "cantidad": count, "precio_unitario": known[code].precio_compra}
        for code, count in found.items()
    ]
