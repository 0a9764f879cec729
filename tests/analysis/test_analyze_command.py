"""``stagegate analyze`` and ``stagegate compare``: outputs, verdict exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stagegate.cli import main
from tests.analysis.conftest import clean_run


def test_promote_writes_every_output(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean_run(results).close()
    assert main(["analyze", str(results)]) == 0
    out = capsys.readouterr().out
    assert "PROMOTE (exit 0)" in out
    for name in ("verdict.json", "junit.xml", "summary.md"):
        assert (results / name).is_file()
        assert f"wrote {results / name}" in out
    assert json.loads((results / "verdict.json").read_text())["verdict"] == "PROMOTE"


def test_rollback_exits_1_and_hold_exits_3(results: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = clean_run(results)
    run.token(5, "breach", status=200)
    run.close()
    assert main(["analyze", str(results), "--out", str(tmp_path / "out")]) == 1
    assert (tmp_path / "out" / "verdict.json").is_file()
    other = clean_run(tmp_path / "hold")
    other.smoke(3, "logs", "FAIL")
    other.close()
    assert main(["analyze", str(tmp_path / "hold")]) == 3
    assert "  - smoke_logs (FAIL): logs: FAIL (logs FAIL)" in capsys.readouterr().out


def test_malformed_rules_file_is_one_line_and_exit_2(results: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    clean_run(results).close()
    rules = tmp_path / "rules.toml"
    rules.write_text("[rules.p95]\nkind = 'statistic'\nrole = 'completion'\ntitle = 'p95'\nstat = 'p95_ms'\nbelow = -\n")
    assert main(["analyze", str(results), "--rules", str(rules)]) == 2
    captured = capsys.readouterr()
    assert captured.err == ("stagegate: error: rules.toml: not valid TOML (Invalid value (at line 6, column 9))\n")
    assert captured.out == ""
    rules.write_text("[rules.p95]\nkind = 'statistic'\nrole = 'completion'\ntitle = 'p95'\nstat = 'p95_ms'\n")
    assert main(["analyze", str(results), "--rules", str(rules)]) == 2
    assert capsys.readouterr().err == "stagegate: error: rules.toml: rules.p95.statistic.below: Field required\n"


def test_missing_results_dir_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err == (
        f"stagegate: error: {tmp_path / 'nope'}: not a results directory (missing or not a directory)\n")


def test_unwritable_out_dir_is_one_line_and_exit_2(results: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    clean_run(results).close()
    (tmp_path / "file").write_text("")
    assert main(["analyze", str(results), "--out", str(tmp_path / "file" / "out")]) == 2
    assert capsys.readouterr().err == f"stagegate: error: {tmp_path / 'file' / 'out'}: cannot write the reports (Not a directory)\n"


def test_require_rps_must_be_positive(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["analyze", str(results), "--require-rps", "0"])
    assert caught.value.code == 2
    assert capsys.readouterr().err.endswith("error: argument --require-rps: must be > 0 (got 0)\n")


def test_require_rps_on_a_run_without_steps(results: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean_run(results).close()
    assert main(["analyze", str(results), "--require-rps", "100"]) == 2
    assert capsys.readouterr().err == (
        f"stagegate: error: {results}: not a step-shape run (no run header lists settings.stages)\n")


def test_compare_identical_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean_run(tmp_path / "a").close()
    clean_run(tmp_path / "b").close()
    assert main(["compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "no_change" in out and "PROMOTE (exit 0)" in out
    verdict = json.loads((tmp_path / "b" / "comparison" / "verdict.json").read_text())
    assert [row["change"] for row in verdict["comparison"]["rows"]] == ["no_change"]


def test_the_installed_command(results: Path) -> None:
    clean_run(results).close()
    done = subprocess.run([sys.executable, "-m", "stagegate", "analyze", str(results / "nope")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"stagegate: error: {results / 'nope'}: not a results directory (missing or not a directory)\n"
