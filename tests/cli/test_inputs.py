"""Every input checked up front: a bad option or file is one line on stderr and exit 2, never a traceback,
and nothing is started or written before the check (issue 18)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

UNREACHABLE = "deposito=http://127.0.0.1:9"
"""A target nothing listens on: a check that comes too late ends with 'target unreachable' instead."""


def stagegate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STAGEGATE_STATE_DIR": str(cwd / "state"), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "stagegate", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


CASES: list[tuple[list[str], str]] = [
    (["chaos", "recover", "--journal", "."], "stagegate chaos recover: error: argument --journal: . is a directory, not a file"),
    (["generate", "tokens", "--env-file", "binary.env"],
     "stagegate generate tokens: error: argument --env-file: binary.env: not a text file (not UTF-8)"),
    (["generate", "tokens", "--now", "99999999999999999999"],
     "stagegate generate tokens: error: argument --now: must be between 0 and 253402300799 (got 99999999999999999999)"),
    (["generate", "tokens", "--now", "-100"],
     "stagegate generate tokens: error: argument --now: must be between 0 and 253402300799 (got -100)"),
    (["generate", "invoices", "--app-limit", "0"],
     "stagegate generate invoices: error: argument --app-limit: must be between 1 byte and 64GB (got '0')"),
    (["stack", "up", "--gateway-port", "70000"],
     "stagegate stack up: error: argument --gateway-port: must be between 0 and 65535 (got 70000)"),
    (["stack", "up", "--ports", "deposito=65536"], ("stagegate stack up: error: argument --ports: expected "
     "SERVICE=PORT[,...] with services deposito, negocio, ml, dashboard, or 'auto' (got 'deposito=65536')")),
    (["stack", "up", "--state-dir", "a_file"],
     "stagegate stack up: error: argument --state-dir: a_file exists and is not a directory"),
    (["stack", "up", "--ocr-timeout", "-1"], "stagegate stack up: error: argument --ocr-timeout: must be > 0 (got -1)"),
    (["stack", "up", "--ocr-timeout", "nan"],
     "stagegate stack up: error: argument --ocr-timeout: must be a finite number (got nan)"),
    (["run", "--env-file", "binary.env", "--target", UNREACHABLE],
     "stagegate run: error: argument --env-file: binary.env: not a text file (not UTF-8)"),
    (["smoke", "--env-file", "binary.env", "--target", UNREACHABLE],
     "stagegate smoke: error: argument --env-file: binary.env: not a text file (not UTF-8)"),
    (["run", "--scenario", "nope", "--target", UNREACHABLE],
     "stagegate: error: --scenario: unknown 'nope' (known: smoke, soak, spike, steady, step)"),
    (["run", "--trivy-report", "not_trivy.json", "--target", UNREACHABLE],
     ("stagegate: error: --trivy-report: not_trivy.json: not a Trivy JSON report "
      "(Results.0: Input should be a valid dictionary or instance of TrivyResult)")),
    (["capacity", "--require-rps", "inf", "--target", UNREACHABLE],
     "stagegate capacity: error: argument --require-rps: must be a finite number (got inf)"),
    (["analyze", "results", "--out", "a_file"], "stagegate analyze: error: argument --out: a_file exists and is not a directory"),
    (["chaos", "validate", "huge.toml"],
     "stagegate: error: huge.toml: steps.0.duration_s: Input should be less than or equal to 86400 (got 1e+300)"),
    (["chaos", "validate", "nan.toml"], "stagegate: error: nan.toml: steps.0.duration_s: Input should be a finite number (got nan)"),
    (["chaos", "validate", "inf.toml"], "stagegate: error: inf.toml: steps.0.at_s: Input should be a finite number (got inf)"),
    (["run", "--chaos", "elsewhere.toml", "--allow-chaos", "--target", UNREACHABLE],
     "stagegate: error: step pause_negocio: target 'inventario' is not a service of profile checklist-v0.10.0"),
]

PLAN = """name = "bad"
[[steps]]
id = "pause_negocio"
at_s = {at}
action = "pause"
target = "negocio"
duration_s = {duration}
"""


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_bad_input_is_one_line_exit_2_before_anything_happens(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "binary.env").write_bytes(b"\xff\xfe\x00JWT\x81")
    (tmp_path / "a_file").write_text("")
    (tmp_path / "not_trivy.json").write_text('{"Results": ["abc", 5]}')
    (tmp_path / "huge.toml").write_text(PLAN.format(at=1, duration="1e300"))
    (tmp_path / "nan.toml").write_text(PLAN.format(at=1, duration="nan"))
    (tmp_path / "inf.toml").write_text(PLAN.format(at="inf", duration=1))
    (tmp_path / "elsewhere.toml").write_text(PLAN.format(at=1, duration=1).replace('"negocio"', '"inventario"'))
    before = {p.name for p in tmp_path.iterdir()}

    done = stagegate(tmp_path, *args)

    assert (done.returncode, done.stderr.strip()) == (2, message), done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert {p.name for p in tmp_path.iterdir()} == before  # no tokens.json, no state dir, no results dir


def test_a_state_dir_variable_naming_a_file_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a_file").write_text("")
    done = subprocess.run([sys.executable, "-m", "stagegate", "run", "--no-smoke", "--duration", "5s"], cwd=tmp_path,
                          env={**os.environ, "STAGEGATE_STATE_DIR": str(tmp_path / "a_file")}, capture_output=True,
                          text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr.strip()) == (
        2, f"stagegate: error: STAGEGATE_STATE_DIR: {tmp_path / 'a_file'} exists and is not a directory")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]


def test_tokens_json_is_not_written_when_now_is_out_of_range(tmp_path: Path) -> None:
    done = stagegate(tmp_path, "generate", "tokens", "--now", str(2**70), "--out", "tokens.json")
    assert done.returncode == 2
    assert not (tmp_path / "tokens.json").exists()

