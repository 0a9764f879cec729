"""The staging gate end to end: stack, smoke, load with chaos, verdict, reports.

One function, ``run_gate``, does what a CI pipeline would otherwise wire from five tools. Every
phase writes into the same results directory as it goes, so whatever stops the gate (Ctrl-C,
SIGTERM, a crash of Locust), what was recorded is analysed and reported, chaos has been reverted
by Locust's own shutdown, and the local stack is stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from rich.console import Console

import analysis
from analysis._reports.index import write_index
from scenarios.chaos import Journal, check_targets, load_plan, recover
from scenarios.target.profiles import Profile, load_profile
from scenarios.target.resolve import (
    Resolved,
    ensure_reachable,
    replaced_secrets_note,
    resolve_profile,
    state_dir,
)
from stagegate import _locust_process, _progress, _state_lock
from stagegate.judge import judge
from stagegate_core.errors import EXIT_HARNESS_FAILURE, EXIT_ROLLBACK, EXIT_USAGE, StagegateError
from stagegate_core.stream import new_run_id
from stagegate_core.textfile import last_line

DEFAULT_DURATION_S = 60


@dataclass(frozen=True)
class GateOptions:
    """Everything ``stagegate run`` and ``stagegate capacity`` take, validated before anything starts."""

    profile: str
    target: str
    env_file: Path | None
    scenario: str
    duration_s: int
    users: int | None
    processes: int | None
    expect_workers: int | None
    chaos: str | None
    allow_chaos: bool
    rules: Path | None
    trivy_report: Path | None
    abort_on_rollback: bool
    smoke: bool
    out: Path | None
    reports_dir: Path
    require_rps: float | None = None
    stage_duration_s: int | None = None
    """Capacity: how long each step of the shape lasts (the table's own durations when None)."""
    reuse_stack: bool = False
    """Share the stack of a run holding the state directory instead of waiting for it."""
    lock_wait_s: float = 0.0
    """How long to wait for another run's lock on the state directory before exit 2."""

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> GateOptions:
        if args.chaos and not args.allow_chaos:
            raise StagegateError("--chaos: the plan acts only with --allow-chaos (see it first with: stagegate chaos dry-run PLAN)")
        for name in ("users", "processes", "expect_workers"):
            value = getattr(args, name)
            if value is not None and value < 1:
                raise StagegateError(f"--{name.replace('_', '-')}: must be at least 1 (got {value})")
        if args.trivy_report is not None:
            from scenarios.smoke import load_trivy_report

            load_trivy_report(args.trivy_report)  # not a Trivy report by its schema: exit 2 before anything starts
        _stage_count(args.scenario)  # an unknown shape is refused before the stack starts
        step_text = getattr(args, "step_duration", None)
        stage_s = _locust_process.parse_duration(step_text, "--step-duration") if step_text else None
        if args.duration is not None:
            duration_s = _locust_process.parse_duration(args.duration)
        elif stage_s is not None:
            duration_s = stage_s * _stage_count(args.scenario)
        else:
            duration_s = DEFAULT_DURATION_S
        return cls(
            profile=args.profile, target=args.target, env_file=args.env_file, scenario=args.scenario,
            duration_s=duration_s, users=args.users, stage_duration_s=stage_s,
            processes=args.processes, expect_workers=args.expect_workers, chaos=args.chaos,
            allow_chaos=args.allow_chaos, rules=args.rules, trivy_report=args.trivy_report,
            abort_on_rollback=args.abort_on_rollback, smoke=not args.no_smoke, out=args.out,
            reports_dir=args.reports_dir, require_rps=getattr(args, "require_rps", None),
            reuse_stack=bool(getattr(args, "reuse_stack", False)), lock_wait_s=float(getattr(args, "lock_wait", 0) or 0),
        )


def _stage_count(scenario: str) -> int:
    from scenarios.scenario_file import load_scenario_file

    shapes = load_scenario_file().shapes
    if scenario not in shapes:
        raise StagegateError(f"--scenario: unknown {scenario!r} (known: {', '.join(sorted(shapes))})")
    return len(shapes[scenario].stages)


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM takes the same clean path as Ctrl-C: stop Locust, revert, stop the stack, analyse."""

    def _raise(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _local_stack(profile: Profile, options: GateOptions, console: Console) -> Iterator[None]:
    """Use the reference stack ``stagegate stack up`` started, or start one for this run and stop it after.

    The run holds the state directory's ``run.lock`` throughout (``_state_lock``): a second run
    waits ``--lock-wait`` at most, then exits 2 naming the holder; with ``--reuse-stack`` it shares
    the running stack instead, and the run that started it waits for it before stopping it.
    A stack whose processes are gone (its ``up`` was killed) is not reused: starting anew cleans it.
    """
    directory = state_dir().absolute()
    if options.reuse_stack and _state_lock.busy(directory):
        with _state_lock.sharing(directory):
            if _existing_stack(directory, console, adopt=True) is None:
                raise StagegateError(f"--reuse-stack: no stack is running in {directory}")
            console.print(f"sharing the reference stack of another run ({_state_lock.holder(directory)})",
                          highlight=False, soft_wrap=True)
            yield
        return
    with _state_lock.exclusive(directory, wait_s=options.lock_wait_s):
        found = _existing_stack(directory, console, adopt=options.reuse_stack)
        if found is not None:
            console.print(found, highlight=False, soft_wrap=True)
            yield
            return
        from reference_stack import running_stack

        console.print(f"starting the reference stack ({profile.contract} contract)")
        held: list[int] = []
        try:
            with running_stack(directory, contract=profile.contract, run_as="auto", owned=True):
                try:
                    yield
                finally:  # the stack stops only once no run shares it
                    held.append(_state_lock.alone(directory, lambda: console.print("waiting for the runs sharing the stack")))
        finally:
            for fd in held:
                os.close(fd)
        console.print("reference stack stopped")


def _existing_stack(directory: Path, console: Console, *, adopt: bool) -> str | None:
    """What says the stack already in ``directory`` is used, or None to start one.

    A container stack (``stack up --docker``) is used as it is. A process stack is used when every
    process runs, unless the run that started it is gone (it was killed): that one is reclaimed
    (stopped and started anew) unless ``adopt`` (``--reuse-stack``).
    """
    from reference_stack import StackError, stack_status

    try:
        info, processes = stack_status(directory)
    except StackError:
        return None
    if info.runtime == "docker":
        return f"using the container stack already running ({info.contract} contract, {directory})"
    if not processes or not all(process.running for process in processes):
        return None
    if info.orphaned() and not adopt:
        owner = info.owner or {}
        console.print(f"the stack in {directory} was started by a run that is gone (pid {owner.get('pid')}): "
                      "stopping it and starting anew (--reuse-stack keeps it)", highlight=False, soft_wrap=True)
        return None
    return f"using the reference stack already running ({info.contract} contract, {directory})"


def recover_leftovers(console: Console) -> None:
    """Revert the chaos faults a killed run left in the state directory's journal, one line each."""
    for note in recover(Journal()):
        console.print(f"chaos journal: {note}", highlight=False, soft_wrap=True)


def _run_smoke(resolved: Resolved, options: GateOptions, out: Path, console: Console) -> None:
    from scenarios.smoke import run_smoke

    console.print("[bold]smoke[/] checks")
    run_smoke(resolved, results_dir=out, trivy_report=options.trivy_report)


def _run_load(resolved: Resolved, options: GateOptions, out: Path, console: Console) -> int:
    """Run Locust and return its exit code; ``StagegateError`` when it refused the command (exit 2)."""
    run = _locust_process.LocustRun(
        results_dir=out, profile=options.profile, target=options.target, scenario=options.scenario,
        duration_s=options.duration_s, users=options.users, processes=options.processes,
        expect_workers=options.expect_workers, chaos_plan=options.chaos, allow_chaos=options.allow_chaos,
        abort_on_rollback=options.abort_on_rollback, rules=options.rules, secrets_env=dict(resolved.secrets),
        stage_duration_s=options.stage_duration_s,
    )
    process = _locust_process.start(run)
    try:
        _progress.follow_load(out / "locust.jsonl", options.duration_s, console, lambda: process.poll() is None,
                              past_planned="waiting for chaos recovery, or stopping" if options.chaos else "stopping")
    finally:
        code = _locust_process.stop(process)
    if code == EXIT_USAGE:  # the locustfile exits 2 only for a mistake in the options, with one line
        raise StagegateError(f"Locust refused the run: {_error_line(out / 'locust.log')}")
    return code


def _died_before_traffic(code: int, out: Path, console: Console) -> bool:
    """Whether Locust failed before it sent anything; says so, with its last error line, when it did.

    Locust exits 1 when a request failed and when it gives up, so the stream tells the two apart:
    a run that recorded traffic, or was aborted by a rollback trigger, is judged as usual.
    """
    records = _progress.StreamTail(out / "locust.jsonl").new_records()
    traffic = any(rec.get("kind") == "window" for rec in records)
    aborted = any(rec.get("kind") == "run_end" and rec.get("reason") == "aborted" for rec in records)
    if code == 0 or traffic or aborted:
        if code not in (0, EXIT_ROLLBACK):
            console.print(f"[red]Locust exited {code}[/]: {_error_line(out / 'locust.log')}; judging what was recorded",
                          highlight=False, soft_wrap=True)
        return False
    console.print(f"[red]Locust failed before any traffic[/] (exit {code}): {_error_line(out / 'locust.log')}",
                  highlight=False, soft_wrap=True)
    return True


_ERROR_LINE = re.compile(r"/(ERROR|CRITICAL)/|^stagegate: error: |^[\w.]*(Error|Exception|Exit): ")
"""A Locust log line at level ERROR, the locustfile's one-line refusal, or the last line of a traceback."""


def _error_line(path: Path) -> str:
    """The last error line of a Locust log (else its last line), without the ``stagegate: error:`` prefix."""
    chosen = last_line(path, _ERROR_LINE)
    return chosen.removeprefix("stagegate: error: ") if chosen else f"see {path}"


def _analyze_run(options: GateOptions, out: Path, console: Console) -> int:
    verdict = judge(out, rules_path=options.rules, require_rps=options.require_rps, console=console)
    if out.resolve().parent == options.reports_dir.resolve():
        console.print(f"runs index: {write_index(options.reports_dir)}")
    return verdict.exit_code


def run_gate(options: GateOptions) -> int:
    """Run the whole gate and return the verdict's exit code."""
    console = Console(stderr=True)
    if not _locust_process.LOCUSTFILE.is_file():  # a broken install: say so before the stack and smoke run
        console.print(f"[red]harness failure[/]: stagegate's locustfile {_locust_process.LOCUSTFILE} is missing; "
                      "reinstall stagegate", highlight=False, soft_wrap=True)
        return EXIT_HARNESS_FAILURE
    profile = load_profile(options.profile)
    analysis.load_rules(options.rules)  # a malformed rules file fails before anything starts
    if options.chaos:
        # a plan that cannot be read, or names what the profile has not, fails before anything starts
        check_targets(load_plan(options.chaos), profile)
    if options.target == "local":
        state_dir()  # a STAGEGATE_STATE_DIR that is not a directory fails before anything is written
    out = options.out or options.reports_dir / new_run_id()
    out.mkdir(parents=True, exist_ok=True)
    interrupted = died = False
    load_code = 0
    recover_leftovers(console)
    with _sigterm_as_interrupt():
        try:
            with _local_stack(profile, options, console) if options.target == "local" else contextlib.nullcontext():
                resolved = resolve_profile(profile, options.target, env_file=options.env_file)
                if note := replaced_secrets_note(resolved):
                    console.print(note, markup=False, highlight=False, soft_wrap=True)
                ensure_reachable(resolved.profile)
                if options.smoke:
                    _run_smoke(resolved, options, out, console)
                load_code = _run_load(resolved, options, out, console)
                died = _died_before_traffic(load_code, out, console)
        except KeyboardInterrupt:
            interrupted = True
            console.print("[yellow]interrupted[/]: chaos reverted and stack stopped; analysing what was recorded")
        except subprocess.SubprocessError as exc:
            console.print(f"[red]load phase failed[/]: {exc}; analysing what was recorded")
    if died and not any(out.glob("*.jsonl")):  # nothing was recorded: no verdict to write, the failure is all
        console.print(f"nothing recorded to judge in {out} (Locust's output: {out / 'locust.log'})",
                      highlight=False, soft_wrap=True)
        return EXIT_HARNESS_FAILURE
    code = _analyze_run(options, out, console)
    if died or load_code == EXIT_HARNESS_FAILURE:  # Locust exits 4 when its stream cannot be written
        return EXIT_HARNESS_FAILURE
    return 130 if interrupted and code == 0 else code
