"""The dashboard's own middleware at c2bc417 (docs/as-built.md §2.4, §6): access log with metrics, and
the app-level rate limit. Both are plain ASGI classes added with ``add_middleware``.

Metrics are the c2 set, kept in memory and written by hand in the Prometheus text format:
``dashboard_requests_total``, ``dashboard_errors_total`` (status >= 500 only),
``dashboard_uptime_seconds``, and per raw path ``dashboard_requests_by_path_total``,
``dashboard_errors_by_path_total`` and ``dashboard_request_duration_ms_sum``. There is no p95
gauge (it came with a06ea4d). Every request counts, ``/metrics``, 401 and 429 included.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime

from reference_stack._http import ASGIApp, Receive, Scope, Send, send_json
from reference_stack.as_built._asgi import ResponseTap

CONTENT_TYPE = "text/plain; version=0.0.4"
REQUEST_ID = "x-request-id"
MAX_RATE_KEYS = 5000
RATE_DEFAULTS = {"DASHBOARD_RATELIMIT_ENABLED": "true", "DASHBOARD_RATELIMIT_WINDOW": "60",
                 "DASHBOARD_RATELIMIT_MAX": "120"}
"""The code's defaults; the model's process env carries the Dockerfile's ``DASHBOARD_RATELIMIT_MAX=100``."""

log = logging.getLogger("dashboard")


class DashboardMetrics:
    """In-memory counters of one uvicorn worker, lost on restart like the real ones."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.requests = 0
        self.errors = 0
        self.by_path: Counter[str] = Counter()
        self.errors_by_path: Counter[str] = Counter()
        self.duration_ms_sum: Counter[str] = Counter()
        self._lock = threading.Lock()

    def observe(self, path: str, status: int, duration_ms: int) -> None:
        with self._lock:
            self.requests += 1
            self.by_path[path] += 1
            self.duration_ms_sum[path] += duration_ms
            if status >= 500:
                self.errors += 1
                self.errors_by_path[path] += 1

    def exposition(self) -> str:
        with self._lock:
            lines = [
                "# HELP dashboard_requests_total Total de requests", "# TYPE dashboard_requests_total counter",
                f"dashboard_requests_total {self.requests}",
                "# HELP dashboard_errors_total Total de errores (>=500)", "# TYPE dashboard_errors_total counter",
                f"dashboard_errors_total {self.errors}",
                "# HELP dashboard_uptime_seconds Uptime en segundos", "# TYPE dashboard_uptime_seconds gauge",
                f"dashboard_uptime_seconds {int(time.monotonic() - self.started)}",
            ]
            for name, values in (("dashboard_requests_by_path_total", self.by_path),
                                 ("dashboard_errors_by_path_total", self.errors_by_path),
                                 ("dashboard_request_duration_ms_sum", self.duration_ms_sum)):
                lines += [f"# TYPE {name} counter", *(f'{name}{{path="{p}"}} {v}' for p, v in sorted(values.items()))]
        return "\n".join(lines) + "\n"


def _client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "-"


class AccessLogAndMetrics:
    """Outermost: sets or echoes ``X-Request-ID``, logs one JSON line (ERROR when >= 500), counts.

    An exception escaping the app is counted and logged as a 500, then re-raised to Starlette's
    ``ServerErrorMiddleware``, whose answer therefore has no ``X-Request-ID``.
    """

    def __init__(self, app: ASGIApp, *, metrics: DashboardMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(REQUEST_ID.encode())
        request_id = given.decode("latin-1") if given else uuid.uuid4().hex
        started = time.perf_counter()
        tap = ResponseTap(send, [(REQUEST_ID.encode(), request_id.encode())])
        try:
            await self.app(scope, receive, tap)
        finally:
            self._record(scope, tap.status, request_id, int((time.perf_counter() - started) * 1000))

    def _record(self, scope: Scope, status: int, request_id: str, duration_ms: int) -> None:
        path, method = scope["path"], scope["method"]
        self.metrics.observe(path, status, duration_ms)
        level = logging.ERROR if status >= 500 else logging.INFO
        log.log(level, json.dumps({
            "ts": datetime.now(UTC).isoformat(), "level": logging.getLevelName(level), "logger": "dashboard",
            "msg": f"{method} {path} -> {status}", "request_id": request_id, "path": path, "method": method,
            "status": status, "duration_ms": duration_ms, "client_ip": _client_ip(scope),
        }, ensure_ascii=False))


class FixedWindowRateLimit:
    """``/api/*`` only: at most MAX requests per (client IP, path, ``floor(now / WINDOW)``); then 429.

    The ``DASHBOARD_RATELIMIT_*`` settings are read from ``env`` on every request, as the real code
    re-reads the environment. Sits outside the header middleware: the 429 has no security headers.
    """

    def __init__(self, app: ASGIApp, *, env: Mapping[str, str]) -> None:
        self.app, self.env = app, env
        self._counts: dict[tuple[str, str, int], int] = {}
        self._lock = threading.Lock()

    def _setting(self, name: str) -> str:
        return self.env.get(name) or RATE_DEFAULTS[name]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or not path.startswith("/api/")
                or self._setting("DASHBOARD_RATELIMIT_ENABLED").lower() != "true"):
            await self.app(scope, receive, send)
            return
        window_s = float(self._setting("DASHBOARD_RATELIMIT_WINDOW"))
        limit = int(self._setting("DASHBOARD_RATELIMIT_MAX"))
        window = math.floor(time.time() / window_s)
        key = (_client_ip(scope), path, window)
        with self._lock:
            count = self._counts[key] = self._counts.get(key, 0) + 1
            if len(self._counts) > MAX_RATE_KEYS:
                self._counts = {k: v for k, v in self._counts.items() if k[2] == window}
        if count > limit:
            await send_json(send, 429, {"error": "Rate limit excedido"})
            return
        await self.app(scope, receive, send)
