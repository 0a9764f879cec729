"""The whole gate against deployments that are not our fixture, at the default scenario's traffic.

Each stack here plays a deployment stagegate did not build: another catalogue (other ids, codes
and counts than ``generators/catalogue.py``), servers that close the connection after a 500, a
login that fails for its first seconds. The gate runs as users run it (``python -m stagegate run``,
the shipped rules, the ``steady`` shape), and the verdict must be the one the checklist asks for.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reference_stack import StackHandle, running_stack
from tests.conftest import REPO

TRIVY_CLEAN = REPO / "examples" / "trivy-no-findings.json"
SUSTAINED = tomllib.loads((REPO / "analysis" / "rules" / "default.toml").read_text(encoding="utf-8"))[
    "rules"]["error_rate_sustained"]


@contextlib.contextmanager
def deployment(catalogue: str, **faults: dict[str, Any]) -> Iterator[StackHandle]:
    """A reference stack holding ``catalogue``, with ``faults`` (service -> switches) set from the start."""
    # Outside pytest's 0700 tmp folder, so that under root the services can drop to nobody (R1).
    with tempfile.TemporaryDirectory(prefix="stagegate-variant-") as directory:
        os.chmod(directory, 0o755)
        with running_stack(Path(directory), ocr_timeout_s=2, run_as="auto", catalogue=catalogue) as handle:
            for service, switches in faults.items():
                handle.set_fault(service, **switches)
            yield handle


def start_gate(stack: StackHandle, out: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "STAGEGATE_STATE_DIR": str(stack.state_dir)}
    return subprocess.Popen(
        [sys.executable, "-m", "stagegate", "run", "--target", "local", "--scenario", "steady",
         "--trivy-report", str(TRIVY_CLEAN), "--out", str(out), "--reports-dir", str(out.parent), *args],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def finish(process: subprocess.Popen[str], out: Path, timeout_s: float = 360) -> tuple[int, dict[str, Any], str]:
    _, stderr = process.communicate(timeout=timeout_s)
    verdict_path = out / "verdict.json"
    verdict = json.loads(verdict_path.read_text(encoding="utf-8")) if verdict_path.exists() else {}
    return process.returncode, verdict, stderr


def rules_of(verdict: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["id"]: rule for rule in verdict["rules"]}


def records(out: Path, kind: str) -> list[dict[str, Any]]:
    lines = (out / "locust.jsonl").read_text(encoding="utf-8").splitlines()
    return [rec for rec in map(json.loads, lines) if rec["kind"] == kind]


def normal_error_rate(verdict: dict[str, Any]) -> float:
    rows = [row for row in verdict["requests"] if row["traffic"] == "normal"]
    errors = sum(row["errors"] for row in rows)
    return errors / (errors + sum(row["ok"] for row in rows))


@pytest.mark.e2e
def test_a_clean_deployment_with_its_own_catalogue_promotes(tmp_path: Path) -> None:
    """Other ids, codes and count than our fixture: the load asks for what the deployment holds."""
    with deployment("variant:7") as stack:
        out = tmp_path / "clean"
        code, verdict, stderr = finish(start_gate(stack, out, "--duration", "60s"), out)
    assert (code, verdict.get("verdict")) == (0, "PROMOTE"), (verdict.get("reasons"), stderr[-3000:])
    rules = rules_of(verdict)
    assert {rules[r]["status"] for r in ("smoke_r1_non_root", "smoke_logs", "ledger_consistent")} == {"PASS"}
    assert not [row["name"] for row in verdict["requests"] if row["errors"]], "a clean deployment answered errors"
    tracked = {int(p) for p in records(out, "ledger_snapshot")[0]["stock"]}
    assert tracked and tracked <= {product.id for product in stack.catalogue}
    assert not tracked & set(range(1, 41)), "the fixture's ids leaked into the load"


@pytest.mark.e2e
def test_sustained_15_percent_rolls_back_in_time_and_5_percent_never_does(tmp_path: Path) -> None:
    """Two deployments at once, each at the default scenario's traffic (a few requests per second):
    dashboard errors make about 15 % and about 5 % of normal traffic. The 5 % one also closes its
    keep-alive connection after every 500, as uvicorn does after an unhandled exception."""
    for_s = SUSTAINED["for_s"]
    with deployment("variant:11", dashboard={"error_rate": 1.0}) as high, \
            deployment("variant:12", dashboard={"error_rate": 0.35, "error_mode": "unhandled"}) as low:
        high_out, low_out = tmp_path / "high", tmp_path / "low"
        high_run = start_gate(high, high_out, "--no-smoke", "--abort-on-rollback", "--duration", f"{for_s + 40}s")
        low_run = start_gate(low, low_out, "--no-smoke", "--duration", f"{for_s + 10}s")
        high_code, high_verdict, high_err = finish(high_run, high_out)
        low_code, low_verdict, low_err = finish(low_run, low_out)

    assert (high_code, high_verdict.get("verdict")) == (1, "ROLLBACK"), high_err[-3000:]
    assert 0.12 <= normal_error_rate(high_verdict) <= 0.20
    assert rules_of(high_verdict)["error_rate_sustained"]["status"] == "FAIL"
    end = records(high_out, "run_end")[-1]
    assert (end["reason"], end["detail"].split(":")[0]) == ("aborted", "error_rate_sustained"), end
    first_window = min(w["t"] for w in records(high_out, "window"))
    assert end["t"] - first_window <= for_s + 5, "the abort came later than for_s + 5 s after the breach began"

    assert low_code != 1 and low_verdict.get("verdict") != "ROLLBACK", (low_verdict.get("reasons"), low_err[-3000:])
    assert 0.03 <= normal_error_rate(low_verdict) <= 0.07
    assert rules_of(low_verdict)["error_rate_sustained"]["status"] == "PASS"
    dashboard = [row for row in low_verdict["requests"] if row["service"] == "dashboard"]
    assert sum(row["errors"] for row in dashboard) > 0
    assert sum(row.get("transport", 0) for row in dashboard) == 0, "a closed keep-alive connection became 'no answer'"


@pytest.mark.e2e
def test_a_login_failing_for_20_s_then_recovering_is_still_judged(tmp_path: Path) -> None:
    """Not a usage error (exit 2): the gate waits for the login within its retry budget and judges the run."""
    with deployment("variant:5", deposito={"login_fail_for_s": 20, "login_fail_status": 500}) as stack:
        out = tmp_path / "login"
        code, verdict, stderr = finish(start_gate(stack, out, "--no-smoke", "--duration", "25s"), out)
    assert code in (0, 3) and verdict.get("verdict") in ("PROMOTE", "HOLD"), stderr[-3000:]
    deposito = [row for row in verdict["requests"] if row["service"] == "deposito" and row["traffic"] == "normal"]
    assert sum(row["ok"] for row in deposito) > 20, deposito
    assert rules_of(verdict)["jwt_control_accepted"]["status"] == "PASS"
