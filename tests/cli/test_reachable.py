"""The gate's reachability probe: "unreachable" only when every service refuses connections.

Real servers on loopback: one answering 500 to everything (a broken deployment), one accepting
connections and never answering (a hung one), and a port nothing listens on (refused). Only the
last is the user's mistake (exit 2); the others are judged by the verdict.
"""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from scenarios.target import resolve as targets
from scenarios.target.resolve import Resolved, ensure_reachable, resolve_profile
from stagegate_core.errors import StagegateError
from tests.conftest import free_port
from tests.loopback import serving

SERVICES = ("deposito", "negocio", "ml", "dashboard", "gateway")


def target(url: str) -> Resolved:
    return resolve_profile("checklist-v0.10.0", ",".join(f"{name}={url}" for name in SERVICES))


class _Failing(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def answering_500() -> Iterator[str]:
    with serving(_Failing) as url:
        yield url


@pytest.fixture
def never_answering() -> Iterator[str]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)  # the kernel accepts connections; nobody ever reads them
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_deployment_answering_5xx_is_reachable_even_with_a_proxy_in_the_environment(
    answering_500: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The load ignores proxy variables (trust_env=False); the probe must too, or a proxy that is
    # down would make a healthy target "unreachable".
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{free_port()}")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    started = time.monotonic()
    ensure_reachable(target(answering_500).profile)
    assert time.monotonic() - started < 2


def test_a_deployment_that_times_out_is_reachable(never_answering: str) -> None:
    started = time.monotonic()
    ensure_reachable(target(never_answering).profile)
    assert targets.REACHABILITY_TIMEOUT_S <= time.monotonic() - started < targets.REACHABILITY_TIMEOUT_S + 2


def test_refused_connections_are_retried_then_unreachable_in_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(StagegateError) as raised:
        ensure_reachable(target(url).profile)
    assert targets.REACHABILITY_RETRY_S <= time.monotonic() - started < targets.REACHABILITY_RETRY_S + 3
    message = str(raised.value)
    assert message.startswith(f"target unreachable: every service refused the connection for 5 s (deposito {url}, ")
    assert message.endswith("Connection refused") and "\n" not in message


def test_a_service_that_comes_up_during_the_retry_is_reachable() -> None:
    port = free_port()
    server: list[http.server.ThreadingHTTPServer] = []

    def start_late() -> None:
        time.sleep(1.5)
        server.append(http.server.ThreadingHTTPServer(("127.0.0.1", port), _Failing))
        server[0].serve_forever()

    threading.Thread(target=start_late, daemon=True).start()
    try:
        started = time.monotonic()
        ensure_reachable(target(f"http://127.0.0.1:{port}").profile)
        assert 1.5 <= time.monotonic() - started < targets.REACHABILITY_RETRY_S
    finally:
        if server:
            server[0].shutdown()
            server[0].server_close()
