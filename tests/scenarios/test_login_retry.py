"""A login the deployment answers with 500 at start: the run still happens, says why, and resumes
the agent's traffic once a later login (recorded as traffic) succeeds. A refused password is the
user's mistake: one line, exit 2, naming the password variable."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from reference_stack import StackHandle
from scenarios.target.profiles import PROFILE_DIR
from tests.scenarios.conftest import LocustRun, finish, locust, wait_for_record

pytestmark = pytest.mark.e2e

LOGIN = "deposito POST /auth/login"


def quick_retry_profile(directory: Path) -> Path:
    """The checklist profile with a 2 s login retry and a re-login at most every second."""
    text = (PROFILE_DIR / "checklist-v0.10.0.toml").read_text(encoding="utf-8")
    path = directory / "quick-retry.toml"
    path.write_text(text.replace("[auth]\n", "[auth]\nlogin_retry_s = 2\nrelogin_interval_s = 1\n", 1), encoding="utf-8")
    return path


def wait_for_failed_login(stream: Path, timeout_s: float = 20.0) -> None:
    """Until the stream shows a login tried again during the run and failed (flushed each second)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in stream.read_text(encoding="utf-8").splitlines():
            window = json.loads(line)
            if window["kind"] == "window" and window["name"] == LOGIN and window["outcomes"]["error"]:
                return
        time.sleep(0.2)
    raise AssertionError(f"no failed {LOGIN} in {stream} after {timeout_s:g} s")


def test_a_login_failing_with_500_gets_a_finding_and_a_run(stack: StackHandle, tmp_path: Path) -> None:
    results = tmp_path / "results"
    stack.set_fault("deposito", error_rate=1.0)
    try:
        process = locust(stack, results, "--profile", str(quick_retry_profile(tmp_path)), "--exit-code-on-error", "0",
                         seconds=9, wait=False)
        assert isinstance(process, subprocess.Popen)
        wait_for_record(results / "locust.jsonl", "finding")
        wait_for_failed_login(results / "locust.jsonl")
    finally:
        stack.clear_faults("deposito")
    recovered_at = time.time()
    run = finish(process, results)
    assert run.returncode == 0, run.output[-3000:]
    assert "Traceback" not in run.output
    assert run.records()[-1]["reason"] == "completed"
    findings = {f["id"]: f for f in run.records("finding")}
    login = findings["login_unavailable_deposito"]
    assert login["evidence"] == f"deposito login at {stack.services['deposito']}/auth/login answered 500 for 2 s"
    assert "discovery_products_failed" in findings  # deposito's product list needs the token too
    windows = run.records("window")
    logins = [w for w in windows if w["name"] == LOGIN]
    assert sum(w["outcomes"]["error"] for w in logins) >= 1  # tried again during the run, failures counted
    assert sum(w["outcomes"]["ok"] for w in logins) >= 1  # and it came back
    after = [w for w in windows if w["name"] == "deposito GET /productos" and w["t"] >= recovered_at - 1]
    assert sum(w["outcomes"]["ok"] for w in after) > 0  # deposito's traffic resumed
    assert {h["check"] for h in run.records("health")} == {"deposito", "negocio", "ml", "dashboard"}
    assert any(t["target"] == "deposito" for t in run.records("token"))  # forged tokens need no login


def test_a_refused_password_is_one_line_and_exit_2(stack: StackHandle, tmp_path: Path) -> None:
    run = locust(stack, tmp_path / "results", "--login-password", "not-the-password", seconds=3)
    assert isinstance(run, LocustRun)
    assert run.returncode == 2, run.output[-2000:]
    assert "Traceback" not in run.output
    assert run.output.strip().splitlines()[-1] == (
        f"stagegate: error: deposito login at {stack.services['deposito']}/auth/login answered 401 for user "
        "'admin': the password was refused; set STAGEGATE_LOGIN_PASSWORD to the staging account's password")
