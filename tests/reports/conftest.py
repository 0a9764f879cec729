"""Fixtures of the report tests (builders live in ``synthetic.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import Verdict
from tests.reports.synthetic import capacity, comparison, full_verdict, write_full_run


@pytest.fixture
def full_run(tmp_path: Path) -> tuple[Path, Verdict]:
    """A results directory with every part, Locust's own files beside it, and its verdict."""
    results = write_full_run(tmp_path / "run")
    (results / "locust.html").write_text("<html>locust</html>")
    (results / "locust_stats.csv").write_text("Type,Name\n")
    return results, full_verdict(results, capacity=capacity(), comparison=comparison())
