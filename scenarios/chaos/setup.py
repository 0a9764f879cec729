"""From a plan name and a resolved profile to a validated, ready ``ChaosRun`` (or a dry-run listing).

Everything that can be wrong with a plan is found here, before any fault acts: the plan file,
the targets against the profile, the actions against the backend, ``--allow-chaos`` and hosts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from scenarios.chaos.backends.app import AppBackend
from scenarios.chaos.backends.base import ChaosBackend
from scenarios.chaos.backends.docker import DockerBackend
from scenarios.chaos.backends.process import ProcessBackend
from scenarios.chaos.journal import Journal, default_journal_path
from scenarios.chaos.plan import PARAMETERS, ChaosPlan
from scenarios.chaos.runner import ChaosRun, Emit
from scenarios.chaos.safety import check_allowed, check_plan
from scenarios.target.profiles import Profile

BackendChoice = Literal["auto", "docker", "process"]
BACKEND_CHOICES: tuple[str, ...] = ("auto", "docker", "process")


def select_backend(choice: str, profile: Profile, state_dir: Path | None) -> ChaosBackend:
    """``auto``: the process backend when the profile targets the local stack and its ``stack.json``
    lists processes; Docker otherwise."""
    if choice == "auto":
        state = _stack_state(state_dir)
        services = state.get("services")
        local: dict[str, object] = services if isinstance(services, dict) else {}
        targets_it = bool(local) and all(profile.targets().get(name) == url for name, url in local.items())
        choice = "process" if state.get("processes") and state.get("runtime") != "docker" and targets_it else "docker"
    if choice == "process":
        return ProcessBackend(profile, state_dir)
    return DockerBackend(profile)


def _stack_state(state_dir: Path | None) -> dict[str, object]:
    if state_dir is None:
        return {}
    try:
        state = json.loads((state_dir / "stack.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def app_backend(profile: Profile, state_dir: Path | None) -> AppBackend:
    """The fault-switch backend, with the stack's ``secrets.env`` when there is a local stack."""
    env_file = _stack_state(state_dir).get("env_file")
    return AppBackend(profile, Path(str(env_file)) if env_file else None)


def build_run(plan: ChaosPlan, profile: Profile, *, allow_chaos: bool, emit: Emit, backend: str = "auto",
              state_dir: Path | None = None, journal: Journal | None = None) -> ChaosRun:
    """A ``ChaosRun`` checked in full; ``PlanInvalid``/``TargetNotAllowed`` in one line otherwise."""
    step_backend = select_backend(backend, profile, state_dir)
    app = app_backend(profile, state_dir)
    check_allowed(plan, profile, allow_chaos=allow_chaos, backend=step_backend)
    check_plan(plan, profile, backend=step_backend, app=app)
    return ChaosRun(plan, profile, backend=step_backend, app=app, journal=journal or Journal(default_journal_path(state_dir)),
                    emit=emit)


def describe_plan(plan: ChaosPlan, profile: Profile | None = None, *, backend: str = "auto",
                  state_dir: Path | None = None) -> list[str]:
    """The plan as lines with times, for a dry run; with a profile, each target as the backend sees it."""
    targets = [step.target for step in plan.steps]
    backend_name = "-"
    if profile is not None:
        step_backend = select_backend(backend, profile, state_dir)
        backend_name = step_backend.name
        targets = check_plan(plan, profile, backend=step_backend, app=app_backend(profile, state_dir))
    lines = [f"plan {plan.name}: {plan.description}".rstrip(": "),
             (f"{len(plan.steps)} step(s), last revert at t={plan.end_s:g} s; backend {backend_name}; "
              f"recovery timeout {plan.steady_state.recovery_timeout_s:g} s "
              f"(past the planned load: {plan.steady_state.while_recovering.replace('_', ' ')})")]
    for step, target in sorted(zip(plan.steps, targets), key=lambda pair: (pair[0].at_s, pair[0].id)):
        extra = {k: v for k in PARAMETERS if (v := getattr(step, k)) is not None}
        params = "".join(f" {k}={v}" for k, v in extra.items())
        revert = f"revert at t={step.end_s:g} s" if step.duration_s else "no hold"
        lines.append(f"  t={step.at_s:>6g} s  {step.id}: {step.action} {step.target} ({target}) "
                     f"for {step.duration_s:g} s, {revert}{params}")
    return lines
