"""What an answer means: the outcome classes of heavy invoices, forged tokens, predictions and failed requests.

Pure functions of status, latency, exception and the profile's numbers, so the rules are tested
without a server and read in one place. Smoke (``scenarios/smoke``) and the load (the Locust users)
both call them, so one answer gets one class wherever it was seen; users and checks write the
result, the recorder only counts.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from scenarios.target.profiles import PredictSpec
from stagegate_core.stream import InvoiceKind, OcrResult, TokenResult

__all__ = ["InvoiceKind", "OcrResult", "TokenResult"]  # the stream's classes, named here for the classifiers' callers

EARLY_TOLERANCE_S = 0.05
"""A timeout answer may come this much before the configured timeout (clock and rounding slack)."""
DOCUMENT_REFUSALS = frozenset({400, 415})
"""Statuses that say "this is not a document I take": a refusal of the file, not a crash."""


def hostile_refusals(kind: str, statuses: Collection[int]) -> tuple[int, ...]:
    """The ``refusals`` of an invoice: for a hostile file the 4xx its manifest says a correct service
    answers (400/413/415/422); none for normal and heavy invoices, which must not be refused."""
    return tuple(status for status in statuses if 400 <= status < 500) if kind == "hostile" else ()


R_co = TypeVar("R_co", bound=str, covariant=True)
"""The result classes of one kind of answer (``OcrResult``, ``TokenResult``, ``str`` for predictions)."""


@dataclass(frozen=True)
class Classified(Generic[R_co]):
    """A result, whether it is what the harness provoked on purpose, and a short human detail.

    ``failure`` is a judgement against the deployment; ``transport`` results are neither
    ``expected`` nor a ``failure``: nothing was answered, so nothing is judged.
    """

    result: R_co
    expected: bool
    failure: bool
    detail: str


def _no_answer(exception: BaseException | None, took: str) -> Classified[Literal["transport", "failure"]]:
    """No status: ``transport`` when the request never got an answer (refused, reset: nothing to judge),
    else a judged ``failure`` (the deployment took the request and did not answer in time)."""
    why = f" ({error_class(None, exception)})" if exception is not None else ""
    if is_transport(exception):
        return Classified("transport", False, False, f"no answer{took}{why}")
    return Classified("failure", False, True, f"no answer{took}{why}")


def classify_ocr(
    status: int | None, latency_s: float, *, timeout_s: float, grace_s: float, timeout_status: int = 504,
    size_bytes: int = 0, body_limit_bytes: int | None = None, refusals: Collection[int] = (),
    kind: InvoiceKind = "heavy", exception: BaseException | None = None,
) -> Classified[OcrResult]:
    """Classify an invoice upload (checklist R3).

    - no answer through a transport failure (refused, reset): ``transport``, not judged; no answer
      at all by the client's deadline (past timeout + grace): ``failure``, the deployment did not
      answer in time;
    - ``timeout_status`` on a heavy invoice between the timeout (less ``EARLY_TOLERANCE_S``: the
      client's clock and the server's timer are not the same clock, so a 504 at 29.97 s with a 30 s
      timeout is the timeout working) and timeout + grace: ``timeout_ok``; later: ``timeout_late``
      (something in front cut it, not the app); earlier: ``failure``;
    - ``timeout_status`` on a normal invoice: ``failure`` (an ordinary document must be processed);
    - any 2xx: ``processed`` (a 201 Created for a stored invoice is the document processed too);
    - 413: ``body_limit`` (a limit in front of the app; ``expected`` only for a body over the limit);
    - 400/415: ``rejected`` as not a document; anything else (a 5xx, a 404 route): ``failure``.

    ``refusals`` are the answers a correct service gives to a hostile file: one of them is the
    ``expected`` ``rejected`` (or ``body_limit`` for 413).
    """
    took = f"after {latency_s:.2f} s"
    if status is None:
        return _no_answer(exception, f" {took}")
    if status in refusals:
        return Classified("body_limit" if status == 413 else "rejected", True, False, f"{status} {took} (refused as it should)")
    if status == timeout_status:
        if kind == "normal":
            return Classified("failure", False, True, f"normal invoice timed out ({status} {took})")
        if latency_s < timeout_s - EARLY_TOLERANCE_S:
            return Classified("failure", False, True, f"{status} {took}, before the {timeout_s:g} s OCR timeout")
        if latency_s <= timeout_s + grace_s:
            return Classified("timeout_ok", True, False, f"{status} {took} (timeout {timeout_s:g} s + grace {grace_s:g} s)")
        return Classified("timeout_late", False, True,
                          f"{status} {took}, later than timeout {timeout_s:g} s + grace {grace_s:g} s")
    if 200 <= status < 300:
        return Classified("processed", False, False, f"{status} {took}")
    if status == 413:
        over = body_limit_bytes is not None and size_bytes > body_limit_bytes
        return Classified("body_limit", over, not over, f"413 {took} for {size_bytes} bytes: a body limit refused it")
    if status in DOCUMENT_REFUSALS:
        return Classified("rejected", False, True, f"{status} {took}")
    return Classified("failure", False, True, f"status {status} {took}")


def classify_token(status: int | None, *, rejected_statuses: Collection[int], control: bool = False,
                   accepted_statuses: Collection[int] = (), exception: BaseException | None = None,
                   ) -> Classified[TokenResult]:
    """Classify one token presented to one agent (checklist R2).

    The probed route's good answers are any 2xx and its ``accepted_statuses`` (the as-built price
    lookup answers 404 by design): such an answer means the token got past the token check.

    - a control token (a valid one) must get a good answer: ``control_ok``, else ``control_refused``;
    - a forged token must get one of ``rejected_statuses`` (401/403): ``rejected``;
    - a forged token given a good answer is a ``breach`` (a 404 too where 404 is the route's good answer);
    - any other answer is a ``wrong_rejection``: a 5xx (refused by crashing) and equally a 404 or
      400 where the contract says 401/403. The rollback rule is "anything but 401/403", and a
      client cannot tell a refused token from a missing resource; were it an ``error``, no rule
      would judge it and a deployment answering 404 to every forged token would pass unseen;
    - no answer through a transport failure: ``transport`` (not judged; reachability is the health
      rules' business); no answer otherwise (the agent took the request and hung): ``error``.
    """
    if status is None:
        answer = _no_answer(exception, "")
        return Classified("transport" if answer.result == "transport" else "error", False, answer.result != "transport",
                          answer.detail)
    good = 200 <= status < 300 or status in accepted_statuses
    if control:
        if good:
            return Classified("control_ok", False, False, f"{status}")
        return Classified("control_refused", False, True, f"valid token refused with {status}")
    if status in rejected_statuses:
        return Classified("rejected", True, False, f"{status}")
    if good:
        return Classified("breach", False, True, f"forged token accepted with {status}")
    if status >= 500:
        return Classified("wrong_rejection", False, True, f"forged token refused by a server error {status}")
    expected = "/".join(str(s) for s in sorted(rejected_statuses))
    return Classified("wrong_rejection", False, True, f"forged token refused with {status}, not {expected}")


RATE_TOLERANCE = 5e-4
"""Half a tenth of a percentage point. ``"4.5%"``, the coarsest form a contract gives the rate in,
says no more than that, so smoke and the load accept a rate this close to the configured one in
every format; a rate ignored (0) or misconfigured (0.05) is far outside it."""
ADJUSTMENT_REL_TOLERANCE = 1e-3
"""An adjustment rounded for display (four significant digits) is still the configured rate applied."""
ADJUSTMENT_ABS_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Inflation:
    """What one prediction says about the inflation rate, and what is wrong with it (nothing: ``problems`` empty)."""

    raw_rate: Any
    rate: float | None
    problems: tuple[str, ...]
    rate_wrong: bool
    """The rate is readable and is not the configured one (0 included: inflation ignored)."""
    adjustment: Any = None
    expected_adjustment: float | None = None

    @property
    def ignored(self) -> bool:
        """A rate or an adjustment of exactly 0: the configured inflation is not applied at all."""
        return self.rate == 0 or (self.adjustment == 0 and not isinstance(self.adjustment, bool))


def read_rate(value: Any, rate_format: str) -> float | None:
    """The rate as a fraction (0.045) from ``0.045``, ``4.5`` (a number of 1 or more reads as percent),
    ``"4.5%"`` or, for ``percent_string``, ``"4.5"``; None when it is not a number."""
    if isinstance(value, str):
        text = value.strip().rstrip("%").strip()
        try:
            number = float(text)
        except ValueError:
            return None
        return number / 100 if rate_format == "percent_string" or value.strip().endswith("%") else number
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value) / 100 if float(value) >= 1 else float(value)
    return None


def dotted(body: Any, path: str) -> Any:
    """``body["a"]["b"]`` for ``"a.b"``; None when any step is missing."""
    for key in path.split("."):
        if not isinstance(body, dict) or key not in body:
            return None
        body = body[key]
    return body


def classify_inflation(body: Any, request: Mapping[str, Any], spec: PredictSpec) -> Inflation:
    """The inflation rate (``rate_field``) and adjustment (``adjustment_field``) of one prediction (R4).

    The rate must be the configured one within ``RATE_TOLERANCE``; the adjustment, where the
    contract returns it, ``(1 + configured rate) ** (days / 30) - 1``: the configured rate, not the
    one read, so a wrong rate cannot make its own adjustment look right.
    """
    raw = dotted(body, spec.rate_field)
    rate = read_rate(raw, spec.rate_format)
    problems: list[str] = []
    if rate is None:
        return Inflation(raw, None, (f"no readable inflation rate at {spec.rate_field} (got {raw!r})",), False)
    wrong = not math.isclose(rate, spec.expected_rate, abs_tol=RATE_TOLERANCE)
    if wrong:
        problems.append(f"inflation rate {rate:g}, expected {spec.expected_rate:g}")
    if not spec.adjustment_field:
        return Inflation(raw, rate, tuple(problems), wrong)
    days = float(request.get(spec.days_field, 30))
    expected = (1 + spec.expected_rate) ** (days / 30) - 1
    adjustment = dotted(body, spec.adjustment_field)
    if not isinstance(adjustment, int | float) or isinstance(adjustment, bool):
        problems.append(f"no numeric {spec.adjustment_field} (got {adjustment!r})")
    elif not math.isclose(adjustment, expected, rel_tol=ADJUSTMENT_REL_TOLERANCE, abs_tol=ADJUSTMENT_ABS_TOLERANCE):
        problems.append(f"{spec.adjustment_field} = {adjustment:g}, expected {expected:.6f} for rate "
                        f"{spec.expected_rate:g} over {days:g} days")
    return Inflation(raw, rate, tuple(problems), wrong, adjustment, expected)


def inflation_problem(body: Any, request: Mapping[str, Any], spec: PredictSpec) -> str | None:
    """Why a prediction's inflation rate or adjustment is not the configured one (None when it is): the
    load's per-answer failure message, so the first problem only (a wrong rate makes the adjustment wrong too)."""
    problems = classify_inflation(body, request, spec).problems
    return problems[0] if problems else None


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
