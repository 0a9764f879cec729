"""``stagegate smoke`` as a user runs it: exit codes, one-line errors, the verdict at the end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from reference_stack._handle import StackHandle
from tests.conftest import free_port
from tests.smoke.conftest import DUMMY_SECRETS, Done


def smoke_cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m stagegate smoke ARGS`` as a process, with a bare environment plus ``env``."""
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "stagegate", "smoke", *args], capture_output=True, text=True,
                          cwd=cwd, env={**base, **env}, timeout=120, check=False)


def test_unknown_profile_is_one_line_and_exit_2(tmp_path: Path) -> None:
    done = smoke_cli(tmp_path, "--profile", "nope")

    assert done.returncode == 2
    assert done.stderr == "stagegate: error: unknown profile 'nope' (known: as-built, checklist-v0.10.0)\n"


def test_missing_secret_is_one_line_and_exit_2_before_anything_is_written(tmp_path: Path, cli: Callable[..., Done],
                                                                        ) -> None:
    done = cli("--target", f"deposito=http://127.0.0.1:{free_port()}", "--results-dir", "out")

    assert done.returncode == 2
    assert done.stderr == ("stagegate: error: JWT_SECRET_DEPOSITO is not set (looked in the environment); "
                           "it is deposito's JWT secret\n")
    assert not (tmp_path / "out").exists()


def test_missing_dashboard_key_is_one_line(cli: Callable[..., Done]) -> None:
    secrets = {name: value for name, value in DUMMY_SECRETS.items() if name != "DASHBOARD_API_KEY"}
    done = cli("--target", f"deposito=http://127.0.0.1:{free_port()}", **secrets)

    assert done.returncode == 2
    assert done.stderr == ("stagegate: error: secret DASHBOARD_API_KEY is not set (needed for the dashboard API "
                           "(metrics, headers)); export it or pass --env-file\n")


def test_malformed_trivy_report_is_one_line(tmp_path: Path, cli: Callable[..., Done]) -> None:
    report = tmp_path / "trivy.json"
    report.write_text('{"Results": ')

    done = cli("--trivy-report", str(report), **DUMMY_SECRETS)

    assert done.returncode == 2
    assert done.stderr == f"stagegate: error: --trivy-report: {report}:1: not JSON (Expecting value)\n"


def test_local_target_without_a_stack_is_one_line(tmp_path: Path, cli: Callable[..., Done]) -> None:
    done = cli("--target", "local", STAGEGATE_STATE_DIR=str(tmp_path / "none"), **DUMMY_SECRETS)

    assert done.returncode == 2
    assert done.stderr == (f"stagegate: error: no local reference stack is running ({tmp_path / 'none'}/stack.json "
                           "not found); start one with: stagegate stack up\n")


def test_results_dir_of_an_earlier_run_is_refused(tmp_path: Path, cli: Callable[..., Done]) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "smoke.jsonl").write_text("")

    done = cli("--target", f"deposito=http://127.0.0.1:{free_port()}", "--results-dir", "out",
                     **DUMMY_SECRETS)

    assert done.returncode == 2
    assert done.stderr == ("stagegate: error: --results-dir: out/smoke.jsonl exists already; "
                           "choose a new directory\n")


def test_clean_stack_ends_with_the_verdict(stack: StackHandle, tmp_path: Path, clean_trivy_report: Path,
                                          cli: Callable[..., Done]) -> None:
    done = cli("--target", "local", "--trivy-report", str(clean_trivy_report), "--ocr-grace", "1",
                     "--results-dir", "out", STAGEGATE_STATE_DIR=str(stack.state_dir))

    verdict = json.loads((tmp_path / "out" / "verdict.json").read_text())
    assert (verdict["verdict"], done.returncode) == ("PROMOTE", 0), done.stdout + done.stderr
    assert "verdict: PROMOTE (exit 0)" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_unreachable_target_reports_each_check_and_holds(tmp_path: Path, cli: Callable[..., Done]) -> None:
    target = ",".join(f"{name}=http://127.0.0.1:{free_port()}" for name in ("deposito", "negocio", "ml", "dashboard", "gateway"))

    done = cli("--target", target, "--results-dir", "out", **DUMMY_SECRETS)

    assert done.returncode == 3, done.stdout + done.stderr
    assert "verdict: HOLD (exit 3)" in done.stdout
    smoke = [json.loads(line) for line in (tmp_path / "out" / "smoke.jsonl").read_text().splitlines()]
    assert len([r for r in smoke if r["kind"] == "smoke"]) == 9
    assert done.stdout.count("connection refused") >= 6
