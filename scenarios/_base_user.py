"""``StagegateUser``: the abstract Locust user every traffic actor of the harness derives from.

It knows the run (profile, credentials, recorder) through ``run_context``, names requests the
stream's way (``"deposito GET /productos/{id}"``), sends them to absolute URLs (each service has
its own base URL, so Locust's single ``--host`` does not apply), and paces them: closed model by
default (a random think time from the scenario file), open model with ``--open-model-rps``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, ClassVar
from urllib.parse import urlencode

from locust import FastHttpUser
from locust.contrib.fasthttp import ResponseContextManager
from locust.env import Environment

from scenarios._classify import Classified
from scenarios._context import RunContext, run_context
from stagegate.stream import Record


@lru_cache(maxsize=1024)
def request_name(service: str, method: str, template: str, traffic: str = "normal") -> str:
    """``"<service> <METHOD> <path template>"``; provoked traffic gets its class as a suffix so that
    a route's forged-token or heavy-invoice series never mixes with its normal one."""
    path = template.split("?", 1)[0]
    suffix = "" if traffic in ("normal", "health") else f" [{traffic}]"
    return f"{service} {method} {path}{suffix}"


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """``template`` with ``{name}`` placeholders replaced: a whole-string placeholder keeps the value's
    type (``"{id}"`` -> ``7``), one inside text is formatted in; dicts and lists are filled through."""
    if isinstance(template, str):
        if template.startswith("{") and template.endswith("}") and template[1:-1] in values:
            return values[template[1:-1]]
        return template.format_map(_Keep(values)) if "{" in template else template
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values) for value in template]
    return template


class _Keep(dict[str, Any]):
    """Leaves unknown placeholders as they are instead of raising ``KeyError``."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def mark_expected(response: ResponseContextManager) -> None:
    """A failure status the harness provoked on purpose: a success for Locust, ``expected`` in the stream."""
    marked: Any = response  # Locust's response methods are untyped
    marked.request_meta["context"]["expected"] = True
    marked.success()


def judge(response: ResponseContextManager, ok_statuses: list[int] | tuple[int, ...]) -> bool:
    """Mark the response by the profile's list of good statuses; True when it is one."""
    marked: Any = response  # Locust's response methods are untyped
    if marked.status_code in ok_statuses:
        marked.success()
        return True
    marked.failure(f"status {marked.status_code}")
    return False


def settle(response: ResponseContextManager, verdict: Classified, label: str) -> None:
    """Mark a classified answer: ``expected`` outcomes succeed (and count apart), failures fail."""
    marked: Any = response  # Locust's response methods are untyped
    if verdict.expected:
        mark_expected(response)
    elif verdict.failure:
        marked.failure(f"{label} {verdict.result}")
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
        self.harness: RunContext = run_context(environment)
        self._due: float | None = None

    def wait_time(self) -> float:
        """Think time (closed model) or time until this user's next slot (open model)."""
        schedule = self.harness.schedule
        if schedule is None:
            scenario = self.harness.scenario
            return self.harness.rng.uniform(scenario.wait_min_s, scenario.wait_max_s)
        self._due = schedule.next_due()
        return max(0.0, self._due - time.time())

    def emit(self, rec: Record) -> None:
        self.harness.recorder.emit(rec)

    def send(
        self, method: str, service: str, template: str, *, path: str | None = None,
        query: Mapping[str, Any] | None = None, auth: str = "none", traffic: str = "normal",
        headers: Mapping[str, str] | None = None, **kwargs: Any,
    ) -> ResponseContextManager:
        """One request with ``catch_response``: the caller marks it (``judge``, ``mark_expected``)."""
        url = self.harness.profile.url(service, path if path is not None else template)
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query)
        context: dict[str, Any] = {"service": service, "traffic": traffic}
        if self._due is not None:
            context["due"], self._due = self._due, None
        sent_headers = {**self.harness.credentials.headers(service, auth), **(headers or {})}
        return self.client.request(
            method, url, name=request_name(service, method, template, traffic), headers=sent_headers,
            catch_response=True, context=context, **kwargs,
        )

    def checked_call(self, call_name: str, **values: Any) -> None:
        """The business call ``call_name``, judged by the profile's good statuses for it."""
        with self.call(call_name, **values) as response:
            judge(response, self.harness.profile.calls[call_name].ok_statuses)

    def call(self, call_name: str, *, traffic: str = "normal", auth: str | None = None,
             headers: Mapping[str, str] | None = None, **values: Any) -> ResponseContextManager:
        """The profile's business call ``call_name`` with its placeholders filled from ``values``."""
        spec = self.harness.profile.calls[call_name]
        json_body = fill(spec.json_body, values) if spec.json_body is not None else None
        extra = {"json": json_body} if json_body is not None else {}
        return self.send(
            spec.method, spec.service, spec.path, path=fill(spec.path, values), query=fill(spec.query, values),
            auth=auth or spec.auth, traffic=traffic, headers=headers, **extra,
        )
