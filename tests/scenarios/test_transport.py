"""A connection the server closed before answering is retried once on a fresh one; only the final
attempt is recorded. Real geventhttpclient against a real loopback server that resets its
keep-alive connections shortly after each answer (as uvicorn does after an unhandled exception)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from locust.env import Environment
from locust.event import Events

from scenarios.load.base_user import StagegateUser
from scenarios.load.recorder import Recorder
from scenarios.load.run_context import RunContext, attach
from scenarios.scenario_file import load_scenario_file
from scenarios.target.credentials import Credentials
from scenarios.target.profiles import load_profile
from scenarios.target.resolve import Secrets
from tests.scenarios.conftest import FAST_DAY
from tests.scenarios.loopback import closing_after_answer, scripted

REQUESTS = 6
CLOSE_AFTER_S = 0.3
"""The next request leaves well within this, so it is sent on a connection the server then resets."""


class Probe(StagegateUser):
    """A harness user with no tasks: the test sends its requests."""

    service = "deposito"


def user_at(url: str, tmp_path: Path) -> tuple[Probe, Path]:
    environment = Environment(events=Events())
    recorder = Recorder(environment, results_dir=tmp_path / "out", header=None, role="local")
    environment.events.request.add_listener(recorder.on_request)
    profile = load_profile("checklist-v0.10.0").with_targets(
        {name: url for name in ("deposito", "negocio", "ml", "dashboard")})
    attach(environment, RunContext(profile=profile, credentials=Credentials(profile, Secrets({}), None),  # type: ignore[arg-type]
                                   scenario=load_scenario_file(FAST_DAY), recorder=recorder,
                                   ocr_timeout_s=1.0, ocr_grace_s=1.0))
    return Probe(environment), recorder.path  # type: ignore[return-value]


def outcomes(stream: Path) -> dict[str, int]:
    totals: dict[str, int] = {}
    for line in stream.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        if rec["kind"] == "window":
            for key, value in rec["outcomes"].items():
                totals[key] = totals.get(key, 0) + value
    return totals


def post_all(user: Probe, url: str, send: Any) -> None:
    for index in range(REQUESTS):
        with send("POST", f"{url}/stock/update", name="deposito POST /stock/update",
                  json={"idempotency_key": f"k{index}"}, context={"service": "deposito"}) as response:
            if response.status_code == 200:
                response.success()
            else:
                response.failure(f"status {response.status_code}")


def test_without_the_retry_a_reset_connection_fails_the_next_post(tmp_path: Path) -> None:
    with closing_after_answer(CLOSE_AFTER_S) as url:
        user, stream = user_at(url, tmp_path)
        post_all(user, url, lambda *a, **k: user.client.request(*a, catch_response=True, **k))  # Locust's client alone
        user.run_context.recorder.on_quitting()
    seen = outcomes(stream)
    assert seen["transport"] >= REQUESTS // 2 - 1, seen  # every other POST met a reset connection


def test_with_the_retry_every_request_is_answered_and_recorded_once(tmp_path: Path) -> None:
    with closing_after_answer(CLOSE_AFTER_S) as url:
        user, stream = user_at(url, tmp_path)
        post_all(user, url, user.request)
        user.run_context.recorder.on_quitting()
    assert outcomes(stream) == {"ok": REQUESTS, "error": 0, "expected": 0, "transport": 0}


def test_a_reset_after_a_5xx_is_retried_and_the_5xx_is_the_answer(tmp_path: Path) -> None:
    with closing_after_answer(CLOSE_AFTER_S, status=500) as url:
        user, stream = user_at(url, tmp_path)
        post_all(user, url, user.request)
        user.run_context.recorder.on_quitting()
    assert outcomes(stream) == {"ok": 0, "error": REQUESTS, "expected": 0, "transport": 0}


def test_a_refused_connection_is_not_retried_and_is_transport(tmp_path: Path) -> None:
    with scripted(lambda method, path: (200, {})) as url:
        pass  # the port is free again: nothing listens
    hits: list[str] = []
    user, stream = user_at(url, tmp_path)
    user.environment.events.request.add_listener(lambda **kw: hits.append(kw["name"]))
    with user.request("GET", f"{url}/health", name="deposito GET /health", context={"service": "deposito"}) as response:
        response.failure("no answer")
    user.run_context.recorder.on_quitting()
    assert hits == ["deposito GET /health"]
    assert outcomes(stream) == {"ok": 0, "error": 0, "expected": 0, "transport": 1}
