"""Stage tables walked by StagesShape, with Locust's -u/-r/-t applied."""

from __future__ import annotations

from scenarios.load.shapes import effective_stages, stage_at
from scenarios.scenario_file import Stage, load_scenario_file

TABLE = [Stage(duration_s=10, users=10, spawn_rate=2), Stage(duration_s=20, users=40, spawn_rate=8)]


def test_walks_the_table_and_stops_after_it() -> None:
    assert stage_at(TABLE, 0) == (10, 2)
    assert stage_at(TABLE, 9.9) == (10, 2)
    assert stage_at(TABLE, 10) == (40, 8)
    assert stage_at(TABLE, 30) is None


def test_users_scale_the_peak_and_spawn_rate_replaces_every_rate() -> None:
    assert stage_at(TABLE, 0, peak_users=20, spawn_rate=5) == (5, 5)
    assert stage_at(TABLE, 15, peak_users=20) == (20, 8)


def test_run_time_cuts_the_table_short_or_holds_its_last_stage() -> None:
    assert stage_at(TABLE, 5, run_time_s=5) is None
    assert stage_at(TABLE, 100, run_time_s=200) == (40, 8)


def test_shipped_shapes() -> None:
    shapes = load_scenario_file().shapes
    assert sum(stage.duration_s for stage in shapes["soak"].stages) == 1800  # the checklist's 30 minutes
    assert [stage.users for stage in shapes["step"].stages] == [10, 20, 30, 40, 50]
    spike = [stage.users for stage in shapes["spike"].stages]
    assert max(spike) >= 5 * spike[0] and spike[-1] == spike[0]


def test_effective_stages_are_what_the_shape_walks() -> None:
    for options in ({}, {"peak_users": 20, "spawn_rate": 4.0}, {"run_time_s": 12.0}, {"run_time_s": 45.0}):
        walked = effective_stages(TABLE, **options)  # type: ignore[arg-type]
        start = 0.0
        for stage in walked:
            for t in (start, start + stage.duration_s - 0.01):
                assert stage_at(TABLE, t, **options) == (stage.users, stage.spawn_rate)  # type: ignore[arg-type]
            start += stage.duration_s
        assert stage_at(TABLE, start, **options) is None  # type: ignore[arg-type]
    assert [s.duration_s for s in effective_stages(TABLE, run_time_s=45)] == [10, 35]
