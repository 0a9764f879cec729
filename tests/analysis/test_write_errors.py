"""A full disk ends the command at once with exit 4 and one line; every report is complete or absent."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.analysis.conftest import clean_run
from tests.conftest import REPO

REPORTS = ("verdict.json", "junit.xml", "summary.md", "report.html")


@contextlib.contextmanager
def tiny_filesystem(directory: Path, *, size_k: int = 200, free_k: int = 12) -> Iterator[Path]:
    """A tmpfs of ``size_k`` KiB with about ``free_k`` KiB left (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    directory.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_k}k", "tmpfs", str(directory)],
                             capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        stat = os.statvfs(directory)
        filler = stat.f_bavail * stat.f_frsize - free_k * 1024
        with (directory / "filler").open("wb") as out:
            out.write(b"\0" * max(0, filler))
        yield directory
    finally:
        subprocess.run(["umount", "-l", str(directory)], check=False)


def test_analyze_on_a_full_disk_is_exit_4_one_line_and_no_report_cut_short(tmp_path: Path) -> None:
    results = tmp_path / "results"
    clean_run(results).close()
    with tiny_filesystem(tmp_path / "full") as full:
        done = subprocess.run([sys.executable, "-m", "stagegate", "analyze", str(results), "--out", str(full)],
                              capture_output=True, text=True, timeout=120, cwd=REPO, check=False)
        assert done.returncode == 4, done.stdout + done.stderr
        [line] = done.stderr.strip().splitlines()
        assert line.startswith("stagegate: error: ") and "No space left on device" in line, line
        written = {name: (full / name).read_text() for name in REPORTS if (full / name).exists()}
        assert set(written) != set(REPORTS), "the disk was meant to be too small for every report"
        if "verdict.json" in written:
            assert json.loads(written["verdict.json"])["verdict"] == "PROMOTE"
        if "junit.xml" in written:
            ET.fromstring(written["junit.xml"])
        if "report.html" in written:
            assert written["report.html"].rstrip().endswith("</html>")
        assert not [p.name for p in full.iterdir() if p.name.endswith(".tmp")]
