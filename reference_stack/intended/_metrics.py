"""The dashboard's Prometheus metrics (docs/contract.md §7): requests, errors, p95 duration, uptime."""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
P95_WINDOW = 10_000


class DashboardMetrics:
    """Counters fed by the request log; the p95 gauge is the nearest-rank p95 of the last 10 000 durations."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter("dashboard_requests", "HTTP requests served", registry=self.registry)
        self._errors = Counter("dashboard_errors", "HTTP responses with status >= 500", registry=self.registry)
        self._durations: deque[float] = deque(maxlen=P95_WINDOW)
        self._lock = threading.Lock()
        started = time.monotonic()
        Gauge("dashboard_request_duration_ms_p95", "p95 request duration (ms) over the last 10000 requests",
              registry=self.registry).set_function(self.p95_ms)
        Gauge("dashboard_uptime_seconds", "Seconds since the dashboard started",
              registry=self.registry).set_function(lambda: time.monotonic() - started)

    def observe(self, path: str, status: int, duration_ms: float) -> None:
        self._requests.inc()
        if status >= 500:
            self._errors.inc()
        with self._lock:
            self._durations.append(duration_ms)

    def p95_ms(self) -> float:
        with self._lock:
            ordered = sorted(self._durations)
        return ordered[math.ceil(0.95 * len(ordered)) - 1] if ordered else 0.0

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
