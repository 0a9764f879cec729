"""What negocio reads from an upload before OCR: refuse hostile documents, find the text layer.

A PDF is walked stream by stream (no PDF library is needed for this much): a page image whose
declared size is past Pillow's decompression-bomb limit, or a stream behind more than two
cascaded filters (a Flate bomb hides in nesting), is refused with 400 before any decoding.
Text streams are inflated with a bounded output and searched for catalogue barcodes.
"""

from __future__ import annotations

import base64
import io
import re
import warnings
import zlib
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

MAX_IMAGE_PIXELS = int(Image.MAX_IMAGE_PIXELS or 89_478_485)
MAX_FILTER_LAYERS = 2
"""reportlab's own text streams use two (ASCII85 over Flate); more is refused."""
MAX_TEXT_STREAM_BYTES = 16 * 1024 * 1024
_STREAM_START = re.compile(rb"\bobj\s*<<((?:(?!endobj).){0,4096}?)>>\s*stream\r?\n", re.DOTALL)
_LENGTH = re.compile(rb"/Length\s+(\d+)(?!\s+\d+\s+R)")
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/\w+)")
_SIZE = re.compile(rb"/(Width|Height)\s+(\d+)")


class DocumentRejected(Exception):
    """Not a document the OCR accepts: ``status`` is 415 (wrong type) or 400 (bad or hostile content)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass(frozen=True)
class DocumentInfo:
    images: int
    text: bytes
    """Decoded text of the document (a PDF's content streams), empty for a plain image."""


def inspect_document(data: bytes, media: str) -> DocumentInfo:
    """Check ``data`` (already known to be ``media``) and return what OCR needs from it."""
    if media == "application/pdf":
        return _inspect_pdf(data)
    _check_image(data)
    return DocumentInfo(images=1, text=b"")


def _refuse_pixels(width: int, height: int) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise DocumentRejected(
            400, f"Image of {width}x{height} pixels exceeds the {MAX_IMAGE_PIXELS}-pixel decompression-bomb limit"
        )


def _check_image(data: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise DocumentRejected(400, "Image exceeds the decompression-bomb limit") from None
        except (UnidentifiedImageError, OSError, SyntaxError):
            raise DocumentRejected(400, "File content is not a readable image") from None
    _refuse_pixels(width, height)


def _inspect_pdf(data: bytes) -> DocumentInfo:
    texts: list[bytes] = []
    images = 0
    position = 0
    while (found := _STREAM_START.search(data, position)) is not None:
        header, start = found.group(1), found.end()
        length = _LENGTH.search(header)
        end = start + int(length.group(1)) if length else data.find(b"endstream", start)
        end = len(data) if end < start else end
        position = end
        filters = _filters(header)
        if len(filters) > MAX_FILTER_LAYERS:
            raise DocumentRejected(400, f"PDF stream behind {len(filters)} nested filters is not accepted")
        if b"/Image" in header:
            images += 1
            sizes = dict(_SIZE.findall(header))
            _refuse_pixels(int(sizes.get(b"Width", 0)), int(sizes.get(b"Height", 0)))
            continue
        decoded = _decode(data[start:end], filters)
        if decoded:
            texts.append(decoded)
    if images == 0 and not texts:
        raise DocumentRejected(400, "PDF has no page content")
    return DocumentInfo(images=images, text=b"\n".join(texts))


def _filters(header: bytes) -> list[bytes]:
    spec = _FILTER.search(header)
    return re.findall(rb"/(\w+)", spec.group(1)) if spec else []


def _decode(raw: bytes, filters: list[bytes]) -> bytes:
    """Undo ASCII85 and Flate (bounded); any other filter, or broken data, yields nothing."""
    data = raw
    for name in filters:
        try:
            if name == b"ASCII85Decode":
                body = data.strip()
                body = body[2:] if body.startswith(b"<~") else body
                data = base64.a85decode(body.removesuffix(b"~>"))
            elif name == b"FlateDecode":
                data = zlib.decompressobj().decompress(data, MAX_TEXT_STREAM_BYTES)
            else:
                return b""
        except (ValueError, zlib.error):
            return b""
    return data
