"""The results stream: what a producer writes, the reader gives back; what is broken, it names."""

from __future__ import annotations

import json
from pathlib import Path

from stagegate_core import histogram
from stagegate_core.stream import StreamProblem, StreamWriter, read_dir, record


def test_written_records_read_back_in_order(tmp_path: Path) -> None:
    with StreamWriter(tmp_path / "locust.jsonl") as writer:
        writer.write(record("health", 10.0, check="negocio", ok=False, status=None,  # type: ignore[arg-type]
                            detail="connection refused", latency_ms=None))
        writer.write(record("run_end", 11.0, reason="completed", detail=""))  # type: ignore[arg-type]
    kinds = [r["kind"] for r in read_dir(tmp_path) if not isinstance(r, StreamProblem)]
    assert kinds == ["health", "run_end"]


def test_each_line_is_on_disk_before_close(tmp_path: Path) -> None:
    writer = StreamWriter(tmp_path / "locust.jsonl")
    writer.write(record("run_end", 1.0, reason="completed", detail=""))  # type: ignore[arg-type]
    assert (tmp_path / "locust.jsonl").read_text().count("\n") == 1
    writer.close()


def test_cut_and_corrupt_lines_become_problems_naming_file_and_line(tmp_path: Path) -> None:
    good = json.dumps(record("run_end", 1.0, reason="completed", detail=""))
    (tmp_path / "locust.jsonl").write_text(f"{good}\nnot json\n{{\"kind\": \"bogus\", \"v\": 1}}\n{good[:20]}")
    results = list(read_dir(tmp_path))
    problems = [str(r) for r in results if isinstance(r, StreamProblem)]
    assert problems == [
        "locust.jsonl:2: not JSON (Expecting value)",
        "locust.jsonl:3: unknown record kind 'bogus'",
        "locust.jsonl:4: line is cut short (the producer stopped mid-write)",
    ]
    assert sum(1 for r in results if not isinstance(r, StreamProblem)) == 1


def test_sketch_round_trip_keeps_quantiles_within_a_tenth_of_a_percent() -> None:
    sketch = histogram.new_sketch()
    values = [0.5 + i * 0.37 for i in range(5000)]
    for value in values:
        sketch.add(value)
    decoded = histogram.decode(histogram.encode(sketch))
    exact = sorted(values)[int(0.95 * len(values)) - 1]
    assert abs(decoded.get_quantile_value(0.95) - exact) / exact <= 0.001 + 1e-9
    assert decoded.count == len(values)
