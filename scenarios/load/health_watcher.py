"""``HealthWatcher``: exactly one user (also across workers) polling every health check.

Every ``health_interval_s`` it asks each service's health route (with the auth the profile says
it needs) and the gateway's, all at once, and writes a ``HealthTransition`` whenever a check's
state changes, the first observation included, with the time it was seen.
"""

from __future__ import annotations

import time

import gevent  # type: ignore[import-untyped]
from locust import task
from locust.env import Environment
from locust.exception import RescheduleTask

from scenarios.load.base_user import StagegateUser
from scenarios.load.run_context import run_context
from scenarios.target.classify import root_cause
from scenarios.target.profiles import HealthCheck, health_checks
from stagegate_core.stream import health_record

HEALTH_TIMEOUT_S = 2.0


class HealthWatcher(StagegateUser):
    """Polls the health checks and records each change of state."""

    fixed_count = 1

    def __init__(self, environment: Environment) -> None:
        self.network_timeout = HEALTH_TIMEOUT_S
        self.connection_timeout = HEALTH_TIMEOUT_S
        super().__init__(environment)
        self.checks = health_checks(run_context(environment).profile)
        self.state: dict[str, bool] = {}

    def wait_time(self) -> float:
        return self.run_context.scenario.health_interval_s

    @task
    def poll_health(self) -> None:
        gevent.joinall([gevent.spawn(self.poll, check) for check in self.checks])

    def poll(self, check: HealthCheck) -> None:
        seen = time.time()
        try:
            sent = self.send("GET", check.check, check.path, auth=check.auth, traffic="health")
        except RescheduleTask:  # a health route behind a login that has not succeeded yet: nothing to ask
            return
        with sent as response:
            status = response.status_code or None
            ok = status in check.ok_statuses
            if ok:
                response.success()
                detail = str(status)
            else:
                detail = _detail(status, getattr(response, "error", None), response.text if status else "")
                response.failure(detail)
            latency_ms = round((time.time() - seen) * 1000.0, 3) if status else None
        if self.state.get(check.check) != ok:
            self.state[check.check] = ok
            self.emit(health_record(seen, check=check.check, ok=ok, status=status, detail=detail,
                                    latency_ms=latency_ms))


def _detail(status: int | None, error: object, text: str | None) -> str:
    if status:
        return f"status {status}: {(text or '').strip()[:80]}".rstrip(": ")
    name = type(root_cause(error)).__name__ if isinstance(error, BaseException) else "no answer"
    if "timeout" in name.lower():
        return f"timeout after {HEALTH_TIMEOUT_S:g} s"
    if "refused" in name.lower():
        return "connection refused"
    return name
