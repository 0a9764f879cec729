"""One HTTP request and what it proves: status, body excerpt, timing, or why it never answered.

Every smoke check talks to the deployment through ``send``, so every piece of evidence has the
same shape (``request``, ``status``, ``body``, ``elapsed_ms``, ``error``) and no request can raise:
a refused connection or a timeout is an answer too, the one the report must name. A connection
that broke before an answer (a server closing its keep-alive connection after a 500 does that to
the next request) is retried once on a fresh connection before it is taken as the outcome.
"""

from __future__ import annotations

import errno
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from scenarios.target.classify import is_transport

BODY_EXCERPT_CHARS = 200
"""How much of a response body goes into the evidence."""
TRANSPORT_RETRIES = 1
"""A connection that broke before an answer is tried once more (a refused or timed-out connect is not:
nothing was sent, and trying again only doubles the wait)."""

Redact = Callable[[str], str]


@dataclass
class Exchange:
    """A request sent and its answer (``status`` None when there was none; then ``error`` says why)."""

    method: str
    url: str
    status: int | None
    elapsed_ms: float
    body: str = ""
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    error: str | None = None
    label: str = ""
    """What the request was for (``cross-agent token deposito -> negocio``)."""
    exception: BaseException | None = field(default=None, repr=False, compare=False)
    """Why there was no answer, for ``scenarios.target.classify`` (never written: ``error`` is the redacted text)."""

    @property
    def answered(self) -> bool:
        return self.status is not None

    @property
    def transport(self) -> bool:
        """No answer because the connection failed (refused, reset): nothing the deployment said to judge."""
        return is_transport(self.exception)

    @property
    def request(self) -> str:
        return f"{self.method} {self.url}"

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON (a check never crashes on a bad body)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def excerpt(self, chars: int) -> str:
        """The start of the body on one line, for a summary."""
        return " ".join(self.body.split())[:chars]

    def outcome(self) -> str:
        """One phrase: ``status 401`` or ``connection refused``."""
        return f"status {self.status}" if self.status is not None else str(self.error)

    def evidence(self, **extra: Any) -> dict[str, Any]:
        """The evidence dict of this exchange, plus ``extra`` keys (headers seen, expectations...)."""
        item: dict[str, Any] = {
            "request": self.request,
            "status": self.status,
            "elapsed_ms": round(self.elapsed_ms, 1),
        }
        if self.label:
            item["what"] = self.label
        if self.error:
            item["error"] = self.error
        if self.body:
            item["body"] = self.body[:BODY_EXCERPT_CHARS]
        item.update(extra)
        return item


def describe_error(exc: httpx.HTTPError, timeout: httpx.Timeout) -> str:
    """Why a request got no answer, in the words an operator greps for."""
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connect timeout after {timeout.connect:g} s" if timeout.connect else "connect timeout"
    if isinstance(exc, httpx.TimeoutException):
        return f"timeout after {timeout.read:g} s" if timeout.read else "timeout"
    if isinstance(exc, httpx.ConnectError):
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, ConnectionRefusedError) or getattr(cause, "errno", None) == errno.ECONNREFUSED:
                return "connection refused"
            cause = cause.__cause__ or cause.__context__
        text = str(exc)
        return "connection refused" if "refused" in text.lower() else f"connect error: {text}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"connection closed without an answer ({exc})"
    return f"{type(exc).__name__}: {exc}"


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    redact: Redact,
    label: str = "",
    timeout_s: float | None = None,
    headers: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> Exchange:
    """Send one request; never raises for network trouble, which ends up in ``Exchange.error``."""
    timeout = client.timeout if timeout_s is None else httpx.Timeout(timeout_s, connect=client.timeout.connect)
    for attempt in range(1 + TRANSPORT_RETRIES):
        started = time.perf_counter()
        try:
            response = client.request(method, url, headers=headers, timeout=timeout, **kwargs)
            break
        except httpx.HTTPError as exc:
            retry = is_transport(exc) and not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
            if retry and attempt < TRANSPORT_RETRIES:
                continue  # the pool dropped the broken connection: the retry opens a fresh one
            return Exchange(method, url, None, (time.perf_counter() - started) * 1000,
                            error=redact(describe_error(exc, timeout)), label=label, exception=exc)
    elapsed_ms = (time.perf_counter() - started) * 1000
    return Exchange(method, url, response.status_code, elapsed_ms,
                    body=redact(response.text), headers=response.headers, label=label)


def unreachable(exchanges: list[Exchange], names: Mapping[str, str] | None = None) -> list[str]:
    """One problem per origin that did not answer: ``negocio (http://127.0.0.1:1) unreachable (connection
    refused)``; ``names`` maps base URLs to service names."""
    by_origin = {_origin(url): name for name, url in (names or {}).items()}
    seen: dict[str, str] = {}
    for exchange in exchanges:
        if not exchange.answered:
            seen.setdefault(_origin(exchange.url), str(exchange.error))
    return [f"{by_origin[origin]} ({origin}) unreachable ({error})" if origin in by_origin
            else f"{origin} unreachable ({error})" for origin, error in seen.items()]


def _origin(url: str) -> str:
    return str(httpx.URL(url).copy_with(path="/", query=None)).rstrip("/")
