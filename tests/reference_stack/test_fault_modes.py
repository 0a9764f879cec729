"""Switches that make the stack play a deployment with rough edges, observed from outside over real HTTP.

A 500 that closes the keep-alive connection (seen on a raw socket, since an HTTP client hides it),
a login that fails for its first seconds, a slow start, and one slow request in N on one route.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from reference_stack import StackHandle, parse_fault_args, running_stack
from tests.reference_stack.intended_client import bearer, own_token, peer_token

LOGIN = {"username": "admin", "password": "test"}
Answer = tuple[int, dict[str, str], bytes]


def _read_answer(sock: socket.socket) -> Answer | None:
    """One HTTP/1.1 answer with a Content-Length body, or None when the server closed or reset instead."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        while len(body) < int(headers["content-length"]):
            chunk = sock.recv(65536)
            if not chunk:
                return None
            body += chunk
    except (ConnectionResetError, BrokenPipeError):
        return None
    return int(lines[0].split()[1]), headers, body


class KeepAlive:
    """A raw keep-alive connection: requests one after another on the same socket, as a pooled client sends them."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = f"{parts.hostname}:{parts.port}"
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=5)

    def get(self, path: str, token: str) -> Answer | None:
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n\r\n"
        try:
            self.sock.sendall(request.encode())
        except (ConnectionResetError, BrokenPipeError):
            return None
        return _read_answer(self.sock)

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize(("mode", "closes"), [("unhandled", True), ("handled", False)])
def test_an_unhandled_500_ends_the_keep_alive_connection(stack: StackHandle, mode: str, closes: bool) -> None:
    stack.set_fault("deposito", error_rate=0.5, error_mode=mode)
    token = own_token(stack, "deposito")
    first = KeepAlive(stack.services["deposito"])
    try:
        assert first.get("/productos", token) is not None  # credit 0.5: answered 200
        failed = first.get("/productos", token)
        assert failed is not None
        status, headers, body = failed
        assert (status, body) == (500, b'{"detail":"Internal server error"}')
        assert "close" not in headers.get("connection", "")  # nothing tells the client the connection ends
        after = first.get("/productos", token)
        assert (after is None) == closes
    finally:
        first.close()
    stack.clear_faults("deposito")
    second = KeepAlive(stack.services["deposito"])
    try:
        fresh = second.get("/productos", token)
        assert fresh is not None and fresh[0] == 200  # a new connection is served
    finally:
        second.close()


def test_a_forged_token_500_closes_the_connection_in_unhandled_mode(stack: StackHandle) -> None:
    stack.set_fault("negocio", jwt_invalid_500=True, error_mode="unhandled")
    probe = KeepAlive(stack.services["negocio"])
    try:
        answer = probe.get("/api/productos", peer_token(stack, "ml"))
        assert answer is not None and answer[0] == 500
        assert probe.get("/api/productos", own_token(stack, "negocio")) is None
    finally:
        probe.close()
    assert httpx.get(stack.services["negocio"] + "/api/productos", headers=bearer(own_token(stack, "negocio"))).status_code == 200


def _first_ok(call: Callable[[], int], start: float, limit_s: float) -> tuple[float, set[int]]:
    """Seconds from ``start`` until ``call`` first answers 200, and every other status seen before."""
    seen: set[int] = set()
    while time.monotonic() - start < limit_s:
        status = call()
        if status == 200:
            return time.monotonic() - start, seen
        seen.add(status)
        time.sleep(0.05)
    raise AssertionError(f"still failing after {limit_s} s ({seen})")


def login(url: str) -> Callable[[], int]:
    return lambda: httpx.post(url + "/auth/login", json=LOGIN, timeout=5).status_code


@pytest.mark.parametrize("status", [503, 500])
def test_login_fails_for_its_seconds_then_works(stack: StackHandle, status: int) -> None:
    url = stack.services["negocio"]
    set_at = time.monotonic()
    stack.set_fault("negocio", login_fail_for_s=1.0, login_fail_status=status)
    assert httpx.get(url + "/health").status_code == 200
    assert httpx.get(url + "/api/productos", headers=bearer(own_token(stack, "negocio"))).status_code == 200
    took, seen = _first_ok(login(url), set_at, 4.0)
    assert seen == {status} and 0.9 <= took < 1.6


def test_setting_another_switch_keeps_the_login_failures_clock(stack: StackHandle) -> None:
    url = stack.services["ml"]
    set_at = time.monotonic()
    stack.set_fault("ml", login_fail_for_s=1.2)
    time.sleep(0.6)
    stack.set_fault("ml", health_failing=True)  # the same login_fail_for_s is sent again: its clock goes on
    took, _ = _first_ok(login(url), set_at, 4.0)
    assert 1.1 <= took < 1.7


def test_login_failure_and_slow_start_set_at_start_count_from_the_start(tmp_path: Path) -> None:
    window_s = 3.0
    faults = parse_fault_args([f"deposito.login_fail_for_s={window_s}", f"ml.slow_start_s={window_s}"])
    started = time.monotonic()
    with running_stack(tmp_path, services=("deposito", "ml"), gateway=False, faults=faults) as lone:
        up = time.monotonic()  # the launcher did not wait out the slow start: ml answered, if only 503
        deposito, ml = lone.services["deposito"], lone.services["ml"]
        assert httpx.get(deposito + "/health").status_code == 200
        calls = {"login": login(deposito), "ml health": lambda: httpx.get(ml + "/health", timeout=5).status_code}
        first_ok: dict[str, float] = {}
        while len(first_ok) < len(calls) and time.monotonic() - up < window_s + 3:
            for name, call in calls.items():
                if name not in first_ok:
                    status = call()
                    assert status in (200, 503), (name, status)
                    if status == 200:
                        first_ok[name] = time.monotonic()
            time.sleep(0.05)
        assert set(first_ok) == set(calls)
        for name, at in first_ok.items():
            assert window_s <= at - started and at - up < window_s + 0.5, (name, at - started, at - up)
            assert at - up > 0.2, f"{name} answered at once: the switch did nothing"


def test_a_latency_share_slows_exactly_that_share_of_one_route(stack: StackHandle) -> None:
    stack.set_fault("deposito", latency=[{"ms": 300, "route": "/productos", "share": 0.25},
                                         {"ms": 100, "route": "/productos"}])
    headers = bearer(own_token(stack, "deposito"))
    with httpx.Client(base_url=stack.services["deposito"], headers=headers, timeout=10) as client:
        took = [client.get("/productos").elapsed.total_seconds() for _ in range(8)]
        other = client.get("/productos/3").elapsed.total_seconds()
    slow = [i for i, t in enumerate(took) if t >= 0.3]
    assert slow == [3, 7], took
    assert all(0.1 <= t < 0.25 for i, t in enumerate(took) if i not in slow), took
    assert other < 0.1


def test_the_as_built_agents_cross_agent_500_closes_the_connection_in_unhandled_mode(tmp_path: Path) -> None:
    faults = parse_fault_args(["deposito.error_mode=unhandled"])
    with running_stack(tmp_path, contract="as-built", services=("deposito",), gateway=False, faults=faults) as lone:
        probe = KeepAlive(lone.services["deposito"])
        try:
            answer = probe.get("/productos", peer_token(lone, "negocio"))  # the real code's AttributeError
            assert answer is not None and answer[0] == 500 and b"internal_error" in answer[2]
            assert probe.get("/productos", peer_token(lone, "negocio")) is None
        finally:
            probe.close()
