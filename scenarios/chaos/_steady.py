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

import httpx

from scenarios.profiles import HealthCheck, Profile, health_checks

PROBE_TIMEOUT_S = 2.0


class HealthProbe:
    """Polls the health routes of ``checks`` (all of the profile's services when empty)."""

    def __init__(self, profile: Profile, checks: list[str]) -> None:
        self.profile = profile
        self.by_name: dict[str, HealthCheck] = {check.check: check for check in health_checks(profile)}
        self.checks = checks or list(self.by_name)

    def _passes(self, name: str) -> bool:
        check = self.by_name[name]
        try:
            status = httpx.get(self.profile.url(name, check.path), timeout=PROBE_TIMEOUT_S).status_code
        except httpx.HTTPError:
            return False
        return status in check.ok_statuses if check.auth == "none" else status < 500

    def failing(self, checks: list[str] | None = None) -> list[str]:
        """The checks that do not pass right now."""
        names = checks or self.checks
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            results = list(pool.map(self._passes, names))
        return [name for name, ok in zip(names, results) if not ok]

    def wait_recovered(self, *, timeout_s: float, interval_s: float, stop: threading.Event) -> float | None:
        """Seconds until every check passes, or None after ``timeout_s`` (or when stopped)."""
        started = time.monotonic()
        while True:
            if not self.failing():
                return time.monotonic() - started
            if time.monotonic() - started >= timeout_s or stop.wait(interval_s):
                return None
