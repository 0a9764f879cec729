"""Scanned-looking page images: an invoice layout burnt into grey paper with grain and skew.

Each pixel is a paper or ink tone plus ``noise_bits`` of uniform random grain drawn for that page,
so no two pages share pixels (reportlab stores an image drawn twice only once) and every pixel
carries ``noise_bits`` bits of entropy. No lossless coder can store that in fewer than
``noise_bits / 8`` bytes per pixel, which is what makes a heavy invoice's size a guarantee
rather than a hope. The grain is compressed Huffman-only: noise has no repeats for LZ77 to find,
so skipping the match search makes deflate about three times faster at the same size.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import reportlab  # type: ignore[import-untyped]
from PIL import Image, ImageDraw, ImageFont

from generators._layout import PAGE_HEIGHT_PT, PAGE_WIDTH_PT, Page

PAPER_LEVEL = 210
"""Grey of the paper before grain; with 5 grain bits and the light falloff it stays <= 255."""
INK_LEVEL = 45
LIGHT_FALLOFF = 8
"""Extra brightness towards the bottom of the sheet, like a flatbed's uneven lamp."""
MAX_SKEW_DEG = 0.9
_FONT_DIR = Path(reportlab.__file__).parent / "fonts"
"""Bitstream Vera ships with reportlab, so scans need no system fonts and have Spanish accents."""


@dataclass(frozen=True)
class PageImage:
    """One encoded page image, ready to go into a PDF as is, or to be written as a file."""

    width_px: int
    height_px: int
    data: bytes
    filters: tuple[str, ...]
    """PDF filter names (``FlateDecode``, ``DCTDecode``) in decoding order: the first is undone first."""


def page_pixels(dpi: int) -> tuple[int, int]:
    """Width and height in pixels of an A4 page scanned at ``dpi``."""
    return round(PAGE_WIDTH_PT * dpi / 72), round(PAGE_HEIGHT_PT * dpi / 72)


@lru_cache(maxsize=64)
def _font(size_px: int, bold: bool) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(_FONT_DIR / ("VeraBd.ttf" if bold else "Vera.ttf")), size_px)


def _ink_mask(page: Page, dpi: int) -> Image.Image:
    """The page's text and rules as an 8-bit coverage mask (255 = full ink)."""
    scale = dpi / 72
    mask = Image.new("L", page_pixels(dpi), 0)
    draw = ImageDraw.Draw(mask)
    stroke = max(1, round(scale * 0.8))
    for rule in page.rules:
        draw.line([(rule.x0 * scale, rule.y0 * scale), (rule.x1 * scale, rule.y1 * scale)], fill=255, width=stroke)
    anchors = {"left": "ls", "right": "rs", "center": "ms"}
    for text in page.texts:
        draw.text(
            (text.x * scale, text.y * scale),
            text.text,
            fill=255,
            font=_font(max(6, round(text.size * scale)), text.bold),
            anchor=anchors[text.align],
        )
    return mask


def scan(page: Page, *, dpi: int, rng: np.random.Generator, noise_bits: int = 5) -> np.ndarray:
    """Pixels (``uint8``, rows x columns) of ``page`` as a greyscale scan with its own grain and skew."""
    skew = float(rng.uniform(-MAX_SKEW_DEG, MAX_SKEW_DEG))
    mask = np.asarray(_ink_mask(page, dpi).rotate(skew, resample=Image.Resampling.NEAREST, fillcolor=0))
    height, width = mask.shape
    coverage = np.arange(256, dtype=np.uint16)
    tone = (PAPER_LEVEL - coverage * (PAPER_LEVEL - INK_LEVEL) // 255).astype(np.uint8)
    pixels: np.ndarray = tone[mask]
    pixels += np.linspace(0, LIGHT_FALLOFF, height, dtype=np.uint8)[:, None]
    grain = np.frombuffer(rng.bytes(width * height), dtype=np.uint8).reshape(height, width)
    pixels += grain & np.uint8((1 << noise_bits) - 1)
    return pixels


def flate(pixels: np.ndarray) -> PageImage:
    """Greyscale pixels as a FlateDecode image stream (Huffman-only: fast on noise, same size)."""
    coder = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_HUFFMAN_ONLY)
    data = coder.compress(pixels.tobytes()) + coder.flush()
    return PageImage(pixels.shape[1], pixels.shape[0], data, ("FlateDecode",))


def jpeg(pixels: np.ndarray, *, quality: int, dpi: int) -> PageImage:
    """Greyscale pixels as a JPEG, which a PDF embeds unchanged as a DCTDecode stream."""
    out = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(out, "JPEG", quality=quality, dpi=(dpi, dpi))
    return PageImage(pixels.shape[1], pixels.shape[0], out.getvalue(), ("DCTDecode",))


def png(pixels: np.ndarray, *, dpi: int) -> bytes:
    """Greyscale pixels as a PNG file (Huffman-only deflate, like ``flate``)."""
    out = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(
        out, "PNG", compress_level=1, compress_type=zlib.Z_HUFFMAN_ONLY, dpi=(dpi, dpi)
    )
    return out.getvalue()
