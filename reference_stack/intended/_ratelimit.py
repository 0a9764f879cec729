"""The dashboard's rate limit on ``/api/*`` (docs/contract.md §7): per client IP and path, sliding window."""

from __future__ import annotations

import time
from collections import deque

from reference_stack._http import ASGIApp, Receive, Scope, Send, send_json

RATE_MAX_ENV = "DASHBOARD_RATELIMIT_MAX"
RATE_WINDOW_ENV = "DASHBOARD_RATELIMIT_WINDOW"
DEFAULT_MAX = 120
DEFAULT_WINDOW_S = 60.0
MAX_KEYS = 5000


class RateLimit:
    """At most ``max_requests`` per ``window_s`` for each (client IP, path) under ``/api/``; else 429."""

    def __init__(self, app: ASGIApp, *, max_requests: int, window_s: float) -> None:
        self.app, self.max_requests, self.window_s = app, max_requests, window_s
        self._hits: dict[tuple[str, str], deque[float]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/"):
            await self.app(scope, receive, send)
            return
        now = time.monotonic()
        client = scope.get("client")
        hits = self._hits.setdefault((client[0] if client else "-", path), deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if len(hits) >= self.max_requests:
            await send_json(send, 429, {"error": "Rate limit excedido"})
            return
        hits.append(now)
        if len(self._hits) > MAX_KEYS:
            self._prune(now)
        await self.app(scope, receive, send)

    def _prune(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window_s]:
            del self._hits[key]
