"""``stagegate chaos``: check, preview, run and clean up chaos plans.

``validate`` and ``dry-run`` never touch anything. ``run`` plays a plan on its own (no load) and
writes ``chaos.jsonl``; SIGINT and SIGTERM cut it short and every fault is reverted before exit.
``recover`` reverts whatever a killed run left in the journal.
"""

from __future__ import annotations

import argparse
import platform
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from scenarios.chaos import (
    BACKEND_CHOICES,
    ChaosRun,
    Journal,
    available_plans,
    build_run,
    default_journal_path,
    describe_plan,
    load_plan,
    recover,
    require_allow_chaos,
)
from scenarios.target.resolve import replaced_secrets_note, resolve_profile, state_dir
from stagegate import __version__
from stagegate._argtypes import directory_path, file_path
from stagegate_core.errors import EXIT_HARNESS_FAILURE
from stagegate_core.stream import (
    ChaosEvent,
    EndReason,
    StreamWriter,
    new_run_id,
    run_end_record,
    run_header_record,
)

EXIT_INTERRUPTED = 130
JOURNAL_HELP = ("fault journal (default: $STAGEGATE_CHAOS_JOURNAL, else chaos-journal.jsonl in the state directory: "
                "$STAGEGATE_STATE_DIR or .stagegate/stack)")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "chaos", help="validate, preview, run or recover chaos plans",
        description="Chaos plans disturb the deployment on a schedule and always revert. "
                    f"Shipped plans: {', '.join(available_plans())}.",
    )
    sub = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    validate = sub.add_parser("validate", help="check a plan against a profile; changes nothing")
    _plan_arguments(validate)
    validate.set_defaults(handler=_validate)

    dry = sub.add_parser("dry-run", help="print the plan with its times and targets; changes nothing")
    _plan_arguments(dry)
    dry.set_defaults(handler=_dry_run)

    run = sub.add_parser("run", help="play a plan now (no load); Ctrl-C or SIGTERM reverts and stops")
    _plan_arguments(run, target="local")
    run.add_argument("--allow-chaos", action="store_true", help="required: allow the plan to act on real targets")
    run.add_argument("--out", type=directory_path, default=Path("reports/chaos"),
                     help="directory for chaos.jsonl (default: reports/chaos)")
    run.add_argument("--journal", type=file_path, help=JOURNAL_HELP)
    run.set_defaults(handler=_run)

    rec = sub.add_parser("recover", help="revert every fault a killed run left behind, and say what was done",
                         description="Revert the open faults of the journal whose run is gone (a live run keeps "
                                     "its own); one line each. Exit 0, or 4 when a revert failed.")
    rec.add_argument("--journal", type=file_path, help=JOURNAL_HELP)
    rec.add_argument("--state-dir", type=directory_path, default=None,
                     help="the stack's state directory, whose chaos-journal.jsonl is read "
                          "(default: $STAGEGATE_STATE_DIR or .stagegate/stack)")
    rec.set_defaults(handler=_recover)


def _plan_arguments(parser: argparse.ArgumentParser, *, target: str | None = None) -> None:
    parser.add_argument("plan", metavar="PLAN", help="shipped plan name or TOML file")
    parser.add_argument("--profile", default="checklist-v0.10.0", help="target profile (default: checklist-v0.10.0)")
    parser.add_argument("--target", default=target,
                        help="'local' (the reference stack started by stagegate stack up), SERVICE=URL,..., or "
                             f"'' for the profile's URLs (default: {target or 'the profile URLs'})")
    parser.add_argument("--backend", choices=BACKEND_CHOICES, default="auto",
                        help="how faults act: docker, process (the local stack without Docker), or auto "
                             "(process when the local stack runs as processes, else docker)")


def _validate(args: argparse.Namespace) -> int:
    plan = load_plan(args.plan)
    describe_plan(plan, resolve_profile(args.profile, args.target).profile, backend=args.backend,
                  state_dir=state_dir())
    print(f"{plan.source or plan.name}: valid ({len(plan.steps)} step(s), last revert at t={plan.end_s:g} s)")
    return 0


def _dry_run(args: argparse.Namespace) -> int:
    plan = load_plan(args.plan)
    profile = resolve_profile(args.profile, args.target).profile
    print("\n".join(describe_plan(plan, profile, backend=args.backend, state_dir=state_dir())))
    return 0


def _recover(args: argparse.Namespace) -> int:
    journal = Journal(args.journal or default_journal_path(args.state_dir))
    notes = recover(journal)
    for note in notes:
        print(note)
    if not notes:
        print(f"nothing to recover ({journal.path} has no open fault)")
    return EXIT_HARNESS_FAILURE if any(note.outcome == "failed" for note in notes) else 0


class _Interrupted(Exception):
    """SIGINT or SIGTERM arrived: stop holding faults and revert."""


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # ignore any further signal, so that nothing cuts the reverts short
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise _Interrupted


class _Echo:
    """Writes each chaos record to the stream and prints it as one line for the operator."""

    def __init__(self) -> None:
        self.writer: StreamWriter | None = None

    def __call__(self, event: ChaosEvent) -> None:
        assert self.writer is not None
        self.writer.write(event)
        recovery = f" ({event['recovery_s']:.2f} s)" if event["recovery_s"] is not None else ""
        print(f"{time.strftime('%H:%M:%S')} {event['step_id']} {event['phase']}: {event['detail']}{recovery}",
              flush=True)


def _run(args: argparse.Namespace) -> int:
    plan = load_plan(args.plan)
    require_allow_chaos(plan, allow_chaos=args.allow_chaos)
    resolved = resolve_profile(args.profile, args.target)
    if note := replaced_secrets_note(resolved):
        print(note, file=sys.stderr)
    out: Path = args.out
    emit = _Echo()
    run = build_run(plan, resolved.profile, allow_chaos=args.allow_chaos, emit=emit, backend=args.backend,
                    state_dir=state_dir(), journal=Journal(args.journal) if args.journal else None)
    print("\n".join(describe_plan(plan, resolved.profile, backend=args.backend, state_dir=state_dir())), flush=True)
    with StreamWriter(out / "chaos.jsonl") as writer:
        emit.writer = writer
        writer.write(run_header_record(
            time.time(), run_id=new_run_id("chaos"), producer="chaos", profile=resolved.profile.name,
            scenario=None, targets=resolved.profile.targets(),
            settings={"plan": plan.name, "backend": run.backend.name},
            versions={"stagegate": __version__, "python": platform.python_version()},
        ))
        reason, code = _play(run)
        writer.write(run_end_record(time.time(), reason=reason, detail=f"plan {plan.name}"))
    return code


def _play(run: ChaosRun) -> tuple[EndReason, int]:
    """Play the plan; on SIGINT or SIGTERM every hold ends and the steps revert before this returns."""
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        run.recover_leftovers()
        run.run(started_at=time.time(), stop=threading.Event())
        return "completed", 0
    except _Interrupted:
        print("stagegate: interrupted: every fault was reverted", file=sys.stderr)
        return "interrupted", EXIT_INTERRUPTED
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
