"""Fuzz the readers of every input with malformed variants of valid files (issue 18).

Each reader either takes the input or refuses it with a ``StagegateError`` (the CLI prints it as one
line, exit 2); a results stream never raises: a damaged record is a note and the verdict.json written
from it is strict JSON. No other exception, and a bounded time: few examples, each with a deadline.
The inputs are valid shipped files with one value (or one line, or the bytes) replaced.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import evaluate, load_results, load_rules
from generators.secrets import read_env
from scenarios.chaos import load_plan
from scenarios.chaos.plan import PLAN_DIR
from scenarios.scenario_file import DEFAULT_SCENARIO_FILE, load_scenario_file
from scenarios.smoke import load_trivy_report
from scenarios.target.profiles import PROFILE_DIR, load_profile
from scenarios.target.resolve import resolve_profile
from stagegate_core.errors import StagegateError
from tests.analysis.conftest import clean_run

FUZZ = settings(max_examples=100, deadline=2000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

TOML_VALUES = ["nan", "inf", "-inf", "1e300", "-1e300", "-1", "0", '""', "[]", "{}", "true", '"x"', "[[1]]",
               "99999999999999999999999999", "1979-05-27", "[1, \"a\"]", '{a = {b = [nan]}}', '"\\u0000"', "= =", "'"]
JSON_VALUES = ["null", "NaN", "Infinity", "-Infinity", "1e400", "-1", "0", "[]", "{}", '"x"', "true", "1" + "0" * 40,
               '{"a": [1, {"b": null}]}', "[" * 3000 + "]" * 3000, '"\\ud800"', "-0.0", "1" + "0" * 5000]


def mutated(text: str, data: st.DataObject, values: list[str], assignment: re.Pattern[str]) -> bytes:
    """``text`` with one assigned value replaced, a line cut, a line doubled, or raw bytes instead."""
    lines = text.splitlines(keepends=True)
    how = data.draw(st.sampled_from(["value", "value", "value", "cut", "double", "bytes"]))
    if how == "bytes":
        return data.draw(st.binary(max_size=300))
    index = data.draw(st.integers(0, len(lines) - 1))
    line = lines[index]
    if how == "cut":
        lines[index] = line[: data.draw(st.integers(0, len(line)))]
    elif how == "double":
        lines.insert(index, line)
    else:
        spots = [m for m in assignment.finditer(text)]
        spot = data.draw(st.sampled_from(spots))
        value = data.draw(st.sampled_from(values))
        return (text[: spot.start(2)] + value + text[spot.end(2):]).encode("utf-8", "surrogatepass")
    return "".join(lines).encode()


TOML_ASSIGNMENT = re.compile(r"^(\s*[\w.\"-]+\s*=\s*)(.+)$", re.MULTILINE)
JSON_MEMBER = re.compile(r"(\"\w+\":\s*)((?:\"[^\"]*\"|[-\w.+]+|\{[^{}]*\}|\[[^\[\]]*\]))")


def _refused_in_one_line(read: Any, path: Path) -> None:
    try:
        read(path)
    except StagegateError as exc:
        assert "\n" not in str(exc) and str(exc), repr(exc)


TOML_READERS = {
    "profile": (PROFILE_DIR / "checklist-v0.10.0.toml", load_profile),
    "rules": (Path(load_rules.__code__.co_filename).parent / "rules" / "default.toml", load_rules),
    "plan": (PLAN_DIR / "pause-negocio-5s.toml", load_plan),
    "scenario": (DEFAULT_SCENARIO_FILE, load_scenario_file),
}


@pytest.mark.parametrize("kind", sorted(TOML_READERS))
def test_toml_inputs_are_taken_or_refused_in_one_line(kind: str, tmp_path: Path) -> None:
    source, read = TOML_READERS[kind]
    text = source.read_text(encoding="utf-8")

    @FUZZ
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        path = tmp_path / f"fuzzed-{kind}.toml"
        path.write_bytes(mutated(text, data, TOML_VALUES, TOML_ASSIGNMENT))
        _refused_in_one_line(read, path)

    fuzz()


def test_env_files_are_taken_or_refused_in_one_line(tmp_path: Path) -> None:
    text = "JWT_SECRET_DEPOSITO=abc\nexport JWT_SECRET_ML='x y'\nDASHBOARD_API_KEY=\"k\"\n"

    @FUZZ
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        path = tmp_path / "fuzzed.env"
        path.write_bytes(mutated(text, data, ["", "'", '"', "\\", "=", "\x00", "ü", "$X", "#"],
                                 re.compile(r"^([\w ]+=)(.*)$", re.MULTILINE)))
        _refused_in_one_line(lambda p: resolve_profile("checklist-v0.10.0", "deposito=http://127.0.0.1:9",
                                                       env_file=p), path)
        _refused_in_one_line(lambda p: read_env(p, environ={}), path)

    fuzz()


def test_trivy_reports_are_taken_or_refused_in_one_line(tmp_path: Path) -> None:
    text = json.dumps({"SchemaVersion": 2, "Results": [{"Target": "app", "Vulnerabilities": [
        {"VulnerabilityID": "CVE-1", "PkgName": "p", "Severity": "HIGH"},
        {"VulnerabilityID": "CVE-2", "PkgName": "q", "Severity": "LOW"}]}]})

    @FUZZ
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        path = tmp_path / "trivy.json"
        path.write_bytes(mutated(text, data, JSON_VALUES, JSON_MEMBER))
        try:
            found = load_trivy_report(path)
        except StagegateError as exc:
            assert "\n" not in str(exc)
            return
        assert all(isinstance(v["Severity"], str) for v in found)  # taken only when it is a report

    fuzz()


def test_results_streams_are_judged_with_notes_never_a_crash(tmp_path: Path) -> None:
    template = tmp_path / "template"
    clean_run(template, seconds=20).close()
    text = (template / "locust.jsonl").read_text(encoding="utf-8")
    smoke = (template / "smoke.jsonl").read_bytes() if (template / "smoke.jsonl").exists() else None
    rules = load_rules()

    def refuse(name: str) -> Any:
        raise ValueError(f"{name} in verdict.json")

    @FUZZ
    @given(data=st.data())
    def fuzz(data: st.DataObject) -> None:
        results = tmp_path / "results"
        results.mkdir(exist_ok=True)
        (results / "locust.jsonl").write_bytes(mutated(text, data, JSON_VALUES, JSON_MEMBER) + b"\n")
        if smoke is not None:
            (results / "smoke.jsonl").write_bytes(smoke)
        verdict = evaluate(load_results(results), rules)
        json.loads(json.dumps(verdict.model_dump(mode="json"), allow_nan=False), parse_constant=refuse)

    fuzz()
