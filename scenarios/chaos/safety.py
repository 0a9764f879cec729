"""What chaos may touch: only with ``--allow-chaos``, only the profile's targets, only on loopback.

A host outside loopback (127.0.0.0/8, ::1, ``localhost``) is refused unless the plan lists it in
``allow_hosts``; names are compared as written, never resolved, so DNS cannot widen the list.
The same rule covers the Docker daemon a ``DOCKER_HOST`` points at.
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

from scenarios.chaos.actions import ACTIONS
from scenarios.chaos.backends.base import ChaosBackend
from scenarios.chaos.plan import ChaosPlan
from scenarios.scenario_errors import PlanInvalid, TargetNotAllowed
from scenarios.target.profiles import Profile


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_host(plan: ChaosPlan, host: str | None, what: str) -> None:
    if not is_loopback(host) and host not in plan.allow_hosts:
        raise TargetNotAllowed(
            f"{what} is at {host}, outside loopback; chaos acts there only if the plan lists it in allow_hosts"
        )


def require_allow_chaos(plan: ChaosPlan, *, allow_chaos: bool) -> None:
    """Refuse (``TargetNotAllowed``) a plan that is to act when ``--allow-chaos`` was not given."""
    if not allow_chaos:
        raise TargetNotAllowed(f"chaos plan {plan.name!r} acts on real services: pass --allow-chaos to run it")


def check_targets(plan: ChaosPlan, profile: Profile) -> None:
    """Refuse a plan whose steps or steady-state checks name what the profile does not have: known
    from the plan and the profile alone, so the gate checks it before the stack starts and smoke runs."""
    known = {*profile.services, *(["gateway"] if profile.gateway else [])}
    for check in plan.steady_state.checks:
        if check not in known:
            raise PlanInvalid(f"{plan.source or plan.name}: steady_state.checks: unknown service {check!r} "
                              f"(known: {', '.join(sorted(known))})")
    for step in plan.steps:
        if step.target != "gateway" and step.target not in profile.services:
            raise TargetNotAllowed(f"step {step.id}: target {step.target!r} is not a service of profile {profile.name}")
        if step.target == "gateway" and profile.gateway is None:
            raise TargetNotAllowed(f"step {step.id}: profile {profile.name} has no gateway")


def check_allowed(plan: ChaosPlan, profile: Profile, *, allow_chaos: bool, backend: ChaosBackend) -> None:
    """Refuse (``TargetNotAllowed``) unless chaos is allowed and every target is on an allowed host."""
    require_allow_chaos(plan, allow_chaos=allow_chaos)
    check_targets(plan, profile)
    for step in plan.steps:
        _check_host(plan, urlsplit(profile.url(step.target)).hostname, f"step {step.id}: {step.target}")
    docker_host = os.environ.get("DOCKER_HOST", "")
    if backend.name == "docker" and docker_host and not docker_host.startswith("unix://"):
        _check_host(plan, urlsplit(docker_host).hostname, f"DOCKER_HOST {docker_host}")


def check_plan(plan: ChaosPlan, profile: Profile, *, backend: ChaosBackend, app: ChaosBackend) -> list[str]:
    """Check every step against the profile and the backends; return each step's target description.

    Raises ``PlanInvalid`` for an action the chosen backend cannot carry and ``TargetNotAllowed``
    for a target the profile does not name.
    """
    check_targets(plan, profile)
    described = []
    for index, step in enumerate(plan.steps):
        step_backend = app if step.action in app.actions else backend
        if step.action not in step_backend.actions:
            needs = " or ".join(ACTIONS[step.action].backends)
            raise PlanInvalid(f"{plan.source or plan.name}: steps.{index}.action: {step.action!r} needs the {needs} "
                              f"backend (this run uses {step_backend.name})")
        described.append(step_backend.describe_target(step.target))
    return described
