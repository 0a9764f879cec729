"""What an answer means: the outcome classes of heavy invoices, forged tokens and failed requests.

Pure functions of status, latency and the profile's numbers, so the rules are tested without a
server and read in one place. Users call them and write the result; the recorder only counts.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

OcrResult = Literal["timeout_ok", "timeout_late", "processed", "body_limit", "rejected", "failure"]
TokenResult = Literal["rejected", "wrong_rejection", "breach", "control_ok", "control_refused", "error"]

EARLY_TOLERANCE_S = 0.05
"""A timeout answer may come this much before the configured timeout (clock and rounding slack)."""


@dataclass(frozen=True)
class Classified:
    """A result, whether it is what the harness provoked on purpose, and a short human detail."""

    result: str
    expected: bool
    failure: bool
    detail: str


def classify_ocr(
    status: int | None, latency_s: float, *, timeout_s: float, grace_s: float, timeout_status: int = 504,
    size_bytes: int = 0, body_limit_bytes: int | None = None, refusals: Collection[int] = (),
) -> Classified:
    """Classify a heavy-invoice upload (checklist R3).

    - ``timeout_status`` between the timeout and timeout + grace: ``timeout_ok`` (the app's timeout works);
    - ``timeout_status`` later than that: ``timeout_late`` (something in front cut it, not the app);
    - 200: ``processed`` within the time it took; 413: ``body_limit`` (a limit in front of the app);
    - 400/415: ``rejected`` as not a document; anything else, a 5xx or no answer: ``failure``.

    ``refusals`` are the answers a correct service gives to a hostile file: one of them is the
    ``expected`` ``rejected`` (or ``body_limit`` for 413).
    """
    took = f"after {latency_s:.2f} s"
    if status is None:
        return Classified("failure", False, True, f"no answer {took}")
    if status in refusals:
        return Classified("body_limit" if status == 413 else "rejected", True, False, f"{status} {took} (refused as it should)")
    if status == timeout_status:
        if latency_s < timeout_s - EARLY_TOLERANCE_S:
            return Classified("failure", False, True, f"{status} {took}, before the {timeout_s:g} s OCR timeout")
        if latency_s <= timeout_s + grace_s:
            return Classified("timeout_ok", True, False, f"{status} {took} (timeout {timeout_s:g} s + grace {grace_s:g} s)")
        return Classified("timeout_late", False, True,
                          f"{status} {took}, later than timeout {timeout_s:g} s + grace {grace_s:g} s")
    if status == 200:
        return Classified("processed", False, False, f"200 {took}")
    if status == 413:
        over = body_limit_bytes is not None and size_bytes > body_limit_bytes
        return Classified("body_limit", over, not over, f"413 for {size_bytes} bytes")
    if status in (400, 415):
        return Classified("rejected", False, True, f"{status} {took}")
    return Classified("failure", False, True, f"status {status} {took}")


def classify_token(status: int | None, *, rejected_statuses: Collection[int], control: bool = False,
                   accepted_statuses: Collection[int] = ()) -> Classified:
    """Classify one token presented to one agent (checklist R2).

    A forged token must get one of ``rejected_statuses`` (401/403): ``rejected``; a 2xx is a
    ``breach``; a 5xx is a ``wrong_rejection`` (refused, but by crashing). A control token (a valid
    one) must get a 2xx or one of ``accepted_statuses`` (the probed call's own good answers: the
    as-built price lookup answers 404 by design): ``control_ok``, else ``control_refused``.
    """
    if status is None:
        return Classified("error", False, True, "no answer")
    if control:
        if 200 <= status < 300 or status in accepted_statuses:
            return Classified("control_ok", False, False, f"{status}")
        return Classified("control_refused", False, True, f"valid token refused with {status}")
    if status in rejected_statuses:
        return Classified("rejected", True, False, f"{status}")
    if 200 <= status < 300:
        return Classified("breach", False, True, f"forged token accepted with {status}")
    if status >= 500:
        return Classified("wrong_rejection", False, True, f"forged token refused by a server error {status}")
    return Classified("error", False, True, f"unexpected status {status}")


ERROR_CLASS_CHARS = 80


def error_class(status: int | None, exception: BaseException | None) -> str:
    """A short name for a failed request: ``status 503``; for a good status a check failed, the
    check's message (``inflation rate 0.05, expected 0.045``); with no answer, the exception type
    (the cause inside geventhttpclient's ``RetriesExceeded``: ``ConnectionRefusedError``, ``timeout``)."""
    if status and status >= 400:
        return f"status {status}"
    if exception is not None:
        cause = root_cause(exception)
        return (str(cause) if status else "")[:ERROR_CLASS_CHARS] or type(cause).__name__
    return f"status {status}" if status else "unknown"


TRANSPORT_ERROR_NAMES = frozenset({
    # geventhttpclient (Locust's FastHttpUser): the server closed the connection before answering
    "HTTPConnectionClosed", "EmptyResponse",
    # httpx (smoke, setup calls): no connection, or it broke before an answer
    "ConnectError", "ConnectTimeout", "ReadError", "WriteError", "RemoteProtocolError",
})
"""Exception types (by name, so that neither HTTP client has to be imported here) that mean the
request never got an answer. Read timeouts are not among them: the deployment took the request and
did not answer in time, which is a judgement of the deployment (an error), not a transport outcome."""


def is_transport(exception: BaseException | None) -> bool:
    """True when the request never got an answer: refused, reset, closed, broken pipe, a connect timeout.

    A ``transport`` outcome says nothing about how the deployment answers, so it is kept out of
    error rates and latencies; reachability is judged by the health rules instead.
    """
    if exception is None:
        return False
    cause = root_cause(exception)
    if isinstance(cause, ConnectionError | EOFError):  # refused, reset, aborted, broken pipe
        return True
    return type(cause).__name__ in TRANSPORT_ERROR_NAMES or type(exception).__name__ in TRANSPORT_ERROR_NAMES


def root_cause(exception: BaseException) -> BaseException:
    """The error geventhttpclient wrapped (``original``), else the exception itself."""
    original = getattr(exception, "original", None)
    return original if isinstance(original, BaseException) else exception
