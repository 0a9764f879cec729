"""Reading results directories: damaged files become notes and NO_DATA, never a crash or a PASS."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import ResultsDirInvalid, evaluate, load_results, load_rules
from tests.analysis.conftest import T0, clean_run


def test_truncated_file_holds_with_a_note_naming_file_and_line(results: Path) -> None:
    clean_run(results).close()
    stream = results / "locust.jsonl"
    text = stream.read_text()
    stream.write_text(text[: len(text) - 40])  # the producer died mid-line
    lines = stream.read_text().count("\n") + 1
    verdict = evaluate(results, load_rules())
    assert verdict.verdict == "HOLD"
    assert f"locust.jsonl:{lines}: line is cut short (the producer stopped mid-write)" in verdict.notes
    stream_rule = next(r for r in verdict.rules if r.id == "stream_complete")
    assert stream_rule.status == "NO_DATA"
    assert stream_rule.evidence.items[0] == {"file": "locust.jsonl", "line": lines,
                                             "problem": "line is cut short (the producer stopped mid-write)"}


def test_corrupt_lines_are_notes(results: Path) -> None:
    clean_run(results).close()
    stream = results / "locust.jsonl"
    lines = stream.read_text().splitlines(keepends=True)
    lines[3] = "{not json\n"
    lines[6] = lines[6].replace('"sketch":"', '"sketch":"!!')
    lines[7] = lines[7].replace('"count":', '"cuont":')
    lines.insert(9, '{"kind": "window", "v": 1, "t": "yesterday"}\n')
    stream.write_text("".join(lines))
    verdict = evaluate(results, load_rules())
    assert verdict.verdict == "HOLD"
    assert verdict.notes == [
        "locust.jsonl:4: not JSON (Expecting property name enclosed in double quotes)",
        "locust.jsonl:7: window record with a bad sketch (not a DDSketch: Only base64 data is allowed)",
        "locust.jsonl:8: window record without count",
        ("locust.jsonl:10: window record without bytes, count, duration_s, errors, latency_max_ms, latency_sum_ms, "
         "name, outcomes, service, sketch, traffic"),
    ]


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ResultsDirInvalid) as caught:
        load_results(tmp_path / "nope")
    assert str(caught.value) == f"{tmp_path / 'nope'}: not a results directory (missing or not a directory)"


def test_directory_without_streams(tmp_path: Path) -> None:
    with pytest.raises(ResultsDirInvalid) as caught:
        load_results(tmp_path)
    assert str(caught.value) == f"{tmp_path}: no stream file (*.jsonl) in it"


def test_run_data_helpers(results: Path) -> None:
    data = load_results(clean_run(results, seconds=10).close())
    assert (data.start, data.end, data.duration_s) == (T0, T0 + 10, 10.0)
    assert data.names(traffic={"normal"}) == ["deposito GET /productos/{id}"]
    assert data.names(traffic={"heavy_invoice"}) == []
    assert [s.count for s in data.per_second(data.names())] == [10] * 10
    assert data.header()["producer"] == "locust"
    part = data.between(T0 + 2, T0 + 5)
    assert [w["t"] - T0 for w in part.windows] == [2.0, 3.0, 4.0]
    assert abs(part.sketch("deposito GET /productos/{id}").get_quantile_value(0.5) - 20.0) < 0.02
