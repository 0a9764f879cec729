"""Reading results directories: damaged files become notes and NO_DATA, never a crash or a PASS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

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


DAMAGED_WINDOW_FIELDS = {
    "name": "null", "t": "NaN", "duration_s": "-Infinity", "latency_max_ms": "Infinity", "count": "1" + "0" * 400,
    "outcomes": "[1, 2]", "errors": '{"status 500": "x"}', "service": "5", "traffic": '"sideways"',
    "latency_sum_ms": "1e400", "bytes": "true",
}


def _damage(results: Path) -> list[str]:
    """One window line per damaged field (and one nested past the parser's depth); the lines' problems."""
    stream = results / "locust.jsonl"
    lines = stream.read_text().splitlines(keepends=True)
    window = next(line for line in lines if '"kind":"window"' in line)
    for key, value in DAMAGED_WINDOW_FIELDS.items():
        start = window.index(f'"{key}":') + len(key) + 3
        end = start + len(json.dumps(json.loads(window)[key], separators=(",", ":")))
        lines.append(window[:start] + value + window[end:])
    lines.append('{"kind":"window","v":1,"t":' + "[" * 100_000 + "]" * 100_000 + "}\n")
    stream.write_text("".join(lines))
    return [line for line in lines[-len(DAMAGED_WINDOW_FIELDS) - 1:]]


def test_damaged_window_fields_are_notes_never_a_crash(results: Path) -> None:
    clean_run(results).close()
    _damage(results)
    data = load_results(results)
    problems = [p.problem for p in data.problems]
    assert len(problems) == len(DAMAGED_WINDOW_FIELDS) + 1, problems
    assert "window record with a malformed name" in problems
    assert "not strict JSON (NaN is not a JSON number)" in problems
    assert "window record with a malformed latency_sum_ms" in problems  # 1e400 parses as inf
    assert "not JSON (nested too deeply)" in problems
    verdict = evaluate(data, load_rules())
    assert verdict.verdict == "HOLD"
    assert all(isinstance(w["name"], str) for w in data.windows)


def test_damaged_streams_through_the_cli_hold_with_strict_json(results: Path, tmp_path: Path) -> None:
    """analyze and compare on damaged streams: a note and HOLD, no traceback, verdict.json strict JSON."""
    clean_run(results).close()
    _damage(results)
    baseline = tmp_path / "baseline"
    clean_run(baseline).close()
    _damage(baseline)

    def strict(path: Path) -> Any:
        def refuse(name: str) -> Any:
            raise ValueError(name)
        return json.loads(path.read_text(), parse_constant=refuse)

    analyzed = subprocess.run([sys.executable, "-m", "stagegate", "analyze", str(results)],
                              check=False, capture_output=True, text=True, timeout=120)
    assert analyzed.returncode == 3, analyzed.stderr
    assert "Traceback" not in analyzed.stderr and "harness failure" not in analyzed.stderr
    assert "window record with a malformed name" in analyzed.stdout
    assert strict(results / "verdict.json")["verdict"] == "HOLD"
    compared = subprocess.run([sys.executable, "-m", "stagegate", "compare", str(baseline), str(results)],
                              check=False, capture_output=True, text=True, timeout=120)
    assert compared.returncode in (0, 3), compared.stderr
    assert "Traceback" not in compared.stderr and "harness failure" not in compared.stderr
    strict(results / "comparison" / "verdict.json")
