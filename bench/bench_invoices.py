"""How fast a 12 MB heavy invoice is made, against reportlab's default image path, in one run.

    .venv/bin/python bench/bench_invoices.py [--min-size-mb 12] [--repeat 3]

Prints the end-to-end time of ``generate_invoices`` for one heavy invoice, then encodes the very
same scanned pages twice: our way (grain deflated Huffman-only, handed to reportlab as a finished
FlateDecode stream, no ASCII85) and reportlab's default way (``drawImage`` of a PIL image: RGB
expansion, zlib level 6, ASCII85 on, as ``rl_config`` ships). The ratio is default / ours.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generators import generate_invoices, plan_heavy
from generators._factura import make_factura
from generators._layout import PAGE_HEIGHT_PT, PAGE_WIDTH_PT, layout, line_count_for_pages
from generators._pdf import _draw_text_layer, write_pdf
from generators._scan import flate, scan


def best_of(repeat: int, work: Callable[[], None]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--min-size-mb", type=float, default=12.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    min_size = int(args.min_size_mb * 1024 * 1024)
    pages_count, dpi = plan_heavy(min_size, "pdf")

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        end_to_end = best_of(
            args.repeat, lambda: generate_invoices(out / "e2e", kinds=("heavy",), min_size_bytes=min_size)
        )
        heavy_bytes = (out / "e2e" / "heavy-001.pdf").stat().st_size

        factura = make_factura(random.Random(1), letter="A", line_count=line_count_for_pages(pages_count, 3))
        pages = layout(factura)
        rng = np.random.default_rng(1)
        pixels = [scan(page, dpi=dpi, rng=rng) for page in pages]

        def ours() -> None:
            write_pdf(out / "ours.pdf", [(p, flate(px)) for p, px in zip(pages, pixels, strict=True)], title="x")

        def reportlab_default() -> None:
            canvas = Canvas(str(out / "default.pdf"), pagesize=(PAGE_WIDTH_PT, PAGE_HEIGHT_PT))
            for page, px in zip(pages, pixels, strict=True):
                canvas.drawImage(ImageReader(Image.fromarray(px, mode="L")), 0, 0, PAGE_WIDTH_PT, PAGE_HEIGHT_PT)
                _draw_text_layer(canvas, page)
                canvas.showPage()
            canvas.save()

        ours_s = best_of(args.repeat, ours)
        default_s = best_of(args.repeat, reportlab_default)
        ours_bytes = (out / "ours.pdf").stat().st_size
        default_bytes = (out / "default.pdf").stat().st_size

    print(f"heavy invoice: --min-size {min_size} bytes -> {pages_count} pages at {dpi} dpi, {heavy_bytes} bytes")
    print(f"end to end (scan + encode + write), median of {args.repeat}: {end_to_end:.3f} s")
    print(f"encode + write, same pages: ours {ours_s:.3f} s ({ours_bytes} bytes), "
          f"reportlab defaults {default_s:.3f} s ({default_bytes} bytes)")
    print(f"ratio reportlab defaults / ours: {default_s / ours_s:.1f}x time, {default_bytes / ours_bytes:.2f}x bytes")


if __name__ == "__main__":
    main()
