"""The recorder's p95 is within 0.1 % of the exact p95 of the raw samples."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path

import pytest

from reference_stack import StackHandle
from stagegate_core.histogram import RELATIVE_ACCURACY, decode, new_sketch
from tests.scenarios.conftest import LOCUSTFILE, RAW_SAMPLES, LocustRun, locust

pytestmark = pytest.mark.e2e


def exact_quantile(values: list[float], q: float) -> float:
    """The value at rank ``q * (n - 1)`` (DDSketch's own rank convention), from the sorted samples."""
    ordered = sorted(values)
    return ordered[math.floor(q * (len(ordered) - 1))]


def test_p95_within_relative_accuracy_of_raw_samples(stack: StackHandle, tmp_path: Path) -> None:
    stack.set_fault("deposito", latency=[{"dist": "uniform", "low_ms": 5, "high_ms": 60, "route": "/productos/{id}"}])
    raw = tmp_path / "raw.tsv"
    try:
        run = locust(stack, tmp_path / "results", "-f", f"{LOCUSTFILE},{RAW_SAMPLES}",
                     extra_env={"STAGEGATE_TEST_RAW_SAMPLES": str(raw)})
    finally:
        stack.clear_faults()
    assert isinstance(run, LocustRun)
    samples: dict[str, list[float]] = defaultdict(list)
    for line in raw.read_text(encoding="utf-8").splitlines():
        name, value = line.split("\t")
        samples[name].append(float(value))
    sketches = defaultdict(new_sketch)
    for window in run.records("window"):
        sketches[window["name"]].merge(decode(window["sketch"]))
    name = "deposito GET /productos/{id}"
    assert len(samples[name]) >= 20
    assert sketches[name].count == len(samples[name])
    for one, values in samples.items():
        exact = exact_quantile(values, 0.95)
        recorded = sketches[one].get_quantile_value(0.95)
        assert abs(recorded - exact) <= RELATIVE_ACCURACY * exact + 1e-9, (one, recorded, exact)
    assert exact_quantile(samples[name], 0.95) > 40  # the switch's distribution is what was measured
