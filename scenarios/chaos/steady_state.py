"""The steady state chaos must leave intact: every named health check passing.

A check passes when the service's health route answers one of its ok statuses. Where the
profile says health needs credentials (``health_auth`` ``jwt`` or ``api_key``, the as-built
agents), chaos has no token to offer, so any answer below 500 counts as up: it shows the
process is back and serving, which is what recovery is about.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from scenarios.target.profiles import HealthCheck, Profile, health_checks

PROBE_TIMEOUT_S = 2.0
MIN_PROBE_TIMEOUT_S = 0.2
"""The shortest a probe may wait for an answer, even when the recovery deadline is closer."""


@dataclass(frozen=True)
class Recovery:
    """How a wait for recovery ended: after ``recovery_s`` seconds, or (None) with these checks still failing."""

    recovery_s: float | None
    failing: list[str]


class HealthProbe:
    """Polls the health routes of ``checks`` (all of the profile's services when empty)."""

    def __init__(self, profile: Profile, checks: list[str]) -> None:
        self.profile = profile
        self.by_name: dict[str, HealthCheck] = {check.check: check for check in health_checks(profile)}
        self.checks = checks or list(self.by_name)

    def _passes(self, name: str, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
        check = self.by_name[name]
        try:
            status = httpx.get(self.profile.url(name, check.path), timeout=timeout_s).status_code
        except httpx.HTTPError:
            return False
        return status in check.ok_statuses if check.auth == "none" else status < 500

    def failing(self, checks: list[str] | None = None, *, timeout_s: float = PROBE_TIMEOUT_S) -> list[str]:
        """The checks that do not pass right now (each asked with ``timeout_s``)."""
        names = checks or self.checks
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            results = list(pool.map(lambda name: self._passes(name, timeout_s), names))
        return [name for name, ok in zip(names, results) if not ok]

    def wait_recovered(self, *, timeout_s: float, interval_s: float, stop: threading.Event) -> Recovery:
        """Poll until every check passes, ``timeout_s`` passes (or ``stop`` is set), whichever is first.

        No probe outlasts the deadline (a hung service would otherwise stretch it by a probe timeout),
        so a run that waits for this never waits longer than ``timeout_s`` and one poll interval.
        """
        started = time.monotonic()
        while True:
            remaining = timeout_s - (time.monotonic() - started)
            failing = self.failing(timeout_s=max(MIN_PROBE_TIMEOUT_S, min(PROBE_TIMEOUT_S, remaining)))
            elapsed = time.monotonic() - started
            if not failing:
                return Recovery(elapsed, [])
            if elapsed >= timeout_s or stop.wait(min(interval_s, max(0.0, timeout_s - elapsed))):
                return Recovery(None, failing)
