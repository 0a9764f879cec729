"""Requests that get no answer become evidence that says why, never an exception."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

import scenarios.smoke
from scenarios.smoke.exchange import send, unreachable
from tests.conftest import free_port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        yield int(server.getsockname()[1])


def test_refused_and_silent_services_are_named(silent_port: int) -> None:
    client = httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0))
    refused_url = f"http://127.0.0.1:{free_port()}/health"

    refused = send(client, "GET", refused_url, redact=str)
    silent = send(client, "GET", f"http://127.0.0.1:{silent_port}/health", redact=str, timeout_s=0.3)

    assert (refused.status, refused.error) == (None, "connection refused")
    assert (silent.status, silent.error) == (None, "timeout after 0.3 s")
    assert 300 <= silent.elapsed_ms < 2000
    assert unreachable([refused, silent], {"negocio": refused_url.removesuffix("/health")}) == [
        f"negocio ({refused_url.removesuffix('/health')}) unreachable (connection refused)",
        f"http://127.0.0.1:{silent_port} unreachable (timeout after 0.3 s)",
    ]


def test_public_names_are_pinned() -> None:
    assert sorted(scenarios.smoke.__all__) == [
        "CHECK_IDS", "CheckOutcome", "FindingDraft", "RESULTS_FILE", "ResultsDirUnusable", "SmokeCheck", "SmokeReport",
        "TrivyReportInvalid", "declared_checks", "load_trivy_report", "merge_gaps", "run_smoke", "smoke_check"]
