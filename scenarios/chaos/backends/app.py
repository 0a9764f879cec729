"""App-level faults through the reference stack's fault switches (``/__admin/faults``).

``PUT`` replaces a service's whole switch set, so the fault reads the current set first, puts
it back merged with the step's ``faults``, and the revert puts the original set back. The admin
token is read from the stack's ``secrets.env`` (``STAGEGATE_ADMIN_TOKEN``) at each call; the
journal holds the file's path, never the token. The endpoint answers loopback clients only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from dotenv import dotenv_values

from scenarios.chaos.actions import actions_of
from scenarios.chaos.backends.base import ChaosActionFailed, Fault
from scenarios.chaos.plan import ChaosStep
from scenarios.scenario_errors import TargetNotAllowed
from scenarios.target.profiles import Profile

ADMIN_PATH = "/__admin/faults"
ADMIN_HEADER = "X-Stagegate-Admin"
ADMIN_TOKEN_ENV = "STAGEGATE_ADMIN_TOKEN"
TIMEOUT_S = 5.0


class AppBackend:
    """Turns fault switches on for the step's duration and restores the set that was there."""

    name = "app"
    actions = actions_of("app")

    def __init__(self, profile: Profile | None = None, env_file: Path | None = None) -> None:
        self.profile = profile
        self.env_file = env_file

    def describe_target(self, service: str) -> str:
        if self.profile is None or service not in self.profile.services:
            raise TargetNotAllowed(f"chaos target {service!r} is not a service of the profile")
        return f"fault switches at {self.profile.url(service, ADMIN_PATH)}"

    def prepare(self, step: ChaosStep) -> Fault:
        self.describe_target(step.target)
        assert self.profile is not None
        if self.env_file is None:
            raise TargetNotAllowed("app_fault needs the reference stack's secrets.env (run against --target local)")
        fault: Fault = {"action": "app_fault", "service": step.target, "env_file": str(self.env_file.resolve()),
                        "url": self.profile.url(step.target, ADMIN_PATH), "switches": dict(step.faults or {})}
        fault["original"] = _call(fault, "GET")["faults"]
        return fault

    def apply(self, fault: Fault) -> None:
        _call(fault, "PUT", {**fault["original"], **fault["switches"]})

    def revert(self, fault: Fault) -> str:
        _call(fault, "PUT", fault["original"])
        return f"restored the fault switches of {fault['service']}"


def _call(fault: Fault, method: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    token = dotenv_values(fault["env_file"]).get(ADMIN_TOKEN_ENV) if Path(fault["env_file"]).exists() else None
    if not token:
        raise ChaosActionFailed(f"{ADMIN_TOKEN_ENV} is not in {fault['env_file']}")
    try:
        answer = httpx.request(method, fault["url"], json=body, headers={ADMIN_HEADER: token}, timeout=TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise ChaosActionFailed(f"{method} {fault['url']}: {type(exc).__name__}") from None
    if answer.status_code != 200:
        raise ChaosActionFailed(f"{method} {fault['url']}: status {answer.status_code}: {answer.text[:200]}")
    result: dict[str, Any] = answer.json()
    return result
