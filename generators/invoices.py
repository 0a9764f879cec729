"""Invoice files for the R3 OCR checks, with a manifest saying what each one is for.

Usage::

    manifest = generate_invoices("out/", kinds=("normal", "heavy"), count=2, seed=7)
    manifest.of_kind("heavy")[0].bytes       # >= DEFAULT_MIN_SIZE_BYTES, checked after writing

A heavy invoice reaches ``min_size_bytes`` by construction: every page pixel carries
``HEAVY_NOISE_BITS`` bits of grain, so a lossless page stream cannot be smaller than
``GUARANTEED_BYTES_PER_PIXEL`` per pixel, and pages x dpi are chosen so that the bound alone
covers the minimum. The written file is measured afterwards anyway.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from generators._errors import InvoiceSpecInvalid
from generators._factura import LETTERS, Factura, make_factura
from generators._hostile import write_bomb_pdf, write_bomb_png, write_nested_flate_pdf, write_not_document
from generators._layout import PAGE_HEIGHT_PT, PAGE_WIDTH_PT, Page, layout, line_count_for_pages
from generators._manifest import (
    Expected,
    Format,
    HostileVariant,
    InvoiceFile,
    Kind,
    Manifest,
    Outcome,
    write_manifest,
)
from generators._pdf import write_pdf
from generators._scan import PageImage, flate, jpeg, page_pixels, png, scan
from stagegate_core.errors import HarnessFailure

MIB = 1024 * 1024
DEFAULT_MIN_SIZE_BYTES = 12 * MIB
DEFAULT_APP_LIMIT_BYTES = 50 * MIB
"""negocio's own upload limit in both contracts (413 above it)."""
DEFAULT_GATEWAY_LIMIT_BYTES = 10 * MIB
"""nginx ``client_max_body_size 10M`` in both contracts."""
MAX_PDF_BYTES = 1024 * MIB
KINDS: tuple[Kind, ...] = ("normal", "heavy", "hostile")
HOSTILE_VARIANTS: dict[Format, tuple[HostileVariant, ...]] = {
    "pdf": ("bomb", "nested_flate", "oversize", "not_document"),
    "image": ("bomb", "oversize", "not_document"),
}
"""Nested Flate streams are a PDF construct, so the image format has no such variant."""

HEAVY_NOISE_BITS = 5
GUARANTEED_BYTES_PER_PIXEL = HEAVY_NOISE_BITS / 8
HEAVY_MAX_DPI = 300
"""Heavy PDFs add pages rather than go past this; a single heavy image goes as high as it must."""
MIN_SCAN_DPI = 150
NORMAL_DPI = 150
NORMAL_JPEG_QUALITY = 75
_PAGE_AREA_IN2 = (PAGE_WIDTH_PT / 72) * (PAGE_HEIGHT_PT / 72)

Progress = Callable[[str, int, int], None]
"""Called as ``progress(file_name, units_done, units_total)``; a unit is one page."""

_EXPECTED: dict[str, tuple[Outcome, list[int], str]] = {
    "normal": ("processed", [200], "small one-page scan: OCR must finish well inside the timeout"),
    "heavy": ("timeout", [504], "OCR must stop at the timeout with 504 and keep other routes answering"),
    "bomb": ("rejected", [400, 413, 415, 422], "declared image size past Pillow's bomb limit: refuse fast"),
    "nested_flate": ("rejected", [400, 413, 415, 422], "nested FlateDecode layers expand 64 MB: refuse fast"),
    "oversize": ("body_limit", [413], "bigger than the app's upload limit: 413 before any OCR"),
    "not_document": ("rejected", [400, 415], "a ZIP archive named like an invoice: 400 or 415"),
}


@dataclass(frozen=True)
class _Job:
    """One file to make: its name, kind, variant and planned pages, so progress knows the total."""

    name: str
    kind: Kind
    variant: HostileVariant | None
    index: int
    pages: int
    dpi: int | None


def plan_heavy(min_size_bytes: int, fmt: Format) -> tuple[int, int]:
    """Pages and dpi whose guaranteed bytes cover ``min_size_bytes``; ``InvoiceSpecInvalid`` if impossible."""
    if min_size_bytes <= 0:
        raise InvoiceSpecInvalid(f"--min-size: must be > 0 (got {min_size_bytes})")
    if fmt == "pdf":
        if min_size_bytes > MAX_PDF_BYTES:
            raise InvoiceSpecInvalid(
                f"--min-size: {min_size_bytes} bytes is more than a heavy PDF may be ({MAX_PDF_BYTES} bytes)"
            )
        per_page = _guaranteed_bytes(HEAVY_MAX_DPI)
        pages = max(1, math.ceil(min_size_bytes / per_page))
    else:
        pages = 1
    pixels_per_page = min_size_bytes / (pages * GUARANTEED_BYTES_PER_PIXEL)
    dpi = max(MIN_SCAN_DPI, math.floor(math.sqrt(pixels_per_page / _PAGE_AREA_IN2)))
    while pages * _guaranteed_bytes(dpi) < min_size_bytes:
        dpi += 1
    width, height = page_pixels(dpi)
    bomb_limit = Image.MAX_IMAGE_PIXELS
    if fmt == "image" and bomb_limit is not None and width * height > bomb_limit:
        largest = math.floor(bomb_limit * GUARANTEED_BYTES_PER_PIXEL)
        raise InvoiceSpecInvalid(
            f"--min-size: {min_size_bytes} bytes needs a {width}x{height} image, past Pillow's "
            f"decompression-bomb limit; a heavy image can be at most {largest} bytes (use --format pdf)"
        )
    return pages, dpi


def _guaranteed_bytes(dpi: int) -> int:
    width, height = page_pixels(dpi)
    return math.floor(width * height * GUARANTEED_BYTES_PER_PIXEL)


def _suffix(fmt: Format, kind: Kind) -> str:
    if fmt == "pdf":
        return ".pdf"
    return ".jpg" if kind == "normal" else ".png"


def _plan(kinds: Sequence[Kind], count: int, min_size: int, app_limit: int, fmt: Format) -> list[_Job]:
    jobs: list[_Job] = []
    for kind in kinds:
        for index in range(1, count + 1):
            if kind == "normal":
                jobs.append(_Job(f"normal-{index:03d}{_suffix(fmt, kind)}", kind, None, index, 1, NORMAL_DPI))
            elif kind == "heavy":
                pages, dpi = plan_heavy(min_size, fmt)
                jobs.append(_Job(f"heavy-{index:03d}{_suffix(fmt, kind)}", kind, None, index, pages, dpi))
            else:
                for variant in HOSTILE_VARIANTS[fmt]:
                    pages, dpi = plan_heavy(app_limit + 1, fmt) if variant == "oversize" else (1, 0)
                    name = f"hostile-{variant.replace('_', '-')}-{index:03d}{_suffix(fmt, kind)}"
                    jobs.append(_Job(name, kind, variant, index, pages, dpi or None))
    return jobs


def _validate(kinds: Sequence[str], count: int, fmt: str) -> None:
    if count < 1:
        raise InvoiceSpecInvalid(f"--count: must be at least 1 (got {count})")
    for kind in kinds:
        if kind not in KINDS:
            raise InvoiceSpecInvalid(f"--kind: unknown kind {kind!r} (known: {', '.join(KINDS)})")
    if not kinds:
        raise InvoiceSpecInvalid("--kind: give at least one kind")
    if fmt not in HOSTILE_VARIANTS:
        raise InvoiceSpecInvalid(f"--format: unknown format {fmt!r} (known: pdf, image)")


def generate_invoices(
    out_dir: str | Path,
    *,
    kinds: Sequence[Kind] = KINDS,
    count: int = 1,
    min_size_bytes: int = DEFAULT_MIN_SIZE_BYTES,
    seed: int = 0,
    fmt: Format = "pdf",
    app_limit_bytes: int = DEFAULT_APP_LIMIT_BYTES,
    gateway_limit_bytes: int = DEFAULT_GATEWAY_LIMIT_BYTES,
    progress: Progress | None = None,
) -> Manifest:
    """Write ``count`` files of each kind (each hostile variant) and ``manifest.json`` into ``out_dir``.

    Same arguments, same seed: byte-identical files. Raises ``InvoiceSpecInvalid`` on a request
    that cannot be met, before writing anything.
    """
    _validate(kinds, count, fmt)
    if app_limit_bytes <= 0:
        raise InvoiceSpecInvalid(f"--app-limit: must be > 0 (got {app_limit_bytes})")
    jobs = _plan(kinds, count, min_size_bytes, app_limit_bytes, fmt)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvoiceSpecInvalid(f"{out}: cannot create directory ({exc.strerror or exc})") from None
    total_units = sum(job.pages for job in jobs)
    done = 0
    files: list[InvoiceFile] = []
    for job in jobs:
        path = out / job.name
        factura = None
        for factura in _write(path, job, fmt=fmt, seed=seed):
            done += 1
            if progress is not None:
                progress(job.name, done, total_units)
        files.append(_describe(path, job, fmt, factura, min_size_bytes, app_limit_bytes, gateway_limit_bytes))
    manifest = Manifest(
        seed=seed,
        min_size_bytes=min_size_bytes,
        app_limit_bytes=app_limit_bytes,
        gateway_limit_bytes=gateway_limit_bytes,
        files=files,
    )
    write_manifest(out, manifest)
    return manifest.model_copy(update={"directory": str(out)})


def _write(path: Path, job: _Job, *, fmt: Format, seed: int) -> Iterator[Factura | None]:
    """Write one file, yielding once per page made (with the factura it shows, if any)."""
    key = f"{seed}:{job.kind}:{job.variant}:{job.index}"
    rng = random.Random(key)
    pixels_rng = np.random.default_rng(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))
    letter = rng.choice(LETTERS)
    if job.variant == "not_document":
        factura = make_factura(rng, letter=letter, line_count=5)
        write_not_document(path, "\n".join(text.text for text in layout(factura)[0].texts))
        yield None
        return
    extra = rng.randrange(1000)
    factura = make_factura(rng, letter=letter, line_count=line_count_for_pages(job.pages, extra))
    pages = layout(factura)
    title = f"Factura {factura.letter} {factura.number}"
    if job.variant == "bomb":
        if fmt == "pdf":
            write_bomb_pdf(path, pages[0], title=title)
        else:
            write_bomb_png(path)
        yield factura
        return
    if job.variant == "nested_flate":
        write_nested_flate_pdf(path, pages[0], title=title)
        yield factura
        return
    assert job.dpi is not None
    if fmt == "image":
        pixels = scan(pages[0], dpi=job.dpi, rng=pixels_rng, noise_bits=HEAVY_NOISE_BITS)
        if job.kind == "normal":
            path.write_bytes(jpeg(pixels, quality=NORMAL_JPEG_QUALITY, dpi=job.dpi).data)
        else:
            path.write_bytes(png(pixels, dpi=job.dpi))
        yield factura
        return
    sheets: list[tuple[Page, PageImage]] = []
    for page in pages:
        pixels = scan(page, dpi=job.dpi, rng=pixels_rng, noise_bits=HEAVY_NOISE_BITS)
        image = jpeg(pixels, quality=NORMAL_JPEG_QUALITY, dpi=job.dpi) if job.kind == "normal" else flate(pixels)
        sheets.append((page, image))
        yield factura
    write_pdf(path, sheets, title=title)


def _media_type(path: Path, fmt: Format) -> str:
    if fmt == "pdf":
        return "application/pdf"
    return "image/jpeg" if path.suffix == ".jpg" else "image/png"


def _describe(
    path: Path,
    job: _Job,
    fmt: Format,
    factura: Factura | None,
    min_size: int,
    app_limit: int,
    gateway_limit: int,
) -> InvoiceFile:
    data = path.read_bytes()
    if job.kind == "heavy" and len(data) < min_size:
        raise HarnessFailure(f"{path.name}: came out at {len(data)} bytes, under --min-size {min_size}")
    if job.variant == "oversize" and len(data) <= app_limit:
        raise HarnessFailure(f"{path.name}: came out at {len(data)} bytes, not over --app-limit {app_limit}")
    outcome, statuses, note = _EXPECTED[job.variant or job.kind]
    via_gateway = [413] if len(data) > gateway_limit else list(statuses)
    return InvoiceFile(
        name=job.name,
        kind=job.kind,
        variant=job.variant,
        format=fmt,
        media_type=_media_type(path, fmt),
        bytes=len(data),
        pages=0 if job.variant == "not_document" else job.pages,
        dpi=job.dpi,
        sha256=hashlib.sha256(data).hexdigest(),
        invoice_number=factura.number if factura else None,
        invoice_letter=factura.letter if factura else None,
        emitter_cuit=factura.emitter.cuit if factura else None,
        receiver_cuit=factura.receiver.cuit if factura else None,
        total=str(factura.total) if factura else None,
        expected=Expected(outcome=outcome, statuses=statuses, via_gateway=via_gateway, note=note),
    )
