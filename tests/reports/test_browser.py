"""A real headless Chromium renders report.html offline: the banner shows in its colour, charts draw."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy
import pytest
from PIL import Image

from analysis import load_results
from analysis._reports import html
from tests.conftest import require_binary

ROLLBACK_RED = (0xB7, 0x1C, 0x1C)  # --rollback in report.css


def screenshot(chromium: str, page: Path, tmp_path: Path, height: int = 2000) -> Image.Image:
    png = tmp_path / "shot.png"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={png}",
         f"--window-size=1280,{height}", page.resolve().as_uri()],
        capture_output=True, timeout=90, check=True)
    return Image.open(png).convert("RGB")


def close(pixel: tuple[int, ...], colour: tuple[int, int, int], tolerance: int = 12) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


@pytest.mark.e2e
@pytest.mark.chromium
def test_chromium_renders_the_banner_and_the_charts(full_run, tmp_path):
    chromium = require_binary("chromium")
    results, verdict = full_run
    html.write(verdict, load_results(results), results / "report.html")
    image = screenshot(chromium, results / "report.html", tmp_path)
    assert image.size == (1280, 2000)
    banner = [image.getpixel((x, y)) for x in range(0, 1280, 40) for y in range(4, 100, 8)]
    assert sum(close(p, ROLLBACK_RED) for p in banner) > 0.8 * len(banner)
    colours = image.resize((320, 500)).getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 200, "the page looks blank"
    body = numpy.asarray(image.crop((0, 1300, 1280, 2000)), dtype=int)
    bluish = int(((body[..., 2] > 150) & (body[..., 2] > body[..., 0] + 60)).sum())
    assert bluish > 20_000, "the requests-per-second chart (blue area) did not render"
