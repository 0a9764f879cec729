"""The whole gate against deployments that are not our fixture, at the default scenario's traffic.

Each stack here plays a deployment stagegate did not build: another catalogue (other ids, codes
and counts than ``generators/catalogue.py``), servers that close the connection after a 500, a
login that fails for its first seconds. The gate runs as users run it (``python -m stagegate run``,
the shipped rules, the ``steady`` shape), and the verdict must be the one the checklist asks for.
The four deployments and their gates run at the same time (a few requests per second each), so
the module costs the longest run, not the sum.
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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class GateRun:
    """One finished gate: its exit code, verdict.json, stderr, results directory and the stack it judged."""

    code: int
    verdict: dict[str, Any]
    stderr: str
    out: Path
    catalogue: tuple[Any, ...]


PLANS: dict[str, tuple[str, dict[str, dict[str, Any]], tuple[str, ...]]] = {
    # name: (catalogue, faults from the start, gate options)
    "clean": ("variant:7", {}, ("--duration", "60s")),
    "high": ("variant:11", {"dashboard": {"error_rate": 0.68}},  # the dashboard is ~22 % of normal traffic
             ("--no-smoke", "--abort-on-rollback", "--duration", f"{SUSTAINED['for_s'] + 40}s")),
    "low": ("variant:12", {"dashboard": {"error_rate": 0.23, "error_mode": "unhandled"}},
            ("--no-smoke", "--duration", f"{SUSTAINED['for_s'] + 10}s")),
    "login": ("variant:5", {"deposito": {"login_fail_for_s": 20, "login_fail_status": 500}},
              ("--no-smoke", "--duration", "25s")),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, GateRun]:
    """Every plan's deployment and gate, all at once; each test reads its own finished run."""
    base = tmp_path_factory.mktemp("variants")
    with contextlib.ExitStack() as stacks:
        started = {}
        for name, (catalogue, faults, options) in PLANS.items():
            stack = stacks.enter_context(deployment(catalogue, **faults))
            started[name] = (stack, start_gate(stack, base / name, *options))
        return {name: GateRun(*finish(process, base / name), base / name, stack.catalogue)
                for name, (stack, process) in started.items()}


@pytest.mark.e2e
def test_a_clean_deployment_with_its_own_catalogue_promotes(runs: dict[str, GateRun]) -> None:
    """Other ids, codes and count than our fixture: the load asks for what the deployment holds."""
    run = runs["clean"]
    assert (run.code, run.verdict.get("verdict")) == (0, "PROMOTE"), (run.verdict.get("reasons"), run.stderr[-3000:])
    rules = rules_of(run.verdict)
    assert {rules[r]["status"] for r in ("smoke_r1_non_root", "smoke_logs", "ledger_consistent")} == {"PASS"}
    assert not [row["name"] for row in run.verdict["requests"] if row["errors"]], "a clean deployment answered errors"
    tracked = {int(p) for p in records(run.out, "ledger_snapshot")[0]["stock"]}
    assert tracked and tracked <= {product.id for product in run.catalogue}
    assert not tracked & set(range(1, 41)), "the fixture's ids leaked into the load"


@pytest.mark.e2e
def test_sustained_15_percent_rolls_back_in_time(runs: dict[str, GateRun]) -> None:
    """Dashboard errors make about 15 % of normal traffic: ROLLBACK, and the live abort stops the run
    within for_s + 5 s of the breach's start."""
    run, for_s = runs["high"], SUSTAINED["for_s"]
    assert (run.code, run.verdict.get("verdict")) == (1, "ROLLBACK"), run.stderr[-3000:]
    assert 0.11 <= normal_error_rate(run.verdict) <= 0.20
    assert rules_of(run.verdict)["error_rate_sustained"]["status"] == "FAIL"
    end = records(run.out, "run_end")[-1]
    assert (end["reason"], end["detail"].split(":")[0]) == ("aborted", "error_rate_sustained"), end
    first_window = min(w["t"] for w in records(run.out, "window"))
    assert end["t"] - first_window <= for_s + 5, "the abort came later than for_s + 5 s after the breach began"


@pytest.mark.e2e
def test_sustained_5_percent_behind_servers_that_close_connections_never_rolls_back(runs: dict[str, GateRun]) -> None:
    """About 5 % of normal traffic fails, and each 500 ends its keep-alive connection (as uvicorn does
    after an unhandled exception): no rollback, and no answer is lost as 'no answer'."""
    run = runs["low"]
    assert run.code != 1 and run.verdict.get("verdict") != "ROLLBACK", (run.verdict.get("reasons"), run.stderr[-3000:])
    assert 0.03 <= normal_error_rate(run.verdict) <= 0.075
    assert rules_of(run.verdict)["error_rate_sustained"]["status"] == "PASS"
    dashboard = [row for row in run.verdict["requests"] if row["service"] == "dashboard"]
    assert sum(row["errors"] for row in dashboard) > 0
    assert sum(row.get("transport", 0) for row in dashboard) == 0, "a closed keep-alive connection became 'no answer'"


@pytest.mark.e2e
def test_a_login_failing_for_20_s_then_recovering_is_still_judged(runs: dict[str, GateRun]) -> None:
    """Not a usage error (exit 2): the gate waits for the login within its retry budget and judges the run."""
    run = runs["login"]
    assert run.code in (0, 3) and run.verdict.get("verdict") in ("PROMOTE", "HOLD"), run.stderr[-3000:]
    deposito = [row for row in run.verdict["requests"] if row["service"] == "deposito" and row["traffic"] == "normal"]
    assert sum(row["ok"] for row in deposito) > 20, deposito
    assert rules_of(run.verdict)["jwt_control_accepted"]["status"] == "PASS"
