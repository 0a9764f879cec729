"""``--abort-on-rollback``: stop the load as soon as a rollback trigger fires.

The analysis's ``LiveJudge`` reads every record the recorder writes, with the same evaluators as
the judgement after the run. When one fires, the run ends with ``RunEnd`` reason ``aborted`` (the
trigger in its detail) and Locust's exit code 1 (ROLLBACK). Windows are written every second
(five seconds late on a master), so the load stops within a few seconds of the trigger.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
from locust.env import Environment

from scenarios._context import run_context
from stagegate.errors import EXIT_ROLLBACK
from stagegate.stream import Record

log = logging.getLogger(__name__)


def install(environment: Environment) -> None:
    """Feed the run's records to a ``LiveJudge`` of ``--rules`` (the shipped rules by default)."""
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

    recorder.subscribe(read)


def _stop(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if runner is None:
        return
    if environment.parsed_options is not None and environment.parsed_options.headless:
        runner.quit()
    else:
        runner.stop()
