"""Safety: nothing acts without --allow-chaos, off loopback, or outside the profile's targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.chaos import build_run, load_plan
from scenarios.scenario_errors import PlanInvalid, TargetNotAllowed
from scenarios.target.profiles import load_profile
from stagegate.cli import main
from tests.chaos.conftest import write_plan

PROFILE = load_profile("checklist-v0.10.0")
PAUSE = load_plan("pause-negocio-5s")


def _build(plan_path: Path | str, *, allow: bool = True, backend: str = "docker", url: str | None = None,
           state_dir: Path | None = None) -> None:
    profile = PROFILE.with_targets({"negocio": url}) if url else PROFILE
    build_run(load_plan(plan_path), profile, allow_chaos=allow, emit=lambda event: None, backend=backend,
              state_dir=state_dir)


def test_refused_without_allow_chaos() -> None:
    with pytest.raises(TargetNotAllowed) as caught:
        _build("pause-negocio-5s", allow=False)
    assert str(caught.value) == "chaos plan 'pause-negocio-5s' acts on real services: pass --allow-chaos to run it"


def test_cli_run_without_allow_chaos_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["chaos", "run", "pause-negocio-5s", "--backend", "docker", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "stagegate: error: chaos plan 'pause-negocio-5s' acts on real services: pass --allow-chaos to run it\n"
    )
    assert not (tmp_path / "chaos.jsonl").exists()


def test_refuses_a_host_outside_loopback() -> None:
    with pytest.raises(TargetNotAllowed) as caught:
        _build("pause-negocio-5s", url="http://10.20.30.40:8002")
    assert str(caught.value) == ("step pause_negocio: negocio is at 10.20.30.40, outside loopback; "
                                 "chaos acts there only if the plan lists it in allow_hosts")


def test_a_host_in_the_plans_allow_list_is_accepted(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "scenarios/chaos/plans/pause-negocio-5s.toml").read_text()
    path = write_plan(tmp_path, text.replace('description', 'allow_hosts = ["10.20.30.40"]\ndescription'))
    _build(path, url="http://10.20.30.40:8002")


@pytest.mark.parametrize("host", ["127.0.0.1", "127.9.9.9", "localhost", "[::1]"])
def test_loopback_hosts_need_no_allow_list(host: str) -> None:
    _build("pause-negocio-5s", url=f"http://{host}:8002")


def test_a_remote_docker_daemon_is_a_host_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "tcp://192.0.2.7:2375")
    with pytest.raises(TargetNotAllowed) as caught:
        _build("pause-negocio-5s")
    assert str(caught.value) == ("DOCKER_HOST tcp://192.0.2.7:2375 is at 192.0.2.7, outside loopback; "
                                 "chaos acts there only if the plan lists it in allow_hosts")


def test_target_must_be_a_service_of_the_profile(tmp_path: Path) -> None:
    text = 'name = "x"\n[[steps]]\nid = "s"\nat_s = 1\naction = "pause"\ntarget = "postgres"\nduration_s = 2\n'
    with pytest.raises(TargetNotAllowed) as caught:
        _build(write_plan(tmp_path, text))
    assert str(caught.value) == "step s: target 'postgres' is not a service of profile checklist-v0.10.0"


def test_process_backend_cannot_throttle_cpu(fake_stack) -> None:
    with pytest.raises(PlanInvalid) as caught:
        _build("cpu-starve-negocio", backend="process", state_dir=fake_stack.state_dir)
    assert str(caught.value) == "cpu-starve-negocio.toml: steps.0.action: 'cpu' needs the docker backend (this run uses process)"


def test_process_backend_needs_a_running_stack(tmp_path: Path) -> None:
    with pytest.raises(TargetNotAllowed) as caught:
        _build("pause-negocio-5s", backend="process", state_dir=tmp_path)
    assert str(caught.value) == (f"process backend: no local reference stack ({tmp_path}/stack.json not found); "
                                 "start one with: stagegate stack up")


def test_unknown_steady_state_check(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "scenarios/chaos/plans/pause-negocio-5s.toml").read_text()
    path = write_plan(tmp_path, text.replace("[steady_state]", '[steady_state]\nchecks = ["redis"]'))
    with pytest.raises(PlanInvalid) as caught:
        _build(path)
    assert str(caught.value) == ("plan.toml: steady_state.checks: unknown service 'redis' "
                                 "(known: dashboard, deposito, gateway, ml, negocio)")


def test_process_backend_refuses_a_profile_that_points_elsewhere(fake_stack) -> None:
    elsewhere = fake_stack.profile().with_targets({"negocio": "http://127.0.0.1:1"})
    with pytest.raises(TargetNotAllowed) as caught:
        build_run(PAUSE, elsewhere, allow_chaos=True, emit=lambda event: None, backend="process",
                  state_dir=fake_stack.state_dir)
    assert str(caught.value) == (f"chaos target 'negocio' is http://127.0.0.1:1, not the local stack's "
                                 f"{fake_stack.services['negocio']}: the process backend acts only on the stack "
                                 "it targets (--target local)")


def test_auto_picks_processes_only_for_the_local_stack(fake_stack) -> None:
    from scenarios.chaos import select_backend

    assert select_backend("auto", fake_stack.profile(), fake_stack.state_dir).name == "process"
    assert select_backend("auto", PROFILE, fake_stack.state_dir).name == "docker"
