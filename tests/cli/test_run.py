"""``stagegate run`` end to end against the reference stack: each defect gives the verdict it must.

One stack serves the module; each test flips the fault switch it is about, runs the whole gate
(smoke, Locust, analysis) as a subprocess for a few seconds, and reads ``verdict.json``. Rules
whose windows are minutes long are scaled down in a rules file of the test's own (same rules,
shorter windows): their boundaries at the real values are tested on synthetic streams in
``tests/analysis``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reference_stack import StackHandle, running_stack
from tests.conftest import REPO

TRIVY_CLEAN = REPO / "examples" / "trivy-no-findings.json"
DEFAULT_RULES = REPO / "analysis" / "rules" / "default.toml"


@pytest.fixture(scope="module")
def stack() -> Iterator[StackHandle]:
    # Outside pytest's 0700 tmp folder, so that under root the services can drop to nobody (R1).
    with tempfile.TemporaryDirectory(prefix="stagegate-run-") as directory:
        os.chmod(directory, 0o755)
        with running_stack(Path(directory), ocr_timeout_s=2, run_as="auto") as handle:
            yield handle


@pytest.fixture(autouse=True)
def _clean_stack(stack: StackHandle) -> Iterator[None]:
    stack.clear_faults()
    yield
    stack.clear_faults()


def gate(stack: StackHandle, out: Path, *args: str, duration: str = "8s",
         command: str = "run") -> tuple[int, dict[str, Any], str]:
    env = {**os.environ, "STAGEGATE_STATE_DIR": str(stack.state_dir)}
    timing = ["--duration", duration] if duration else []
    proc = subprocess.run(
        [sys.executable, "-m", "stagegate", command, *timing, "--trivy-report", str(TRIVY_CLEAN),
         "--out", str(out), "--reports-dir", str(out.parent), *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=240, check=False,
    )
    verdict = json.loads((out / "verdict.json").read_text(encoding="utf-8")) if (out / "verdict.json").exists() else {}
    return proc.returncode, verdict, proc.stderr


def statuses(verdict: dict[str, Any]) -> dict[str, str]:
    return {rule["id"]: rule["status"] for rule in verdict["rules"]}


def scaled_rules(tmp_path: Path, **changes: dict[str, Any]) -> Path:
    """The default rules with some values changed (``rule_id={"key": value}``), as a TOML file."""
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    rules = tomllib.loads(text)["rules"]
    for rule_id, values in changes.items():
        assert rule_id in rules, rule_id
        for key, value in values.items():
            assert key in rules[rule_id], f"{rule_id}.{key}"
            text = _replace_value(text, rule_id, key, value)
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    assert all(tomllib.loads(text)["rules"][r][k] == v for r, kv in changes.items() for k, v in kv.items())
    return path


def _replace_value(text: str, rule_id: str, key: str, value: Any) -> str:
    head, sep, tail = text.partition(f"[rules.{rule_id}]\n")
    body, nxt, rest = tail.partition("\n[")
    lines = [f"{key} = {json.dumps(value)}" if line.split("=")[0].strip() == key else line
             for line in body.splitlines()]
    return head + sep + "\n".join(lines) + nxt + rest


@pytest.mark.e2e
def test_a_short_clean_run_holds_saying_what_it_saw_too_little_of(stack: StackHandle, tmp_path: Path) -> None:
    """8 s of clean traffic fails nothing, but cannot show a sustained error rate, a ledger that would
    catch a 1-in-20 corruption or a p95: HOLD, never a PROMOTE on too little (the 60 s clean run that
    promotes is in test_variants.py)."""
    code, verdict, stderr = gate(stack, tmp_path / "clean")
    assert (code, verdict["verdict"]) == (3, "HOLD"), stderr[-3000:]
    assert not [rule["id"] for rule in verdict["rules"] if rule["status"] == "FAIL"]
    held = {reason.split(" ")[0] for reason in verdict["reasons"]}
    assert {"error_rate_sustained", "ledger_consistent", "p95_normal"} <= held, verdict["reasons"]
    assert any("would be caught with probability" in reason for reason in verdict["reasons"])
    assert (tmp_path / "clean" / "report.html").exists()
    assert (tmp_path / "index.html").exists()


@pytest.mark.e2e
def test_broken_jwt_isolation_rolls_back_naming_r2(stack: StackHandle, tmp_path: Path) -> None:
    stack.set_fault("negocio", jwt_accept_cross_agent=True)
    code, verdict, stderr = gate(stack, tmp_path / "jwt")
    assert (code, verdict["verdict"]) == (1, "ROLLBACK"), stderr[-3000:]
    assert statuses(verdict)["jwt_forged_accepted"] == "FAIL"
    assert any("jwt_forged_accepted" in reason for reason in verdict["reasons"])


@pytest.mark.e2e
def test_missing_security_headers_hold(stack: StackHandle, tmp_path: Path) -> None:
    stack.set_fault("dashboard", security_headers_missing=True)
    code, verdict, stderr = gate(stack, tmp_path / "headers")
    assert (code, verdict["verdict"]) == (3, "HOLD"), stderr[-3000:]
    assert statuses(verdict)["smoke_security_headers"] == "FAIL"


@pytest.mark.e2e
def test_capacity_with_two_worker_processes_finds_the_knee_and_holds_below_the_required_rps(
    stack: StackHandle, tmp_path: Path
) -> None:
    # 4 s steps: the rules' 5 s settling time at the start of each step is cut to 1 s, and a step's
    # SLOs are judged on the few dozen requests such a step holds (the shipped SLOs want 100).
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    head, capacity_part = text.split("\n[capacity]\n")
    changes = ((r"^settle_s = 5\b", "settle_s = 1", 1), (r"^min_count = 100\b", "min_count = 10", 2))
    for pattern, replacement, times in changes:
        assert len(re.findall(pattern, capacity_part, flags=re.MULTILINE)) == times, pattern
        capacity_part = re.sub(pattern, replacement, capacity_part, flags=re.MULTILINE)
    rules = tmp_path / "rules.toml"
    rules.write_text(head + "\n[capacity]\n" + capacity_part, encoding="utf-8")
    code, verdict, stderr = gate(stack, tmp_path / "capacity", "--step-duration", "4s", "--users", "10",
                                 "--processes", "2", "--require-rps", "100000", "--no-smoke", "--rules", str(rules),
                                 duration="", command="capacity")
    capacity = verdict["capacity"]
    assert [step["users"] for step in capacity["steps"]] == [2, 4, 6, 8, 10], stderr[-3000:]
    assert capacity["knee_users"] == 10 and capacity["knee_rps"] > 0
    assert (capacity["passed"], code, verdict["verdict"]) == (False, 3, "HOLD")
    assert any("is below the required 100000 req/s" in reason for reason in verdict["reasons"])
    locust_rows = (tmp_path / "capacity" / "locust_stats.csv").read_text(encoding="utf-8").splitlines()
    recorded = sum(row["count"] for row in verdict["requests"])
    assert recorded == int(locust_rows[-1].split(",")[2])  # the merged windows count what Locust counted


def pause_plan(tmp_path: Path, seconds: float) -> Path:
    """deposito and ml frozen together (SIGSTOP) for ``seconds`` from t=2 s."""
    steps = "".join(
        f'[[steps]]\nid = "pause_{service}"\nat_s = 2\naction = "pause"\ntarget = "{service}"\n'
        f"duration_s = {seconds}\n\n"
        for service in ("deposito", "ml")
    )
    path = tmp_path / f"pause-two-{seconds:g}s.toml"
    path.write_text(f'name = "pause-two-{seconds:g}s"\ndescription = "test plan"\n\n'
                    f"[steady_state]\nrecovery_timeout_s = 20\n\n{steps}", encoding="utf-8")
    return path


@pytest.mark.e2e
@pytest.mark.parametrize(("pause_s", "rolls_back"), [(9, True), (2, False)])
def test_two_services_down_longer_than_the_health_limit_roll_back(
    stack: StackHandle, tmp_path: Path, pause_s: float, rolls_back: bool
) -> None:
    # The checklist's 180 s, scaled to 5 s: a 9 s outage of two services must trip both health rules,
    # a 2 s one neither (without smoke, the verdict is then HOLD for want of the smoke criteria).
    rules = scaled_rules(tmp_path, health_failing_long={"max_s": 5}, health_concurrent_failing={"after_s": 5})
    code, verdict, stderr = gate(stack, tmp_path / "chaos", "--rules", str(rules), "--no-smoke", "--chaos",
                                 str(pause_plan(tmp_path, pause_s)), "--allow-chaos", duration="16s")
    health = {statuses(verdict)[rule] for rule in ("health_failing_long", "health_concurrent_failing")}
    assert (verdict["verdict"] == "ROLLBACK", code == 1) == (rolls_back, rolls_back), (verdict["reasons"], stderr[-3000:])
    assert health == ({"FAIL"} if rolls_back else {"PASS"})
    assert statuses(verdict)["chaos_recovered"] == "PASS"
    assert [e["phase"] for e in _chaos_events(tmp_path / "chaos")].count("recovered") == 2


def _chaos_events(out: Path) -> list[dict[str, Any]]:
    lines = (out / "locust.jsonl").read_text(encoding="utf-8").splitlines()
    return [record for record in map(json.loads, lines) if record["kind"] == "chaos"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "staging-nope"], "stagegate: error: unknown profile 'staging-nope' (known: as-built, checklist-v0.10.0)"),
        (["--duration", "ten minutes"], "stagegate: error: --duration: 'ten minutes' is not a duration (examples: 90s, 10m, 1h30m)"),
        (["--target", ",".join(f"{name}=http://127.0.0.1:9" for name in ("deposito", "negocio", "ml", "dashboard", "gateway"))],
         "stagegate: error: target unreachable: every service refused the connection for 5 s ("
         + ", ".join(f"{name} http://127.0.0.1:9" for name in ("deposito", "negocio", "ml", "dashboard"))
         + "): [Errno 111] Connection refused"),
        (["--chaos", "pause-negocio-short"],
         "stagegate: error: --chaos: the plan acts only with --allow-chaos (see it first with: stagegate chaos dry-run PLAN)"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "stagegate", "run", "--out", str(tmp_path / "out"), *args],
                          cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == message


AS_BUILT_GAPS = {
    # docs/as-built.md §10, as the model reproduces them (observed) or the profile declares them
    "health_needs_jwt", "no_login_route", "container_names_differ", "no_issuer_check", "ocr_route_missing",
    "inflation_log_case", "predict_contract_differs", "metrics_need_key", "p95_metric_absent", "hsts_by_flag",
    "jwt_wrong_rejection", "security_headers_missing_on_429",
}


@pytest.mark.e2e
def test_as_built_profile_against_the_as_built_model_rolls_back_and_lists_the_gaps(tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="stagegate-as-built-") as directory:
        os.chmod(directory, 0o755)
        with running_stack(Path(directory), contract="as-built", ocr_timeout_s=2, ocr_seconds_per_mb=0.2,
                           run_as="auto") as as_built:
            code, verdict, stderr = gate(as_built, tmp_path / "as-built", "--profile", "as-built")
    assert (code, verdict["verdict"]) == (1, "ROLLBACK"), stderr[-3000:]
    assert statuses(verdict)["jwt_wrong_rejection"] == "FAIL"
    assert "Traceback" not in stderr
    found = {finding["id"] for finding in verdict["findings"]}
    assert AS_BUILT_GAPS <= found, AS_BUILT_GAPS - found
    wrong = next(f for f in verdict["findings"] if f["id"] == "jwt_wrong_rejection")
    assert "answered 500 (expected 401/403)" in wrong["title"] + wrong["evidence"]


def sustained_rules(tmp_path: Path) -> Path:
    """The default rules with a short sustained rule: error rate over the trailing 6 s above 10 %."""
    rules = scaled_rules(tmp_path, error_rate_sustained={"for_s": 6, "min_count": 20})
    sustained = tomllib.loads(rules.read_text(encoding="utf-8"))["rules"]["error_rate_sustained"]
    assert (sustained["for_s"], sustained["above"], "window_s" in sustained) == (6, 0.10, False)
    return rules


def _records(out: Path, kind: str) -> list[dict[str, Any]]:
    lines = (out / "locust.jsonl").read_text(encoding="utf-8").splitlines()
    return [record for record in map(json.loads, lines) if record["kind"] == kind]


@pytest.mark.e2e
@pytest.mark.parametrize("processes", [None, 2], ids=["standalone", "two-workers"])
def test_abort_on_rollback_uses_the_rules_file_and_stops_within_5_s_of_the_breach(
    stack: StackHandle, tmp_path: Path, processes: int | None
) -> None:
    # The shipped rules (60 s) could not fire in this run; the rules file's 6 s one must, live too.
    stack.set_fault("dashboard", error_rate=1.0)
    out = tmp_path / "abort"
    workers = ["--processes", str(processes)] if processes else []
    started = time.time()
    code, verdict, stderr = gate(stack, out, "--rules", str(sustained_rules(tmp_path)), "--abort-on-rollback",
                                 "--no-smoke", "--users", "12", *workers, duration="60s")
    assert (code, verdict.get("verdict")) == (1, "ROLLBACK"), stderr[-3000:]
    end = _records(out, "run_end")[-1]
    assert (end["reason"], end["detail"].split(":")[0]) == ("aborted", "error_rate_sustained"), end
    planned_end = _records(out, "run_header")[-1]["t"] + 60
    assert end["t"] < planned_end - 30 and time.time() - started < 40
    sustained = next(rule for rule in verdict["rules"] if rule["id"] == "error_rate_sustained")
    breach_second = sustained["evidence"]["values"]["first_breach_at"]  # the window ending in it is the first above
    delay = end["t"] - breach_second
    print(f"abort delay ({processes or 1} process(es)): {delay:.2f} s after the breach second")
    assert 0 < delay <= 5, (delay, sustained["summary"])


@pytest.mark.e2e
def test_locust_dying_before_any_traffic_is_exit_4_with_its_error_line_and_still_reported(
    stack: StackHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A master whose worker never connects gives up (Locust's own limit, from its environment):
    # no traffic at all, so no quiet HOLD but exit 4 naming why; what was recorded is still judged.
    monkeypatch.setenv("LOCUST_EXPECT_WORKERS_MAX_WAIT", "2")
    out = tmp_path / "no-workers"
    code, verdict, stderr = gate(stack, out, "--expect-workers", "1", "--no-smoke", duration="5s")
    assert code == 4, stderr[-3000:]
    assert "Locust failed before any traffic (exit 1): " in stderr
    assert "Gave up waiting for workers to connect" in stderr
    assert verdict["verdict"] in ("HOLD", "ROLLBACK") and (out / "report.html").exists()
