"""What each answer means for heavy invoices and forged tokens."""

from __future__ import annotations

import pytest

from scenarios._classify import classify_ocr, classify_token, error_class


@pytest.mark.parametrize(("status", "latency_s", "result", "expected", "failure"), [
    (504, 30.4, "timeout_ok", True, False),
    (504, 29.97, "timeout_ok", True, False),  # within the early tolerance
    (504, 36.0, "timeout_late", False, True),
    (504, 2.0, "failure", False, True),
    (200, 12.0, "processed", False, False),
    (500, 1.0, "failure", False, True),
    (None, 65.0, "failure", False, True),
    (415, 0.1, "rejected", False, True),
])
def test_ocr(status: int | None, latency_s: float, result: str, expected: bool, failure: bool) -> None:
    verdict = classify_ocr(status, latency_s, timeout_s=30, grace_s=5)
    assert (verdict.result, verdict.expected, verdict.failure) == (result, expected, failure)


def test_ocr_body_limit_is_expected_only_for_a_body_over_the_limit() -> None:
    assert classify_ocr(413, 0.1, timeout_s=30, grace_s=5, size_bytes=11, body_limit_bytes=10).expected
    assert classify_ocr(413, 0.1, timeout_s=30, grace_s=5, size_bytes=9, body_limit_bytes=10).failure


@pytest.mark.parametrize(("status", "control", "result"), [
    (401, False, "rejected"), (403, False, "rejected"), (200, False, "breach"), (500, False, "wrong_rejection"),
    (404, False, "error"), (None, False, "error"), (200, True, "control_ok"), (401, True, "control_refused"),
])
def test_token(status: int | None, control: bool, result: str) -> None:
    assert classify_token(status, rejected_statuses=[401, 403], control=control).result == result


def test_error_class() -> None:
    assert error_class(503, None) == "status 503"
    assert error_class(0, ConnectionRefusedError()) == "ConnectionRefusedError"
    assert error_class(200, RuntimeError("inflation rate 0.05, expected 0.045")) == "inflation rate 0.05, expected 0.045"


def test_control_accepts_the_probed_calls_own_good_answers() -> None:
    assert classify_token(404, rejected_statuses=[401], control=True, accepted_statuses=[200, 404]).result == "control_ok"


def test_hostile_file_refused_as_it_should_is_expected() -> None:
    verdict = classify_ocr(415, 0.1, timeout_s=30, grace_s=5, refusals=[400, 415])
    assert (verdict.result, verdict.expected, verdict.failure) == ("rejected", True, False)
    assert classify_ocr(500, 0.1, timeout_s=30, grace_s=5, refusals=[400, 415]).result == "failure"
