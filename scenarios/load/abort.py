"""``--abort-on-rollback``: stop the load within seconds of a rollback trigger firing.

The analysis's ``LiveJudge`` is built from ``--rules``, the same rules file the verdict uses
(``stagegate run --rules FILE`` hands it on), and reads every record of the run with the same
evaluators as the judgement after the run. When a trigger fires, the run ends with ``RunEnd``
reason ``aborted`` (the trigger in its detail) and Locust's exit code 1 (ROLLBACK).

How soon it fires depends on when the judge sees each second:

- standalone: the recorder writes each second's windows right after the second ends, and the
  judge reads them as they are written;
- distributed: the master's recorder writes a second only ``MASTER_LAG_S`` (5 s) later, to wait
  for late workers, which alone would make 5 s impossible. So the master's judge does not wait
  for the stream: it takes the windows from the worker reports as they arrive and hands a second
  to the judge as soon as every connected worker has shipped it (each report carries the time
  its worker sent it). With the live abort on, workers report every ``LIVE_REPORT_INTERVAL_S``
  instead of Locust's 3 s, so a second reaches the judge at most about 2 s after it ends.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
import locust.runners
from locust.env import Environment
from locust.runners import STATE_MISSING

from scenarios.load.recorder import REPORT_KEY, role_of
from scenarios.load.run_context import run_context
from scenarios.load.windows import WINDOW_S, SeriesWindow, WindowBook
from stagegate_core.errors import EXIT_ROLLBACK
from stagegate_core.stream import Record

log = logging.getLogger(__name__)

LIVE_REPORT_INTERVAL_S = 1.0
"""How often a worker ships its windows to the master while the live abort is on (Locust: 3 s)."""
SENT_KEY = "stagegate_sent"
"""Key of a worker report holding the worker's clock when it sent the report."""

Reader = Callable[[Record], None]


def install(environment: Environment) -> None:
    """Standalone or master: judge the run live with ``--rules``; worker: ship windows often enough."""
    if role_of(environment) == "worker":
        _ship_often(environment)
        return
    from analysis import LiveJudge, load_rules

    options: Any = environment.parsed_options
    recorder = run_context(environment).recorder
    judge = LiveJudge(load_rules(Path(options.rules) if options.rules else None))
    aborted: list[str] = []

    def read(rec: Record) -> None:
        if aborted:
            return
        fired = judge.feed(rec)
        if not fired:
            return
        reason = "; ".join(f"{result.id}: {result.summary}" for result in fired)
        aborted.append(reason)
        log.error("stagegate: rollback trigger fired, stopping the load (%s)", reason)
        recorder.end_reason, recorder.end_detail = "aborted", reason
        environment.process_exit_code = EXIT_ROLLBACK
        gevent.spawn(_stop, environment)

    if role_of(environment) == "master":
        events: Any = environment.events  # Locust's hooks are untyped
        events.worker_report.add_listener(WorkerWindows(environment, read).on_worker_report)
        recorder.subscribe(lambda rec: None if rec.get("kind") == "window" else read(rec))
    else:
        recorder.subscribe(read)


def _ship_often(environment: Environment) -> None:
    """On a worker: stamp each report with its send time; report every second once the abort is asked.

    The options are read at test start, when the master has handed its own to the worker.
    """
    events: Any = environment.events

    def on_test_start(**_: Any) -> None:
        options = environment.parsed_options
        if options is not None and getattr(options, "abort_on_rollback", False):
            locust.runners.WORKER_REPORT_INTERVAL = LIVE_REPORT_INTERVAL_S  # read by the worker's report loop

    def stamp(client_id: str, data: dict[str, Any], **_: Any) -> None:
        data[SENT_KEY] = time.time()

    events.test_start.add_listener(on_test_start)
    events.report_to_master.add_listener(stamp)


class WorkerWindows:
    """On the master: worker windows merged per second, each second read once every worker shipped it.

    A worker ships, with each report, every request it finished before sending it, so a second
    ending before the oldest send time of the connected workers is complete. A window arriving
    after its second was read (a worker that fell behind) is read on its own: the judge adds it
    to its second, as the analysis adds same-second records.
    """

    def __init__(self, environment: Environment, read: Reader) -> None:
        self.environment = environment
        self.read = read
        self.book = WindowBook()
        self.sent: dict[str, float] = {}
        self.read_before = 0.0

    def on_worker_report(self, client_id: str, data: dict[str, Any], **_: Any) -> None:
        part = data.get(REPORT_KEY)
        if not part:
            return
        for rec in part.get("windows", ()):
            window = SeriesWindow.from_record(rec)
            if window.t + WINDOW_S <= self.read_before:
                self.read(window.to_record())
            else:
                self.book.merge(window)
        self.sent[client_id] = float(data.get(SENT_KEY) or time.time())
        complete_before = self._complete_before()
        if complete_before > self.read_before:
            self.read_before = complete_before
            for window in self.book.take_closed(complete_before):
                self.read(window.to_record())

    def _complete_before(self) -> float:
        """The oldest send time of the connected workers (0 while one of them has not reported)."""
        runner: Any = self.environment.runner
        connected = [client_id for client_id, node in runner.clients.items() if node.state != STATE_MISSING]
        if not connected or any(client_id not in self.sent for client_id in connected):
            return 0.0
        return min(self.sent[client_id] for client_id in connected)


def _stop(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if runner is None:
        return
    if environment.parsed_options is not None and environment.parsed_options.headless:
        runner.quit()
    else:
        runner.stop()
