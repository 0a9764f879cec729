"""Plan validation: every shipped plan loads; each bad plan is one exact line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.chaos import available_plans, describe_plan, load_plan
from scenarios.scenario_errors import PlanInvalid
from scenarios.target.profiles import load_profile
from stagegate.cli import main
from tests.chaos.conftest import stagegate, write_plan

HEAD = 'name = "bad"\n[[steps]]\nid = "s"\nat_s = 1\ntarget = "negocio"\n'

CpuWithoutFraction = HEAD + 'action = "cpu"\nduration_s = 2\n'
UnknownAction = HEAD + 'action = "explode"\nduration_s = 2\n'
PauseWithoutDuration = HEAD + 'action = "pause"\n'
RestartWithDuration = HEAD + 'action = "restart"\nduration_s = 3\n'
FractionOnPause = HEAD + 'action = "pause"\nduration_s = 2\ncpu_fraction = 0.5\n'
CamelCaseId = HEAD.replace('id = "s"', 'id = "Step1"') + 'action = "pause"\nduration_s = 2\n'
NoSteps = 'name = "bad"\nsteps = []\n'
OverlapOnOneTarget = (
    'name = "bad"\n'
    '[[steps]]\nid = "a"\nat_s = 1\naction = "pause"\ntarget = "negocio"\nduration_s = 5\n'
    '[[steps]]\nid = "b"\nat_s = 3\naction = "kill"\ntarget = "negocio"\nduration_s = 5\n'
)
SameIdTwice = OverlapOnOneTarget.replace('id = "b"', 'id = "a"').replace("at_s = 3", "at_s = 30")
UnknownKey = HEAD + 'action = "pause"\nduration_s = 2\nlatency_ms = 5\n'
BadWhileRecovering = 'name = "bad"\n[steady_state]\nwhile_recovering = "nothing"\n' + HEAD.split("\n", 1)[1] + (
    'action = "pause"\nduration_s = 2\n')


@pytest.mark.parametrize("name", available_plans())
def test_every_shipped_plan_is_valid_against_both_profiles(name: str) -> None:
    plan = load_plan(name)
    for profile in ("checklist-v0.10.0", "as-built"):
        lines = describe_plan(plan, load_profile(profile), backend="docker")
        assert len(lines) == 2 + len(plan.steps)


def test_shipped_plans_cover_the_issue() -> None:
    assert {"pause-agent-30s", "kill-restart-ml", "outage-two-services-90s", "cpu-starve-negocio",
            "pause-negocio-5s"} <= set(available_plans())
    outage = load_plan("outage-two-services-90s")
    assert {s.target for s in outage.steps} == {"deposito", "ml"} and {s.duration_s for s in outage.steps} == {90}


def test_dry_run_lists_steps_in_time_order_with_their_targets() -> None:
    lines = describe_plan(load_plan("outage-two-services-90s"), load_profile("checklist-v0.10.0"), backend="docker")
    assert lines[1] == ("2 step(s), last revert at t=120 s; backend docker; recovery timeout 90 s "
                        "(past the planned load: load)")
    assert lines[2] == "  t=    30 s  stop_deposito: stop deposito (container agente_deposito) for 90 s, revert at t=120 s"
    assert lines[3] == "  t=    30 s  stop_ml: stop ml (container ml_service) for 90 s, revert at t=120 s"


@pytest.mark.parametrize(("text", "message"), [
    (CpuWithoutFraction, "plan.toml: steps.0: Value error, action 'cpu' needs cpu_fraction (step s)"),
    (UnknownAction, ("plan.toml: steps.0.action: Input should be 'pause', 'kill', 'stop', 'restart', 'cpu', "
                     "'memory', 'blackhole', 'bandwidth' or 'app_fault' (got 'explode')")),
    (PauseWithoutDuration, "plan.toml: steps.0: Value error, action 'pause' needs duration_s > 0 (step s)"),
    (RestartWithDuration, "plan.toml: steps.0: Value error, action 'restart' takes no duration_s (step s)"),
    (FractionOnPause, "plan.toml: steps.0: Value error, cpu_fraction is only for action 'cpu' (step s is 'pause')"),
    (CamelCaseId, "plan.toml: steps.0: Value error, id must be snake_case (got 'Step1')"),
    (NoSteps, "plan.toml: steps: List should have at least 1 item after validation, not 0 (got [])"),
    (OverlapOnOneTarget, "plan.toml: (top level): Value error, steps a and b overlap on negocio (1-6 s and 3-8 s)"),
    (SameIdTwice, "plan.toml: (top level): Value error, step id 'a' is used twice"),
    (UnknownKey, "plan.toml: steps.0.latency_ms: Extra inputs are not permitted (got 5)"),
    (BadWhileRecovering,
     "plan.toml: steady_state.while_recovering: Input should be 'load' or 'health_only' (got 'nothing')"),
])
def test_bad_plan_is_one_exact_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                    message: str) -> None:
    path = write_plan(tmp_path, text)
    with pytest.raises(PlanInvalid) as caught:
        load_plan(path)
    assert str(caught.value) == message
    assert main(["chaos", "validate", str(path)]) == 2
    assert capsys.readouterr() == ("", f"stagegate: error: {message}\n")


def test_bad_plan_through_the_installed_command(tmp_path: Path) -> None:
    done = stagegate("chaos", "validate", str(write_plan(tmp_path, CpuWithoutFraction)))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "stagegate: error: plan.toml: steps.0: Value error, action 'cpu' needs cpu_fraction (step s)\n"


def test_unknown_plan_name_lists_the_shipped_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chaos", "dry-run", "no-such-plan"]) == 2
    known = ", ".join(available_plans())
    assert capsys.readouterr().err == f"stagegate: error: unknown chaos plan 'no-such-plan' (known: {known})\n"


def test_not_toml_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_plan(tmp_path, "name = \n")
    assert main(["chaos", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stagegate: error: plan.toml: not valid TOML (") and err.count("\n") == 1


def test_validate_and_dry_run_print_and_change_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chaos", "validate", "kill-restart-ml", "--backend", "docker"]) == 0
    assert capsys.readouterr().out == "kill-restart-ml.toml: valid (1 step(s), last revert at t=40 s)\n"
    assert main(["chaos", "dry-run", "kill-restart-ml", "--backend", "docker"]) == 0
    assert "t=    30 s  kill_ml: kill ml (container ml_service) for 10 s, revert at t=40 s" in capsys.readouterr().out
