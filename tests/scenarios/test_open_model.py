"""Open model: requests leave on a schedule and a slow service shows up as latency, not silence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reference_stack import StackHandle
from scenarios.load.pacing import ArrivalSchedule
from tests.scenarios.conftest import LocustRun, locust


def test_slots_follow_the_rate_from_the_first_call() -> None:
    schedule = ArrivalSchedule(4.0)
    assert [schedule.next_due(now=100.0) for _ in range(3)] == [100.0, 100.25, 100.5]


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"arrival rate must be > 0 \(got 0\)"):
        ArrivalSchedule(0)


@pytest.mark.e2e
def test_backlog_of_a_slow_stack_is_counted_as_latency(stack: StackHandle, tmp_path: Path) -> None:
    for service in ("deposito", "negocio", "ml", "dashboard"):
        stack.set_fault(service, latency=[{"dist": "fixed", "ms": 200}])
    try:  # 6 weighted users at 200 ms serve 30/s; 40/s are due, so the schedule falls behind
        run = locust(stack, tmp_path / "results", "--open-model-rps", "40")
    finally:
        stack.clear_faults()
    assert isinstance(run, LocustRun)
    assert run.recorded_counts() == run.locust_counts()
    served_max = max(e["max_response_time"] for e in json.loads((run.results_dir / "locust_stats.json").read_text())
                     if e["name"] == "deposito GET /productos/{id}")
    recorded_max = max(w["latency_max_ms"] for w in run.records("window") if w["name"] == "deposito GET /productos/{id}")
    assert served_max < 500 < recorded_max
