"""Chaos plans: what to break, when, for how long, and how to judge that it came back.

A plan is data (TOML), validated in full before anything runs::

    name = "pause-negocio-5s"
    description = "Freeze negocio for 5 s; it must answer again within 30 s"

    [steady_state]                 # optional; these are the defaults
    checks = []                    # services whose health must return (empty: every service of the profile)
    recovery_timeout_s = 60        # after a revert, how long health may take to come back
    interval_s = 0.5               # health polling interval
    before = true                  # the target must be healthy before its step acts
    while_recovering = "load"      # past the planned load time, while a step waits for its recovery:
                                   # "load" (the load goes on as it was) or "health_only" (health checks only)

    [[steps]]
    id = "pause_negocio"           # stable snake_case id, used in the stream and the report
    at_s = 5                       # seconds from the start of the test
    action = "pause"
    target = "negocio"             # a service of the profile (or "gateway")
    duration_s = 5                 # how long the fault holds before it is reverted

Actions, their parameters and the backends that carry them are declared once, in ``_actions.py``.
Two steps may overlap in time but never on the same target. Every time is finite and at most a day
(``stagegate_core.models.MAX_DURATION_S``).
"""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from scenarios.chaos.actions import ACTIONS as DECLARED
from scenarios.scenario_errors import PlanInvalid
from stagegate_core.models import MAX_COUNT, MAX_DURATION_S, FrozenModel
from stagegate_core.tomlfile import find_named_file, load_toml_model, shipped_names

PLAN_DIR = Path(__file__).parent / "plans"

if TYPE_CHECKING:
    Action = str
else:
    Action = Literal[tuple(DECLARED)]  # the declared ids, so a wrong one is refused naming them all

ACTIONS: dict[str, str] = {action.id: action.does for action in DECLARED.values()}
"""Each action and what it does (from the declarations)."""

PARAMETERS: dict[str, str] = {action.parameter: action.id for action in DECLARED.values() if action.parameter}
"""Action-specific parameter -> the one action it belongs to (each is required there, refused elsewhere)."""

_STEP_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class SteadyState(FrozenModel):
    """The health that must hold before a step and come back after its revert."""

    checks: list[str] = []
    """Services (and ``gateway``) that must pass their health check; empty: all of the profile's."""
    recovery_timeout_s: float = Field(60.0, gt=0, le=MAX_DURATION_S)
    interval_s: float = Field(0.5, gt=0, le=MAX_DURATION_S)
    before: bool = True
    """Skip a step (recorded as ``error``) when its own target is unhealthy before it acts."""
    while_recovering: Literal["load", "health_only"] = "load"
    """What runs past the planned load time while a step still waits for its recovery (at most
    ``recovery_timeout_s`` after its revert): the load as it was, so the service must come back
    under the traffic it had, or only the health checks."""


class ChaosStep(FrozenModel):
    """One fault: ``action`` on ``target`` from ``at_s`` for ``duration_s``, then reverted."""

    id: str
    at_s: float = Field(ge=0, le=MAX_DURATION_S)
    action: Action
    target: str
    duration_s: float = Field(0.0, ge=0, le=MAX_DURATION_S)
    stop_timeout_s: float = Field(10.0, ge=0, le=MAX_DURATION_S)
    """``stop``/``restart``: grace before SIGKILL."""
    cpu_fraction: float | None = Field(None, gt=0, le=4)
    """``cpu``: share of one core the target keeps (0.05 = 5 %)."""
    memory_mb: int | None = Field(None, ge=6, le=MAX_COUNT)
    """``memory``: the memory cap; Docker refuses less than 6 MB."""
    rate_kbit: int | None = Field(None, gt=0, le=100 * MAX_COUNT)
    """``bandwidth``: egress rate."""
    faults: dict[str, Any] | None = None
    """``app_fault``: switch name -> value, as ``PUT /__admin/faults`` takes them (the stack checks them)."""

    @model_validator(mode="after")
    def _parameters(self) -> ChaosStep:
        if not _STEP_ID.match(self.id):
            raise ValueError(f"id must be snake_case (got {self.id!r})")
        for parameter, action in PARAMETERS.items():
            given = getattr(self, parameter) is not None
            if given and self.action != action:
                raise ValueError(f"{parameter} is only for action {action!r} (step {self.id} is {self.action!r})")
            if not given and self.action == action:
                raise ValueError(f"action {action!r} needs {parameter} (step {self.id})")
        holds = DECLARED[self.action].holds
        if not holds and self.duration_s:
            raise ValueError(f"action {self.action!r} takes no duration_s (step {self.id})")
        if holds and not self.duration_s:
            raise ValueError(f"action {self.action!r} needs duration_s > 0 (step {self.id})")
        return self

    @property
    def end_s(self) -> float:
        """When the revert is due, from the start of the test."""
        return self.at_s + self.duration_s


class ChaosPlan(FrozenModel):
    """A whole plan: steps, steady state, and the non-loopback hosts it may touch."""

    name: str
    description: str = ""
    steady_state: SteadyState = Field(default_factory=lambda: SteadyState.model_validate({}))
    allow_hosts: list[str] = []
    """Hosts outside loopback that chaos may act on; nothing else off-machine is ever touched."""
    steps: list[ChaosStep] = Field(min_length=1)
    source: str = ""
    """The file the plan came from (set by the loader)."""

    @model_validator(mode="after")
    def _consistent(self) -> ChaosPlan:
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"step id {step.id!r} is used twice")
            seen.add(step.id)
        ordered = sorted(self.steps, key=lambda s: (s.target, s.at_s))
        for first, second in pairwise(ordered):
            if first.target == second.target and second.at_s < first.end_s:
                raise ValueError(
                    f"steps {first.id} and {second.id} overlap on {first.target} "
                    f"({first.at_s:g}-{first.end_s:g} s and {second.at_s:g}-{second.end_s:g} s)"
                )
        return self

    @property
    def end_s(self) -> float:
        """When the last revert is due."""
        return max(step.end_s for step in self.steps)

    def targets(self) -> list[str]:
        return sorted({step.target for step in self.steps})


def available_plans() -> list[str]:
    """Names of the chaos plans shipped with stagegate."""
    return shipped_names(PLAN_DIR)


def load_plan(name_or_path: str | Path) -> ChaosPlan:
    """A shipped chaos plan by name, or a chaos plan file by path; ``PlanInvalid`` with one line if bad."""
    path = find_named_file(name_or_path, PLAN_DIR, "chaos plan", PlanInvalid)
    plan = load_toml_model(path, ChaosPlan, PlanInvalid)
    return plan.model_copy(update={"source": path.name})
