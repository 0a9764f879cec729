"""Load shapes as stage tables, walked by one ``StagesShape``.

smoke, steady, spike, soak and step are tables in the scenario file (``shapes.<name>.stages``);
``--scenario`` picks one. Locust's common options still work (``use_common_options``):
``-u/--users`` scales the table so its peak is that many users, ``-r/--spawn-rate`` replaces
every stage's rate, and ``-t/--run-time`` ends the run then, holding the last stage when the table
is shorter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from locust import LoadTestShape

from scenarios._scenario_file import Stage


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


class StagesShape(LoadTestShape):
    """Walks the stage table of the chosen scenario (set by ``scenarios.install``)."""

    use_common_options = True
    stages: ClassVar[list[Stage]] = []
    """The chosen table; empty until the scenario is installed."""
    headless_options: ClassVar[dict[str, float | None]] = {}
    """``-u``, ``-r`` and ``-t`` as the user gave them, read before Locust's headless defaults (1 user)."""

    def tick(self) -> tuple[int, float] | None:
        options = self.runner.environment.parsed_options if self.runner else None
        if options is not None and not options.headless:
            given = {"peak_users": options.num_users, "spawn_rate": options.spawn_rate,
                     "run_time_s": options.run_time}  # the web UI's form writes these
        else:
            given = self.headless_options
        peak = given.get("peak_users")
        elapsed_s: float = self.get_run_time()  # type: ignore[no-untyped-call]
        return stage_at(
            self.stages, elapsed_s, peak_users=int(peak) if peak else None,
            spawn_rate=given.get("spawn_rate"), run_time_s=given.get("run_time_s"),
        )
