"""Load shapes as stage tables, walked by one ``StagesShape``.

smoke, steady, spike, soak and step are tables in the scenario file (``shapes.<name>.stages``);
``--scenario`` picks one. Locust's common options still work (``use_common_options``):
``-u/--users`` scales the table so its peak is that many users, ``-r/--spawn-rate`` replaces
every stage's rate, and ``-t/--run-time`` ends the run then, holding the last stage when the table
is shorter.

The shape is where a headless run ends (Locust quits when ``tick`` returns None), so it is also
where the run may go on past its planned time: ``StagesShape.overtime`` (set by chaos) is asked
once the table or the run time is over, and answers ``"load"`` (keep the last users),
``"health_only"`` (only the health watcher) or None (end now). It bounds its own answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Literal

from locust import LoadTestShape

from scenarios.load.health_watcher import HealthWatcher
from scenarios.scenario_file import Stage

Overtime = Literal["load", "health_only"]


def stage_at(
    stages: Sequence[Stage], elapsed_s: float, *, peak_users: int | None = None,
    spawn_rate: float | None = None, run_time_s: float | None = None,
) -> tuple[int, float] | None:
    """``(users, spawn_rate)`` at ``elapsed_s`` into the table, or None when the run is over."""
    if not stages or (run_time_s is not None and elapsed_s >= run_time_s):
        return None
    current = None
    passed = 0.0
    for stage in stages:
        passed += stage.duration_s
        if elapsed_s < passed:
            current = stage
            break
    if current is None:
        if run_time_s is None:
            return None
        current = stages[-1]
    users = current.users
    if peak_users is not None:
        peak = max(stage.users for stage in stages) or 1
        users = max(1, round(users * peak_users / peak)) if users else 0
    return users, spawn_rate if spawn_rate else current.spawn_rate


def effective_stages(
    stages: Sequence[Stage], *, peak_users: int | None = None, spawn_rate: float | None = None,
    run_time_s: float | None = None,
) -> list[Stage]:
    """The table as ``stage_at`` walks it: scaled, with its rates replaced, cut or held to the run time
    (what the run header lists as ``settings.stages`` for the capacity analysis)."""
    walked: list[Stage] = []
    start = 0.0
    for index, stage in enumerate(stages):
        if run_time_s is not None and start >= run_time_s:
            break
        last = index == len(stages) - 1
        end = start + stage.duration_s
        if run_time_s is not None and (end > run_time_s or last):
            end = run_time_s
        users, rate = stage_at(stages, start, peak_users=peak_users, spawn_rate=spawn_rate) or (0, 1.0)
        walked.append(Stage(duration_s=end - start, users=users, spawn_rate=rate))
        start = end
    return walked


class StagesShape(LoadTestShape):
    """Walks the stage table of the chosen scenario (set by ``scenarios.install``)."""

    use_common_options = True
    stages: ClassVar[list[Stage]] = []
    """The chosen table; empty until the scenario is installed."""
    headless_options: ClassVar[dict[str, float | None]] = {}
    """``-u``, ``-r`` and ``-t`` as the user gave them, read before Locust's headless defaults (1 user)."""

    @classmethod
    def given(cls, options: Any) -> dict[str, Any]:
        """``peak_users``, ``spawn_rate`` and ``run_time_s`` as the user gave them (None: the table's)."""
        if options is not None and not options.headless:  # the web UI's form writes these
            given = {"peak_users": options.num_users, "spawn_rate": options.spawn_rate, "run_time_s": options.run_time}
        else:
            given = dict(cls.headless_options)
        given["peak_users"] = int(given["peak_users"]) if given.get("peak_users") else None
        return given

    overtime: ClassVar[Callable[[], Overtime | None] | None] = None
    """Asked each second once the planned load is over: how the run goes on, or None to end it."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._last: tuple[int, float] | None = None

    def tick(self) -> tuple[int, float] | tuple[int, float, list[type[Any]]] | None:
        options = self.runner.environment.parsed_options if self.runner else None
        elapsed_s: float = self.get_run_time()  # type: ignore[no-untyped-call]
        current = stage_at(self.stages, elapsed_s, **self.given(options))
        if current is not None:
            self._last = current
            return current
        overtime = type(self).overtime  # a class-level hook set by chaos, not a method
        mode = overtime() if overtime is not None and self._last is not None else None
        if mode is None or self._last is None:
            return None
        if mode == "load":
            return self._last
        rate = self._last[1]
        watching = self.runner is not None and HealthWatcher in self.runner.environment.user_classes
        return (HealthWatcher.fixed_count, rate, [HealthWatcher]) if watching else (0, rate)
