"""The process backend and the journal on real processes: signals, restarts, recovery after SIGKILL."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from rich.console import Console

from scenarios.chaos import AppBackend, ChaosRun, Journal, ProcessBackend, injected, load_plan, recover
from scenarios.chaos.proc_state import alive_start, is_stopped
from scenarios.chaos.steady_state import HealthProbe
from stagegate.cli import main
from stagegate.gate import recover_leftovers
from tests.chaos.conftest import FakeStack, stagegate, start_chaos_run, wait_until, write_plan
from tests.conftest import free_port

QUICK = """name = "{name}"
[steady_state]
checks = ["deposito", "negocio"]
recovery_timeout_s = 10
interval_s = 0.1
[[steps]]
id = "{action}_negocio"
at_s = {at_s}
action = "{action}"
target = "negocio"
duration_s = {duration_s}
"""


def _plan(tmp_path: Path, action: str = "pause", *, at_s: float = 0.2, duration_s: float = 1.0) -> Path:
    return write_plan(tmp_path, QUICK.format(name=f"quick-{action}", action=action, at_s=at_s, duration_s=duration_s))


def _backend(stack: FakeStack) -> ProcessBackend:
    return ProcessBackend(stack.profile(), stack.state_dir)


def test_pause_holds_inside_the_block_and_is_reverted_after(fake_stack: FakeStack, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    step = load_plan(_plan(tmp_path)).steps[0]
    pid = fake_stack.pid("negocio")
    probe = HealthProbe(fake_stack.profile(), ["negocio", "deposito"])
    with injected(_backend(fake_stack), journal, step):
        assert is_stopped(pid)
        assert journal.open_faults()[0].fault["pid"] == pid
        assert probe.failing() == ["negocio"]
    assert not is_stopped(pid)
    assert probe.failing() == [] and journal.open_faults() == []


def test_an_exception_inside_the_block_still_reverts(fake_stack: FakeStack, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    pid = fake_stack.pid("negocio")
    with pytest.raises(RuntimeError), injected(_backend(fake_stack), journal, load_plan(_plan(tmp_path)).steps[0]):
        assert is_stopped(pid)
        raise RuntimeError("the experiment deviated")
    assert not is_stopped(pid) and journal.open_faults() == []


def test_kill_restarts_the_service_and_records_recovery(fake_stack: FakeStack, tmp_path: Path) -> None:
    events: list[dict] = []
    old_pid = fake_stack.pid("negocio")
    run = ChaosRun(load_plan(_plan(tmp_path, "kill", duration_s=0.5)), fake_stack.profile(), backend=_backend(fake_stack),
                   app=AppBackend(), journal=Journal(tmp_path / "journal.jsonl"), emit=events.append)
    run.run(started_at=time.time(), stop=threading.Event())
    new_pid = fake_stack.pid("negocio")
    assert new_pid != old_pid and alive_start(old_pid) is None and alive_start(new_pid) is not None
    assert [e["phase"] for e in events] == ["start", "end", "recovered"]
    assert events[1]["detail"] == f"started negocio again (pid {new_pid})"
    assert events[2]["recovery_s"] is not None and events[2]["recovery_s"] < 10
    assert all(e["backend"] == "process" and e["target"] == "negocio" for e in events)
    assert (fake_stack.state_dir / "logs" / "negocio.log").exists()


def test_stop_during_a_hold_ends_it_and_reverts_at_once(fake_stack: FakeStack, tmp_path: Path) -> None:
    events: list[dict] = []
    run = ChaosRun(load_plan(_plan(tmp_path, duration_s=60)), fake_stack.profile(), backend=_backend(fake_stack),
                   app=AppBackend(), journal=Journal(tmp_path / "journal.jsonl"), emit=events.append)
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    started = time.monotonic()
    run.run(started_at=time.time(), stop=stop)
    assert time.monotonic() - started < 10
    assert [e["phase"] for e in events] == ["start", "end"]
    assert not is_stopped(fake_stack.pid("negocio"))


def test_recover_keeps_the_faults_of_a_run_still_going(fake_stack: FakeStack, tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    backend = _backend(fake_stack)
    step = load_plan(_plan(tmp_path)).steps[0]
    fault = backend.prepare(step)
    journal.open(backend="process", step_id=step.id, action="pause", target="negocio", fault=fault)
    backend.apply(fault)
    try:
        [note] = recover(journal)
        assert note.outcome == "kept" and str(note) == (
            f"kept pause on negocio (process, step pause_negocio) left by pid {os.getpid()}: that run is still going")
        assert is_stopped(fake_stack.pid("negocio"))
    finally:
        backend.revert(fault)


def test_a_line_cut_by_a_crash_is_not_a_fault(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_text('{"op":"open","id":"x","t":1,"owner":{"pid":1')
    assert Journal(path).open_faults() == []


def _chaos_run(stack: FakeStack, tmp_path: Path, plan: Path) -> subprocess.Popen[str]:
    return start_chaos_run(plan, tmp_path, backend="process", state_dir=stack.state_dir)


def test_sigkill_of_the_harness_leaves_a_fault_that_recover_reverts(fake_stack: FakeStack, tmp_path: Path) -> None:
    pid = fake_stack.pid("negocio")
    harness = _chaos_run(fake_stack, tmp_path, _plan(tmp_path, at_s=0, duration_s=120))
    wait_until(lambda: is_stopped(pid))
    harness.kill()
    harness.wait()
    time.sleep(0.5)
    assert is_stopped(pid), "SIGKILL cannot revert: the pause must still hold"
    done = stagegate("chaos", "recover", "--journal", str(tmp_path / "journal.jsonl"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == (f"reverted pause on negocio (process, step pause_negocio) left by pid {harness.pid}: "
                           f"resumed negocio (pid {pid})\n")
    assert not is_stopped(pid)
    again = stagegate("chaos", "recover", "--journal", str(tmp_path / "journal.jsonl"))
    assert again.stdout == f"nothing to recover ({tmp_path / 'journal.jsonl'} has no open fault)\n"


def test_sigterm_reverts_before_the_harness_exits(fake_stack: FakeStack, tmp_path: Path) -> None:
    pid = fake_stack.pid("negocio")
    harness = _chaos_run(fake_stack, tmp_path, _plan(tmp_path, at_s=0, duration_s=120))
    wait_until(lambda: is_stopped(pid))
    harness.send_signal(signal.SIGTERM)
    _, err = harness.communicate(timeout=30)
    assert harness.returncode == 130
    assert err.endswith("stagegate: interrupted: every fault was reverted\n")
    assert not is_stopped(pid)
    records = [json.loads(line) for line in (tmp_path / "out" / "chaos.jsonl").read_text().splitlines()]
    assert [r.get("phase", r["kind"]) for r in records] == ["run_header", "start", "end", "run_end"]
    assert records[-1]["reason"] == "interrupted"
    assert Journal(tmp_path / "journal.jsonl").open_faults() == []


def test_a_revert_that_fails_is_exit_4_and_stays_in_the_journal(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    fault = {"action": "kill", "service": "negocio", "pid": dead.pid, "start": 1, "stop_timeout_s": 1,
             "cmdline": [str(tmp_path / "no-such-binary")], "cwd": str(tmp_path), "env": {}, "secret_names": [],
             "env_file": None, "log_path": None, "state_file": str(tmp_path / "stack.json")}
    path = tmp_path / "journal.jsonl"
    path.write_text(json.dumps({"op": "open", "id": "f1", "t": 1.0, "owner": {"pid": dead.pid, "start": 1},
                                "backend": "process", "step_id": "kill_negocio", "action": "kill", "target": "negocio",
                                "fault": fault}) + "\n")
    assert main(["chaos", "recover", "--journal", str(path)]) == 4
    assert capsys.readouterr().out == (f"could not revert kill on negocio (process, step kill_negocio) left by pid "
                                       f"{dead.pid}: cannot start negocio again (No such file or directory)\n")
    assert [fault.id for fault in Journal(path).open_faults()] == ["f1"]


def test_a_steady_state_that_does_not_return_is_not_recovered(fake_stack: FakeStack, tmp_path: Path) -> None:
    text = QUICK.format(name="quick", action="pause", at_s=0, duration_s=0.3).replace(
        'checks = ["deposito", "negocio"]\nrecovery_timeout_s = 10', 'checks = ["negocio", "ml"]\nrecovery_timeout_s = 1')
    events: list[dict] = []
    profile = fake_stack.profile().with_targets({"ml": f"http://127.0.0.1:{free_port()}"})
    run = ChaosRun(load_plan(write_plan(tmp_path, text)), profile, backend=ProcessBackend(profile, fake_stack.state_dir),
                   app=AppBackend(), journal=Journal(tmp_path / "journal.jsonl"), emit=events.append)
    run.run(started_at=time.time(), stop=threading.Event())
    assert [e["phase"] for e in events] == ["start", "end", "not_recovered"]
    assert events[2]["detail"] == "still failing 1 s after the revert (critical service down): ml" and events[2]["recovery_s"] is None


def test_wrap_up_reverts_a_hold_at_once_waits_for_the_recovery_and_starts_nothing_new(
    fake_stack: FakeStack, tmp_path: Path
) -> None:
    # The end of the planned load: the 30 s pause is reverted now, its recovery still recorded, and the
    # step due at 20 s never starts.
    later = '[[steps]]\nid = "pause_deposito"\nat_s = 20\naction = "pause"\ntarget = "deposito"\nduration_s = 1\n'
    plan = load_plan(write_plan(tmp_path, QUICK.format(name="long", action="pause", at_s=0, duration_s=30) + later))
    events: list[dict] = []
    run = ChaosRun(plan, fake_stack.profile(), backend=_backend(fake_stack), app=AppBackend(),
                   journal=Journal(tmp_path / "journal.jsonl"), emit=events.append)
    thread = threading.Thread(target=run.run, kwargs={"started_at": time.time(), "stop": threading.Event()})
    thread.start()
    wait_until(lambda: is_stopped(fake_stack.pid("negocio")), 5)
    started = time.monotonic()
    assert run.wrap_up() is True
    thread.join(10)
    assert not thread.is_alive() and time.monotonic() - started < 5
    assert [(e["step_id"], e["phase"]) for e in events] == [
        ("pause_negocio", "start"), ("pause_negocio", "end"), ("pause_negocio", "recovered")]
    assert run.wrap_up() is False


def test_a_journal_left_by_a_killed_run_is_found_from_any_directory(fake_stack: FakeStack, tmp_path: Path) -> None:
    # No --journal: the journal is the state directory's own, so a recover run elsewhere finds it.
    pid = fake_stack.pid("negocio")
    here, elsewhere = tmp_path / "here", tmp_path / "elsewhere"
    here.mkdir()
    elsewhere.mkdir()
    env = {"STAGEGATE_STATE_DIR": str(fake_stack.state_dir)}
    harness = subprocess.Popen(
        [sys.executable, "-m", "stagegate", "chaos", "run", str(_plan(tmp_path, at_s=0, duration_s=120)),
         "--target", "local", "--backend", "process", "--allow-chaos", "--out", str(tmp_path / "out")],
        env={**os.environ, **env}, cwd=here, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_until(lambda: is_stopped(pid))
    harness.kill()
    harness.wait()
    assert is_stopped(pid)
    assert (fake_stack.state_dir / "chaos-journal.jsonl").exists() and not (here / ".stagegate").exists()
    done = stagegate("chaos", "recover", env=env, cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("reverted pause on negocio") and not is_stopped(pid)


def test_the_gate_reverts_what_a_killed_run_left_before_it_starts(fake_stack: FakeStack, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    pid = fake_stack.pid("negocio")
    harness = subprocess.Popen(
        [sys.executable, "-m", "stagegate", "chaos", "run", str(_plan(tmp_path, at_s=0, duration_s=120)),
         "--target", "local", "--backend", "process", "--allow-chaos", "--out", str(tmp_path / "out")],
        env={**os.environ, "STAGEGATE_STATE_DIR": str(fake_stack.state_dir)}, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    wait_until(lambda: is_stopped(pid))
    harness.kill()
    harness.wait()
    monkeypatch.setenv("STAGEGATE_STATE_DIR", str(fake_stack.state_dir))
    monkeypatch.chdir("/")
    console = Console(file=io.StringIO(), width=200)
    recover_leftovers(console)
    assert not is_stopped(pid)
    assert "chaos journal: reverted pause on negocio" in console.file.getvalue()
