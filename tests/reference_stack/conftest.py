"""One reference stack for the whole session (real processes, real nginx when installed).

``stack`` is that session stack with every fault switch cleared after each test, so a test that
flips a switch cannot leak it into the next. Tests that need other start-up settings (another
inflation rate, a tiny rate limit, a crash) start their own small stack with ``running_stack``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from generators import generate_invoices
from reference_stack import StackHandle, running_stack

OCR_TIMEOUT_S = 2.0
"""Lowered from 30 s so the heavy invoice's 504 arrives quickly."""


@pytest.fixture(scope="session")
def session_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackHandle]:
    with running_stack(tmp_path_factory.mktemp("stack"), ocr_timeout_s=OCR_TIMEOUT_S) as handle:
        yield handle


@pytest.fixture
def stack(session_stack: StackHandle) -> Iterator[StackHandle]:
    yield session_stack
    for service in sorted(session_stack.changed):
        session_stack.clear_faults(service)


@pytest.fixture(scope="session")
def invoices(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real invoice PDFs from the generator: ``normal`` (~0.5 MB), ``heavy`` (12 MB+), hostile ones."""
    out = tmp_path_factory.mktemp("invoices")
    manifest = generate_invoices(out, kinds=("normal", "heavy"), count=1, seed=11)
    found: dict[str, Path] = {f.kind: out / f.name for f in manifest.files}
    hostile = generate_invoices(out / "hostile", kinds=("hostile",), count=1, seed=11)
    found.update({f"hostile_{f.variant}": out / "hostile" / f.name for f in hostile.files if f.variant != "oversize"})
    return found
