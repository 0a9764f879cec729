"""The Locust seam: play a chaos plan on the master while the test runs, revert when it stops.

The locustfile calls ``install(environment, emit=recorder.emit, profile=profile)`` after the
recorder (so that, with Locust's reverse teardown, chaos reverts before the recorder flushes).
It reads ``--chaos-plan``, ``--allow-chaos``, ``--chaos-backend`` and ``--chaos-journal`` from
``environment.parsed_options`` (missing ones take their defaults). The plan is checked at install,
before the test starts, and a bad one raises ``StagegateError``. On ``test_start`` the master (or
the local runner; never a worker) reverts whatever an earlier run left, then plays the plan from
that moment; ``test_stop`` and ``quitting`` cut every hold short and wait for the reverts.

The load does not end while a step waits for its recovery: the schedule becomes the shape's
``overtime``, so when the planned load time is over the run's holds are reverted and the run goes on
(the load as it was, or health checks only: the plan's ``steady_state.while_recovering``) until
every step recovered or recorded ``not_recovered``, never longer than the recovery timeout (plus
``REVERT_GRACE_S``) after that moment.
Locust is imported lazily: importing this module does not monkey-patch anything.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scenarios.chaos.journal import Journal
from scenarios.chaos.plan import load_plan
from scenarios.chaos.runner import ChaosRun, Emit
from scenarios.chaos.setup import build_run
from scenarios.target.profiles import Profile
from stagegate_core.stream import StreamWriter

if TYPE_CHECKING:
    from scenarios.load.shapes import Overtime  # imports Locust, which only the Locust process may

log = logging.getLogger(__name__)

CHAOS_STREAM = "chaos.jsonl"
REVERT_WAIT_S = 60.0
"""How long the stop listener waits for the steps to revert."""
REVERT_GRACE_S = 15.0
"""Past the planned load time, what a revert and the last health probe may add to the recovery timeout."""


def install(environment: Any, *, emit: Emit | None = None, profile: Profile | None = None) -> ChaosRun | None:
    """Validate the plan named by ``--chaos-plan`` and schedule it; None when there is no plan.

    ``emit`` and ``profile`` default to the run's own (``scenarios`` attaches its recorder and
    resolved profile to the environment before chaos is installed); without a run context the
    records go to ``<results-dir>/chaos.jsonl`` and the profile is resolved from the options.
    """
    options = environment.parsed_options
    plan_name = getattr(options, "chaos_plan", None)
    if not plan_name:
        return None
    from scenarios.target.resolve import resolve_profile, state_dir

    context = _run_context(environment)
    if context is not None:
        emit = emit or context.recorder.emit
        profile = profile or context.profile
    if profile is None:
        profile = resolve_profile(options.profile, getattr(options, "target", None)).profile
    if emit is None:
        emit = StreamWriter(Path(options.results_dir or ".") / CHAOS_STREAM).write
    journal_path = getattr(options, "chaos_journal", None)
    run = build_run(
        load_plan(plan_name), profile, allow_chaos=bool(getattr(options, "allow_chaos", False)), emit=emit,
        backend=getattr(options, "chaos_backend", None) or "auto", state_dir=state_dir(),
        journal=Journal(Path(journal_path)) if journal_path else None,
    )
    _Schedule(environment, run).listen()
    return run


def _run_context(environment: Any) -> Any:
    """The ``scenarios`` run context of this environment, or None when chaos runs without one."""
    try:
        from scenarios.load.run_context import run_context

        return run_context(environment)
    except (ImportError, RuntimeError):
        return None


class _Schedule:
    """Starts the run's thread on test start (master or local runner only) and stops it on test stop."""

    def __init__(self, environment: Any, run: ChaosRun) -> None:
        self.environment = environment
        self.run = run
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None
        self.wrapped_at: float | None = None

    def listen(self) -> None:
        from scenarios.load.shapes import StagesShape

        events = self.environment.events
        events.test_start.add_listener(self.on_test_start)
        events.test_stop.add_listener(self.on_stop)
        events.quitting.add_listener(self.on_stop)
        StagesShape.overtime = self.overtime

    def overtime(self) -> Overtime | None:
        """Asked by the shape once the planned load time is over: how the run goes on, or None to end it."""
        if self.thread is None or self.stop.is_set():
            return None
        if self.wrapped_at is None:
            self.wrapped_at = time.monotonic()
            log.info("chaos: the planned load time is over; reverting what holds, waiting for recoveries")
        steady = self.run.plan.steady_state
        if not self.run.wrap_up() or time.monotonic() - self.wrapped_at > steady.recovery_timeout_s + REVERT_GRACE_S:
            return None
        return steady.while_recovering

    def on_test_start(self, **_: Any) -> None:
        from locust.runners import WorkerRunner

        if isinstance(self.environment.runner, WorkerRunner) or self.thread is not None:
            return
        started_at = time.time()
        for note in self.run.recover_leftovers():
            log.warning("chaos: %s", note)
        self.thread = threading.Thread(target=self.run.run, kwargs={"started_at": started_at, "stop": self.stop},
                                       name="chaos", daemon=True)
        self.thread.start()

    def on_stop(self, **_: Any) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(REVERT_WAIT_S)
