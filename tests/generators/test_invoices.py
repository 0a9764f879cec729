"""Generated invoices are what the manifest says: real PDFs and images, sized, distinct, consistent."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
import zlib
from decimal import Decimal

import pytest
from PIL import Image, ImageStat
from pypdf import PdfReader

from generators import (
    DEFAULT_MIN_SIZE_BYTES,
    InvoiceSpecInvalid,
    Manifest,
    generate_invoices,
    load_manifest,
    plan_heavy,
)
from generators._cuit import is_valid
from tests.generators.conftest import IMAGE_MIN_SIZE, SMALL_APP_LIMIT, one

_AMOUNT = r"\$ ([\d.]+,\d\d)"
_LINE = re.compile(rf"^\d{{13}} .+? (\d+) {_AMOUNT}(?: ([\d,]+)%)? {_AMOUNT}$")


def _ars(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", "."))


def _page_images(reader: PdfReader) -> list[tuple[dict, bytes]]:
    found = []
    for page in reader.pages:
        for obj in page["/Resources"]["/XObject"].values():
            image = obj.get_object()
            found.append((image, image._data))
    return found


def test_files_match_manifest(pdf_set: Manifest) -> None:
    assert load_manifest(pdf_set.directory) == pdf_set
    for item in pdf_set.files:
        data = pdf_set.path_of(item).read_bytes()
        assert len(data) == item.bytes
        assert hashlib.sha256(data).hexdigest() == item.sha256
        if item.variant != "not_document":
            assert len(PdfReader(io.BytesIO(data)).pages) == item.pages


def test_heavy_pdf_reaches_default_minimum_with_distinct_scanned_pages(pdf_set: Manifest) -> None:
    path, item = one(pdf_set, "heavy")
    assert item.bytes >= DEFAULT_MIN_SIZE_BYTES
    assert item.expected.statuses == [504] and item.expected.via_gateway == [413]
    reader = PdfReader(path)
    images = _page_images(reader)
    assert len(images) == item.pages >= 2
    assert len({hashlib.sha256(data).digest() for _, data in images}) == item.pages
    for image, _ in images:
        assert image["/Filter"] == ["/FlateDecode"]  # raw grain, no ASCII85
        assert image["/Width"] == round(595 * item.dpi / 72)
    decoded = images[0][0].decode_as_image()
    assert decoded.mode == "L" and 180 < ImageStat.Stat(decoded).mean[0] < 240  # grey paper, not white


def test_normal_pdf_is_one_small_jpeg_page(pdf_set: Manifest) -> None:
    path, item = one(pdf_set, "normal")
    assert item.pages == 1 and 100_000 < item.bytes < 1_000_000
    [(image, data)] = _page_images(PdfReader(path))
    assert image["/Filter"] == ["/DCTDecode"]
    assert Image.open(io.BytesIO(data)).format == "JPEG"  # passed through untouched


@pytest.mark.parametrize("kind", ["normal", "heavy"])
def test_text_layer_carries_number_cuits_and_totals_that_add_up(pdf_set: Manifest, kind: str) -> None:
    path, item = one(pdf_set, kind)
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    assert f"Factura N° {item.invoice_number}" in text
    assert f"CUIT: {item.emitter_cuit}" in text and f"CUIT: {item.receiver_cuit}" in text
    assert is_valid(item.emitter_cuit) and is_valid(item.receiver_cuit)
    base: dict[str, Decimal] = {}
    lines = [_LINE.match(line) for line in text.splitlines()]
    for match in filter(None, lines):
        quantity, unit, rate, amount = int(match[1]), _ars(match[2]), match[3] or "0", _ars(match[4])
        assert quantity * unit == amount
        base[rate] = base.get(rate, Decimal(0)) + amount
    assert base, "no item lines found in the text layer"
    totals = dict(re.findall(rf"^(Subtotal(?: neto)?|IVA[\w ]* [\d,]+%|Importe Total): {_AMOUNT}$", text, re.MULTILINE))
    subtotal = _ars(totals.pop(next(k for k in totals if k.startswith("Subtotal"))))
    total = _ars(totals.pop("Importe Total"))
    assert subtotal == sum(base.values())
    for label, amount in totals.items():
        rate = label.rsplit(" ", 1)[1].rstrip("%")
        expected = (base[rate] * Decimal(rate.replace(",", ".")) / 100).quantize(Decimal("0.01"), "ROUND_HALF_UP")
        assert _ars(amount) == expected, label
    assert subtotal + sum(_ars(v) for v in totals.values()) == total == Decimal(item.total)


def test_hostile_bomb_declares_past_pillow_limit(pdf_set: Manifest, image_set: Manifest) -> None:
    path, item = one(pdf_set, "hostile", "bomb")
    [(image, _)] = _page_images(PdfReader(path))
    assert image["/Width"] * image["/Height"] > 2 * Image.MAX_IMAGE_PIXELS
    assert item.bytes < 64 * 1024 and item.expected.outcome == "rejected"
    png_path, png_item = one(image_set, "hostile", "bomb")
    assert png_item.media_type == "image/png"
    with pytest.raises(Image.DecompressionBombError):
        Image.open(png_path)


def test_hostile_nested_flate_expands_layer_by_layer(pdf_set: Manifest) -> None:
    path, item = one(pdf_set, "hostile", "nested_flate")
    [(image, data)] = _page_images(PdfReader(path))
    assert image["/Filter"] == ["/FlateDecode"] * 6
    for _ in range(6):
        data = zlib.decompress(data)
    assert len(data) == image["/Width"] * image["/Height"] == 64_000_000
    assert item.bytes < 64 * 1024


def test_hostile_oversize_and_not_document(pdf_set: Manifest, image_set: Manifest) -> None:
    for manifest in (pdf_set, image_set):
        path, item = one(manifest, "hostile", "oversize")
        assert item.bytes > SMALL_APP_LIMIT and item.expected.statuses == [413]
        path, item = one(manifest, "hostile", "not_document")
        data = path.read_bytes()
        assert not data.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8"))
        assert zipfile.ZipFile(io.BytesIO(data)).namelist() == ["factura.txt"]
        assert item.expected.statuses == [400, 415]
    assert one(pdf_set, "hostile", "oversize")[0].read_bytes().startswith(b"%PDF")
    assert not any(f.variant == "nested_flate" for f in image_set.files)


def test_image_format_heavy_png_and_normal_jpeg(image_set: Manifest) -> None:
    path, item = one(image_set, "heavy")
    assert item.media_type == "image/png" and item.bytes >= IMAGE_MIN_SIZE
    with Image.open(path) as image:
        assert image.format == "PNG" and image.mode == "L" and image.size[0] == round(595 * item.dpi / 72)
    path, item = one(image_set, "normal")
    with Image.open(path) as image:
        assert item.media_type == "image/jpeg" and image.format == "JPEG"


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path) -> None:
    first = generate_invoices(tmp_path / "a", kinds=("normal", "hostile"), seed=9, app_limit_bytes=SMALL_APP_LIMIT)
    again = generate_invoices(tmp_path / "b", kinds=("normal", "hostile"), seed=9, app_limit_bytes=SMALL_APP_LIMIT)
    other = generate_invoices(tmp_path / "c", kinds=("normal",), seed=10)
    assert [f.sha256 for f in first.files] == [f.sha256 for f in again.files]
    assert first.files[0].sha256 != other.files[0].sha256


def test_count_and_progress(tmp_path) -> None:
    calls: list[tuple[str, int, int]] = []
    manifest = generate_invoices(tmp_path, kinds=("normal",), count=3, progress=lambda *a: calls.append(a))
    assert [f.name for f in manifest.files] == ["normal-001.pdf", "normal-002.pdf", "normal-003.pdf"]
    assert calls[-1] == ("normal-003.pdf", 3, 3)
    assert len({f.invoice_number for f in manifest.files}) == 3


@pytest.mark.parametrize(
    ("min_size", "fmt", "message"),
    [
        (0, "pdf", "--min-size: must be > 0 (got 0)"),
        (200 * 1024 * 1024, "image",
         ("--min-size: 209715200 bytes needs a 15404x21798 image, past Pillow's decompression-bomb limit; "
          "a heavy image can be at most 55924053 bytes (use --format pdf)")),
    ],
)
def test_impossible_heavy_sizes(tmp_path, min_size: int, fmt: str, message: str) -> None:
    with pytest.raises(InvoiceSpecInvalid) as caught:
        generate_invoices(tmp_path / "out", kinds=("heavy",), min_size_bytes=min_size, fmt=fmt)
    assert str(caught.value) == message
    assert not (tmp_path / "out").exists()


def test_heavy_plan_is_tight() -> None:
    pages, dpi = plan_heavy(DEFAULT_MIN_SIZE_BYTES, "pdf")
    assert (pages, dpi) == (3, 264)  # 3 pages at 300 dpi would overshoot by a third
