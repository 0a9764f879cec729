"""``StagegateUser``: the abstract Locust user every traffic actor of the harness derives from.

It knows the run (profile, credentials, recorder) through ``run_context``, names requests the
stream's way (``"deposito GET /productos/{id}"``), sends them to absolute URLs (each service has
its own base URL, so Locust's single ``--host`` does not apply), and paces them: closed model by
default (a random think time from the scenario file), open model with ``--open-model-rps``.

Two things happen before a request reaches the recorder:

- a call that needs an agent's token the run could not get at start first tries that login again
  (at most every ``auth.relogin_interval_s``, recorded under the login's request name); until it
  succeeds the call is not sent (``RescheduleTask``), nor is a call that needs a product when
  discovery found none;
- a request whose connection the server closed before answering is sent once more on a fresh
  connection (``closed_before_answer``); only the final attempt is recorded.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import urlencode

from geventhttpclient.response import HTTPConnectionClosed
from locust import FastHttpUser
from locust.contrib.fasthttp import ResponseContextManager
from locust.env import Environment
from locust.exception import RescheduleTask

from scenarios.load.run_context import RunContext, run_context
from scenarios.target.classify import Classified, root_cause
from scenarios.target.discovery import fill
from stagegate_core.stream import Record


@lru_cache(maxsize=1024)
def request_name(service: str, method: str, template: str, traffic: str = "normal") -> str:
    """``"<service> <METHOD> <path template>"``; provoked traffic gets its class as a suffix so that
    a route's forged-token or heavy-invoice series never mixes with its normal one."""
    path = template.split("?", 1)[0]
    suffix = "" if traffic in ("normal", "health") else f" [{traffic}]"
    return f"{service} {method} {path}{suffix}"


CLOSED_BEFORE_ANSWER = (HTTPConnectionClosed, ConnectionResetError, ConnectionAbortedError, BrokenPipeError)
"""What a connection the server closed looks like to geventhttpclient: a keep-alive connection that
was closed (or reset after a 5xx, as uvicorn does) while the request was on its way."""


def closed_before_answer(response: Any) -> bool:
    """Whether ``response`` is no answer because the server closed or reset the connection.

    Such a request is sent once more on a fresh connection (the pool drops the broken one). That is
    safe for every request the harness sends, POSTs included: the server closed the connection
    before it answered, so at worst it applied the request without saying so, and the harness's
    only state-changing POST (a stock movement) carries an idempotency key, with which the server
    applies it once and answers the first result again; the others (uploads, predictions, logins)
    change nothing a second time. Geventhttpclient's own retry covers idempotent methods only, and
    its ``max_retries`` would also resend timeouts. A refused connection or a timeout is not
    retried: the service is down or slow, and that is what the run must record.
    """
    if getattr(response, "status_code", 0):
        return False
    error = getattr(response, "error", None)
    return isinstance(error, BaseException) and isinstance(root_cause(error), CLOSED_BEFORE_ANSWER)


def mark_expected(response: ResponseContextManager) -> None:
    """A failure status the harness provoked on purpose: a success for Locust, ``expected`` in the stream."""
    marked: Any = response  # Locust's response methods are untyped
    marked.request_meta["context"]["expected"] = True
    marked.success()


def mark_by_status(response: ResponseContextManager, ok_statuses: list[int] | tuple[int, ...]) -> bool:
    """Mark the response by the profile's list of good statuses; True when it is one."""
    marked: Any = response  # Locust's response methods are untyped
    if marked.status_code in ok_statuses:
        marked.success()
        return True
    marked.failure(f"status {marked.status_code}")
    return False


def settle(response: ResponseContextManager, answer: Classified[str], label: str) -> None:
    """Mark a classified answer: ``expected`` outcomes succeed (and count apart), failures fail.

    A ``transport`` result (no answer) is marked failed too, never a success: the recorder then
    finds the client's own error on the response and counts it as ``transport``, not ``ok``."""
    marked: Any = response  # Locust's response methods are untyped
    if answer.expected:
        mark_expected(response)
    elif answer.failure or answer.result == "transport":
        marked.failure(f"{label} {answer.result}")
    else:
        marked.success()


class StagegateUser(FastHttpUser):
    """Base of the harness's users; subclasses set ``service`` and declare tasks."""

    abstract = True
    service: ClassVar[str] = ""
    """The service this user talks to (also the prefix of its request names)."""
    host = "http://127.0.0.1"
    """Placeholder so Locust starts without ``--host``: requests go to the profile's absolute URLs."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.run_context: RunContext = run_context(environment)
        self._due: float | None = None

    def wait_time(self) -> float:
        """Think time (closed model) or time until this user's next slot (open model)."""
        schedule = self.run_context.schedule
        if schedule is None:
            scenario = self.run_context.scenario
            return self.run_context.rng.uniform(scenario.wait_min_s, scenario.wait_max_s)
        self._due = schedule.next_due()
        return max(0.0, self._due - time.time())

    def emit(self, rec: Record) -> None:
        self.run_context.recorder.emit(rec)

    def send(
        self, method: str, service: str, template: str, *, path: str | None = None,
        query: Mapping[str, Any] | None = None, auth: str = "none", traffic: str = "normal",
        headers: Mapping[str, str] | None = None, **kwargs: Any,
    ) -> ResponseContextManager:
        """One request with ``catch_response``: the caller marks it (``mark_by_status``, ``mark_expected``)."""
        url = self.run_context.profile.url(service, path if path is not None else template)
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query)
        credentials = self.run_context.credentials
        if credentials.needs_login(service, auth):
            self.log_in(service)
            if credentials.needs_login(service, auth):
                raise RescheduleTask()  # no token yet: the login's failure is what the run records
        context: dict[str, Any] = {"service": service, "traffic": traffic}
        if self._due is not None:
            context["due"], self._due = self._due, None
        sent_headers = {**credentials.headers(service, auth), **(headers or {})}
        return self.request(method, url, name=request_name(service, method, template, traffic),
                            headers=sent_headers, context=context, **kwargs)

    def request(self, method: str, url: str, **kwargs: Any) -> ResponseContextManager:
        """``self.client.request`` with ``catch_response``, sent once more when the server closed the
        connection before answering; the first attempt is never entered, so never recorded."""
        response = self.client.request(method, url, catch_response=True, **kwargs)
        if closed_before_answer(response):
            response = self.client.request(method, url, catch_response=True, **kwargs)
        return response

    def log_in(self, agent: str) -> None:
        """Try ``agent``'s login again (at most every ``auth.relogin_interval_s`` in this process),
        recorded as normal traffic under the login's request name: its failures are errors."""
        credentials = self.run_context.credentials
        if not credentials.login_due(agent):
            return
        url, path, body = credentials.login_request(agent)
        with self.request("POST", url, name=request_name(agent, "POST", path), json=body,
                          context={"service": agent, "traffic": "normal"}) as response:
            if mark_by_status(response, (200,)) and not credentials.accept(agent, _json_body(response)):
                response.failure("login answered no access_token")

    def checked_call(self, call_name: str, **values: Any) -> None:
        """The business call ``call_name``, judged by the profile's good statuses for it."""
        with self.call(call_name, **values) as response:
            mark_by_status(response, self.run_context.profile.calls[call_name].ok_statuses)

    def prediction(self, *, traffic: str = "normal", headers: Mapping[str, str] | None = None,
                   auth: str = "jwt") -> tuple[ResponseContextManager, dict[str, Any]]:
        """The profile's prediction with its body filled from a discovered product (and the body sent);
        not sent (``RescheduleTask``) when the deployment holds no product to predict for."""
        spec = self.run_context.profile.predict
        discovered = self.run_context.discovered.values_for(self.run_context.profile, spec, self.run_context.rng)
        if discovered is None:
            raise RescheduleTask()
        body: dict[str, Any] = fill(spec.json_body, discovered)
        return self.send(spec.method, spec.service, spec.path, auth=auth, traffic=traffic, headers=headers,
                         json=body), body

    def call(self, call_name: str, *, traffic: str = "normal", auth: str | None = None,
             headers: Mapping[str, str] | None = None, **values: Any) -> ResponseContextManager:
        """The profile's business call ``call_name`` with its placeholders filled from a discovered item
        (a random one) and ``values``; not sent (``RescheduleTask``) when it needs an item there is none of."""
        spec = self.run_context.profile.calls[call_name]
        discovered = self.run_context.discovered.values_for(self.run_context.profile, spec, self.run_context.rng)
        if discovered is None:
            raise RescheduleTask()
        values = {**discovered, **values}
        json_body = fill(spec.json_body, values) if spec.json_body is not None else None
        extra = {"json": json_body} if json_body is not None else {}
        return self.send(
            spec.method, spec.service, spec.path, path=fill(spec.path, values), query=fill(spec.query, values),
            auth=auth or spec.auth, traffic=traffic, headers=headers, **extra,
        )


def _json_body(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
