"""The real negocio's OCR step, on the reference stack's OCR cost model (``reference_stack._ocr``).

The real ``OCRProcessor.process_image`` is synchronous (R3 made it so) and runs EasyOCR. The model
spends the reference stack's modelled time on the upload and "reads" a few of the stack's products,
picked from the image's digest since it has no pixel OCR; an image too small to hold a line of
text yields none. Nothing can stop it once started, as with a thread running EasyOCR.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from typing import Any

from PIL import Image, UnidentifiedImageError

from generators.catalogue import Product
from reference_stack._ocr import run_ocr

MIN_TEXT_SIDE_PX = 100
"""An image smaller than this on either side holds no readable invoice line."""
MAX_ITEMS = 5


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of an image upload; ``ValueError`` when it is not a readable image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"cannot identify image file ({exc.__class__.__name__})") from None


class OcrProcessor:
    """``process_image`` is synchronous, as in the real code after R3; it never gives up."""

    def __init__(self, *, seconds_per_mb: float, multiplier: float, products: Sequence[Product]) -> None:
        self.seconds_per_mb = seconds_per_mb
        self.multiplier = multiplier
        self.products = products

    def process_image(self, data: bytes) -> dict[str, Any]:
        width, height = image_size(data)
        result = run_ocr(data, "image/png", seconds_per_mb=self.seconds_per_mb, multiplier=self.multiplier,
                         cancel=threading.Event(), known={})  # an image has no text layer to read
        if min(width, height) < MIN_TEXT_SIDE_PX or not self.products:
            return {"texto": "", "productos": [], "digest": result.digest}
        seed = int(result.digest, 16)
        count = 1 + seed % MAX_ITEMS
        picked = [self.products[(seed >> (8 * i)) % len(self.products)] for i in range(count)]
        productos = [{"codigo": p.codigo, "nombre": p.nombre, "cantidad": 1 + (seed >> (4 * i)) % 12,
                      "precio_unitario": p.precio_compra} for i, p in enumerate(picked)]
        return {"texto": " ".join(p.nombre for p in picked), "productos": productos, "digest": result.digest}
