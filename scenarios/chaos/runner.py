"""Running a plan: each step on its own thread, each fault a context manager that always reverts.

Usage (the CLI and the Locust master both do this)::

    run = ChaosRun(plan, profile, backend=DockerBackend(profile), app=AppBackend(profile, env_file),
                   journal=Journal(path), emit=writer.write)
    notes = run.recover_leftovers()          # revert what a killed earlier run left behind
    stop = threading.Event()
    run.run(started_at=time.time(), stop=stop)   # returns when every step reverted

Setting ``stop`` (on SIGINT, SIGTERM, an abort) cuts every hold short: each step leaves its
``with`` block and reverts, and no recovery is awaited. An exception does the same. When the
planned load time is over, ``wrap_up()`` is gentler: steps not started yet never start, holds end
(revert) now, and the steps go on waiting for their recovery (bounded by the plan's
``recovery_timeout_s``) so a service left down is recorded as ``not_recovered``; ``wrap_up``
says whether any step still waits. Threads are plain ``threading`` threads, so under Locust's
gevent patching they are greenlets and nothing changes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from scenarios.chaos.backends.base import ChaosActionFailed, ChaosBackend, Fault
from scenarios.chaos.journal import Journal
from scenarios.chaos.plan import ChaosPlan, ChaosStep
from scenarios.chaos.recover import RecoveryNote, recover
from scenarios.chaos.steady_state import HealthProbe
from scenarios.target.profiles import Profile
from stagegate_core.errors import StagegateError
from stagegate_core.stream import ChaosEvent, ChaosPhase, chaos_record

Emit = Callable[[ChaosEvent], None]
JOIN_POLL_S = 0.2
"""The main thread waits for steps in short slices so that SIGINT and SIGTERM reach it at once."""


@dataclass
class ActiveFault:
    """A fault in force; ``reverted`` holds the revert's own words once it ran."""

    fault: Fault
    reverted: str = ""


@contextmanager
def injected(backend: ChaosBackend, journal: Journal, step: ChaosStep) -> Iterator[ActiveFault]:
    """Journal the fault, apply it, and revert it however the block ends.

    The journal line is durable before the fault acts; it is closed only after the revert
    succeeded, so a revert that fails (or a SIGKILL) leaves it for ``stagegate chaos recover``.
    """
    held = ActiveFault(backend.prepare(step))
    entry = journal.open(backend=backend.name, step_id=step.id, action=step.action, target=step.target,
                         fault=held.fault)
    try:
        backend.apply(held.fault)
        yield held
    finally:
        held.reverted = backend.revert(held.fault)
        journal.close(entry, held.reverted)


class ChaosRun:
    """One plan against one deployment, writing a ``chaos`` record for each step's life."""

    def __init__(self, plan: ChaosPlan, profile: Profile, *, backend: ChaosBackend, app: ChaosBackend,
                 journal: Journal, emit: Emit) -> None:
        self.plan = plan
        self.backend = backend
        self.app = app
        self.journal = journal
        self.emit = emit
        self.probe = HealthProbe(profile, plan.steady_state.checks)
        self._emit_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._cut = threading.Event()
        """Set by ``wrap_up`` or ``stop``: no step starts any more and every hold ends."""
        self._active: set[str] = set()
        """Steps started (the fault applied or about to be) that have not reached their last record."""

    def wrap_up(self) -> bool:
        """The planned load time is over: start no more steps, revert the holds now, let recoveries finish.

        Returns whether a step is still active (reverting or waiting for its recovery); the caller keeps
        the run going while it is, the recovery timeout bounding each wait.
        """
        with self._state_lock:
            self._cut.set()
            return bool(self._active)

    def _event(self, step: ChaosStep, step_backend: ChaosBackend, phase: ChaosPhase, detail: str,
               recovery_s: float | None = None) -> None:
        event = chaos_record(time.time(), step_id=step.id, phase=phase, action=step.action, target=step.target,
                       backend=step_backend.name, detail=detail, recovery_s=recovery_s)
        with self._emit_lock:
            self.emit(event)

    def recover_leftovers(self) -> list[RecoveryNote]:
        """Revert what an earlier run left in the journal, and put each in the stream too."""
        notes = recover(self.journal)
        for note in notes:
            if note.outcome == "kept":
                continue  # another live run's fault: its own stream tells its story
            event = chaos_record(time.time(), step_id=note.entry.step_id, phase="end" if note.reverted else "error",
                           action=note.entry.action, target=note.entry.target, backend=note.entry.backend,
                           detail=f"leftover of an earlier run: {note.detail}", recovery_s=None)
            with self._emit_lock:
                self.emit(event)
        return notes

    def run(self, *, started_at: float, stop: threading.Event) -> None:
        """Play every step on schedule from ``started_at``; return once all have reverted.

        Completion is awaited on events, not ``Thread.join``: a join cut short by a signal can
        return early afterwards, and the caller must never leave before the reverts are done.
        """
        finished = {step.id: threading.Event() for step in self.plan.steps}
        for step in self.plan.steps:
            threading.Thread(target=self._play_then_signal, args=(step, started_at, stop, finished[step.id]),
                             name=f"chaos-{step.id}", daemon=True).start()
        try:
            for event in finished.values():
                while not event.wait(JOIN_POLL_S):
                    if stop.is_set():
                        self._cut.set()
        finally:
            stop.set()  # an interrupt here ends every hold; the steps revert on their own threads
            self._cut.set()
            for event in finished.values():
                event.wait()

    def _play_then_signal(self, step: ChaosStep, started_at: float, stop: threading.Event,
                          finished: threading.Event) -> None:
        try:
            self._play(step, started_at, stop)
        finally:
            finished.set()

    def _play(self, step: ChaosStep, started_at: float, stop: threading.Event) -> None:
        self._cut.wait(max(0.0, started_at + step.at_s - time.time()))
        with self._state_lock:
            if self._cut.is_set() or stop.is_set():
                return  # the load ended (or was stopped) before the step was due
            self._active.add(step.id)
        try:
            self._act(step, stop)
        finally:
            with self._state_lock:
                self._active.discard(step.id)

    def _act(self, step: ChaosStep, stop: threading.Event) -> None:
        step_backend = self.app if step.action == "app_fault" else self.backend
        steady = self.plan.steady_state
        if steady.before and step.target in self.probe.checks and self.probe.failing([step.target]):
            self._event(step, step_backend, "error", f"{step.target} was unhealthy before the step; skipped")
            return
        try:
            with injected(step_backend, self.journal, step) as held:
                self._event(step, step_backend, "start", f"{step.action} {step.target} for {step.duration_s:g} s")
                self._cut.wait(step.duration_s)
        except (ChaosActionFailed, StagegateError) as exc:
            self._event(step, step_backend, "error", f"{exc}; run 'stagegate chaos recover' if a fault remains")
            return
        self._event(step, step_backend, "end", held.reverted)
        if stop.is_set():
            return
        recovery = self.probe.wait_recovered(timeout_s=steady.recovery_timeout_s, interval_s=steady.interval_s,
                                             stop=stop)
        if recovery.recovery_s is not None:
            self._event(step, step_backend, "recovered",
                        f"all health checks pass {recovery.recovery_s:.2f} s after the revert", recovery.recovery_s)
        elif not stop.is_set():
            self._event(step, step_backend, "not_recovered",
                        f"still failing {steady.recovery_timeout_s:g} s after the revert (critical service down): "
                        f"{', '.join(recovery.failing)}")
