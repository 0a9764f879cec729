"""What each answer means for heavy invoices, forged tokens and predictions, for smoke and the load alike."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import httpx
import pytest
from geventhttpclient.useragent import UserAgent

from generators import InvoiceFile as GeneratedInvoice
from generators import TokenCase as GeneratorCase
from generators import generate_invoices
from scenarios.load.inputs import load_invoices, load_token_cases
from scenarios.load.run_context import InvoiceFile as LoadInvoice
from scenarios.load.run_context import TokenCase as LoadCase
from scenarios.smoke.exchange import Exchange, send
from scenarios.smoke.r2_jwt import classify as classify_smoke_token
from scenarios.smoke.r2_jwt import probe_route
from scenarios.smoke.r3_ocr import classify as classify_smoke_ocr
from scenarios.target.classify import (
    Classified,
    classify_inflation,
    classify_ocr,
    classify_token,
    error_class,
    inflation_problem,
)
from scenarios.target.deployment_facts import token_catalogue
from scenarios.target.profiles import load_profile
from tests.conftest import free_port


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
    (404, False, "wrong_rejection"), (None, False, "error"), (200, True, "control_ok"), (401, True, "control_refused"),
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


# ---------------------------------------------------------------- one classifier for smoke and the load
#
# The same answer (status, latency, exception, case) goes through the load's path (the arguments the
# Locust users build: ``TokenForgerUser.present``, ``HeavyInvoiceUser``, ``NegocioUser.ocr_normal``)
# and smoke's path (``scenarios.smoke.r2_jwt.classify``, ``scenarios.smoke.r3_ocr.classify``, which
# take smoke's ``Exchange``). Cases, invoices and profile come from the real generators and loaders;
# answers that never came are real: geventhttpclient (the load's client) and httpx (smoke's) against
# loopback servers that refuse, reset, close or stay silent.

PROFILE = load_profile("as-built")
DISCOVERED = {"id": 7001, "codigo": "2000000070014"}
"""What smoke's discovery found on the deployment: it fills the probe's placeholders, as at run time."""
SECRETS = {"JWT_SECRET_KEY": "s" * 32}
FORGER_PROBE_CALLS = {"deposito": ("product_list",), "negocio": ("negocio_products", "price_lookup")}
"""``TokenForgerUser``'s probe calls (``scenarios.load.token_forger.PROBE_CALLS``; that module imports Locust)."""
NO_ANSWER_S = 0.5
Mode = Literal["refused", "reset", "closed", "silent"]


@contextmanager
def misbehaving(mode: Mode) -> Iterator[str]:
    """A loopback URL whose server refuses, resets (RST), closes (FIN) without answering, or never answers."""
    if mode == "refused":
        yield f"http://127.0.0.1:{free_port()}/probe"
        return
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    stop = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            conn.recv(65536)
            if mode == "silent":
                held.append(conn)
                continue
            if mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/probe"
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in held:
            conn.close()
        server.close()


def no_answer(mode: Mode) -> tuple[BaseException, Exchange]:
    """The load's exception (geventhttpclient, as Locust's FastHttpUser gets it) and smoke's exchange."""
    with misbehaving(mode) as url:
        agent = UserAgent(max_retries=1, connection_timeout=NO_ANSWER_S, network_timeout=NO_ANSWER_S)
        try:
            agent.urlopen(url, method="GET")
        except Exception as exc:  # noqa: BLE001 - whatever the load's client raises is the input
            load_exception: BaseException = exc
        else:
            raise AssertionError(f"{mode}: the load's client got an answer")
        with httpx.Client(timeout=NO_ANSWER_S) as client:
            exchange = send(client, "GET", url, redact=str)
    assert exchange.status is None, exchange
    return load_exception, exchange


@pytest.fixture(scope="module")
def catalogue() -> dict[str, tuple[GeneratorCase, LoadCase]]:
    """Every token case, as smoke holds it and as the load's ``load_token_cases`` gives it."""
    built = token_catalogue(PROFILE, SECRETS)
    return {case.id: (case, load) for case, load in zip(built.cases, load_token_cases("", built), strict=True)}


@pytest.fixture(scope="module")
def invoices(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[GeneratedInvoice, LoadInvoice]]:
    """One invoice of each kind and hostile variant, as smoke holds it and as the load's ``load_invoices`` gives it."""
    directory = tmp_path_factory.mktemp("invoices")
    manifest = generate_invoices(directory, kinds=("normal", "heavy", "hostile"), fmt="image", seed=3,
                                 min_size_bytes=200_000, app_limit_bytes=1_000_000)
    loaded = {invoice.path.name: invoice for invoice in load_invoices(directory)}
    return {(item.variant or item.kind): (item, loaded[item.name]) for item in manifest.files}


def load_token(status: int | None, exception: BaseException | None, case: LoadCase, agent: str) -> Classified:
    """As ``TokenForgerUser.present`` classifies: the probe call's ``ok_statuses`` are its good answers."""
    calls = PROFILE.calls
    call = next((n for n in FORGER_PROBE_CALLS.get(agent, ()) if n in calls and not calls[n].missing), None)
    return classify_token(status, rejected_statuses=case.expected_statuses, control=case.control,
                          accepted_statuses=calls[call].ok_statuses if call else (), exception=exception)


def load_ocr(status: int | None, latency_s: float, exception: BaseException | None, invoice: LoadInvoice) -> Classified:
    """As ``HeavyInvoiceUser`` (heavy, hostile) and ``NegocioUser.ocr_normal`` (normal) classify."""
    ocr = PROFILE.ocr
    if invoice.kind == "normal":
        return classify_ocr(status, latency_s, timeout_s=ocr.timeout_s, grace_s=ocr.grace_s,
                            timeout_status=ocr.timeout_status, kind="normal", exception=exception)
    return classify_ocr(status, latency_s, timeout_s=ocr.timeout_s, grace_s=ocr.grace_s,
                        timeout_status=ocr.timeout_status, size_bytes=invoice.size_bytes,
                        body_limit_bytes=ocr.app_body_limit_bytes, refusals=invoice.refusals, kind=invoice.kind,
                        exception=exception)


Answer = int | Mode
"""A status, or how the answer failed to come."""
TOKEN_ROWS: list[tuple[str, str, Answer, str]] = [
    # (case id, agent, answer, result)
    ("cross_agent__deposito_to_negocio", "negocio", 401, "rejected"),
    ("payload_tampered__deposito", "deposito", 403, "rejected"),
    ("cross_agent__negocio_to_deposito", "deposito", 200, "breach"),
    ("cross_agent__deposito_to_negocio", "negocio", 404, "breach"),  # 404 is the as-built lookup's good answer
    ("cross_agent__negocio_to_deposito", "deposito", 404, "wrong_rejection"),  # was load `error`, smoke this
    ("cross_agent__negocio_to_deposito", "deposito", 422, "wrong_rejection"),
    ("cross_agent__negocio_to_ml", "ml", 500, "wrong_rejection"),
    ("control__deposito", "deposito", 200, "control_ok"),
    ("control__negocio", "negocio", 404, "control_ok"),  # the probe's own good answer (accepted_statuses)
    ("control__ml", "ml", 401, "control_refused"),
    ("control__deposito", "deposito", 503, "control_refused"),
    ("cross_agent__deposito_to_negocio", "negocio", "refused", "transport"),
    ("cross_agent__deposito_to_negocio", "negocio", "reset", "transport"),
    ("control__negocio", "negocio", "closed", "transport"),
    ("cross_agent__deposito_to_negocio", "negocio", "silent", "error"),  # took the request, never answered
]
OCR_ROWS: list[tuple[str, Answer, float, str, bool]] = [
    # (invoice kind or hostile variant, answer, latency s, result, expected)
    ("heavy", 504, 30.4, "timeout_ok", True),
    ("heavy", 504, 29.97, "timeout_ok", True),  # 30 s timeout: was load timeout_ok, smoke failure
    ("heavy", 504, 36.0, "timeout_late", False),
    ("heavy", 504, 2.0, "failure", False),
    ("normal", 504, 30.1, "failure", False),  # an ordinary invoice must be processed
    ("normal", 201, 0.4, "processed", False),  # was load failure, smoke processed
    ("heavy", 200, 12.0, "processed", False),
    ("heavy", 413, 0.1, "body_limit", False),  # under the app's limit: a limit in front refused it
    ("oversize", 413, 0.1, "body_limit", True),
    ("not_document", 415, 0.1, "rejected", True),  # hostile refusals
    ("bomb", 422, 0.1, "rejected", True),
    ("heavy", 415, 0.1, "rejected", False),
    ("heavy", 404, 0.1, "failure", False),
    ("heavy", 500, 0.5, "failure", False),
    ("heavy", "refused", 0.0, "transport", False),
    ("heavy", "reset", 0.0, "transport", False),
    ("normal", "silent", 0.0, "failure", False),  # no answer in time: the deployment's failure
]


def _smoke_exchange(answer: Answer, latency_s: float) -> tuple[BaseException | None, Exchange]:
    if isinstance(answer, int):
        return None, Exchange("GET", "http://127.0.0.1:1/probe", answer, latency_s * 1000)
    return no_answer(answer)


@pytest.mark.parametrize(("case_id", "agent", "answer", "result"), TOKEN_ROWS,
                         ids=[f"{r[0]}-{r[2]}" for r in TOKEN_ROWS])
def test_smoke_and_load_classify_a_token_answer_alike(catalogue: dict[str, tuple[GeneratorCase, LoadCase]],
                                                      case_id: str, agent: str, answer: Answer, result: str) -> None:
    smoke_case, load_case = catalogue[case_id]
    assert smoke_case.target == agent
    load_exception, exchange = _smoke_exchange(answer, 0.01)

    load = load_token(exchange.status, load_exception, load_case, agent)
    smoke = classify_smoke_token(smoke_case, exchange, probe_route(PROFILE, agent, DISCOVERED))

    assert (smoke.result, smoke.expected, smoke.failure) == (load.result, load.expected, load.failure)
    assert load.result == result, load


@pytest.mark.parametrize(("invoice", "answer", "latency_s", "result", "expected"), OCR_ROWS,
                         ids=[f"{r[0]}-{r[1]}-{r[2]}" for r in OCR_ROWS])
def test_smoke_and_load_classify_an_upload_answer_alike(invoices: dict[str, tuple[GeneratedInvoice, LoadInvoice]],
                                                        invoice: str, answer: Answer, latency_s: float, result: str,
                                                        expected: bool) -> None:
    smoke_invoice, load_invoice = invoices[invoice]
    load_exception, exchange = _smoke_exchange(answer, latency_s)
    latency = exchange.elapsed_ms / 1000

    load = load_ocr(exchange.status, latency, load_exception, load_invoice)
    smoke = classify_smoke_ocr(exchange, smoke_invoice, PROFILE.ocr.timeout_s, PROFILE.ocr.grace_s, PROFILE.ocr)

    assert (smoke.result, smoke.expected, smoke.failure) == (load.result, load.expected, load.failure)
    assert (load.result, load.expected) == (result, expected), load
    assert not (load.result == "transport" and load.failure), "a transport outcome is never judged"


INFLATION_ROWS: list[tuple[str, dict[str, Any], bool]] = [
    # (profile, prediction body, problem)
    ("as-built", {"contexto_argentino": {"inflacion_mensual_estimada": "4.5%"}}, False),
    ("as-built", {"contexto_argentino": {"inflacion_mensual_estimada": "4.6%"}}, True),
    ("as-built", {"contexto_argentino": {"inflacion_mensual_estimada": "0%"}}, True),
    ("as-built", {"contexto_argentino": {}}, True),
    ("checklist-v0.10.0", {"inflation_rate_monthly": 0.045, "ajuste_inflacion": 0.010322}, False),  # rounded
    ("checklist-v0.10.0", {"inflation_rate_monthly": 0.0452, "ajuste_inflacion": 0.010322}, False),  # was load FAIL
    ("checklist-v0.10.0", {"inflation_rate_monthly": 0.05, "ajuste_inflacion": 0.0114}, True),
    ("checklist-v0.10.0", {"inflation_rate_monthly": 0.045, "ajuste_inflacion": 0.0}, True),
    ("checklist-v0.10.0", {"inflation_rate_monthly": 0.045}, True),
]


@pytest.mark.parametrize(("profile_name", "body", "problem"), INFLATION_ROWS)
def test_smoke_and_load_judge_a_prediction_alike(profile_name: str, body: dict[str, Any], problem: bool) -> None:
    """The load's ``MlUser`` fails the answer on ``inflation_problem``; smoke's R4 FAILs on the same reading."""
    spec = load_profile(profile_name).predict
    load = inflation_problem(body, spec.json_body, spec)
    smoke = classify_inflation(body, spec.json_body, spec)
    assert (load is not None) == bool(smoke.problems) == problem, (load, smoke)
