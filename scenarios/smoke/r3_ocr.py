"""§9 R3: a heavy invoice posted straight to negocio is cut off at the OCR timeout with a 504.

The 504 must come between the timeout and timeout + grace, and negocio must keep answering its
health route meanwhile; a 413 means the body limit stopped the
invoice before OCR (a finding: the timeout was never exercised); a 404 means the route is not
served; anything else, or no answer by timeout + grace, is a failure. One normal invoice goes
first and must be processed, never time out. Route, field and format come from the profile
(the as-built route wants images). Each answer is classified by ``scenarios.target.classify.classify_ocr``,
as the load's uploads are; an upload whose connection failed (refused, reset) is a ``transport``
outcome, and the check says it could not look (NO_DATA) rather than judge it.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from generators import InvoiceFile, generate_invoices
from scenarios.smoke.context import SmokeContext
from scenarios.smoke.exchange import Exchange
from scenarios.smoke.outcome import CheckOutcome, FindingDraft
from scenarios.smoke.registry import smoke_check
from scenarios.target.classify import Classified, classify_ocr, hostile_refusals
from scenarios.target.profiles import OcrSpec
from stagegate_core.stream import OcrResult, Record, ocr_record

CHECK = "r3_ocr_timeout"
SECTION = "§9 R3"
CLIENT_MARGIN_S = 2.0
"""How long past timeout + grace the client waits before calling it "no answer"."""
INVOICE_SEED = 11
BODY_QUOTE_CHARS = 80
BUSY_PROBE_DELAY_S = 2.0
"""When, at the latest, smoke asks negocio's health while the heavy invoice is in OCR (half the timeout if sooner)."""
BUSY_PROBE_LIMIT_S = 2.0
"""How long that health answer may take: the service must keep serving other routes (docs/contract.md §5)."""


def classify(exchange: Exchange, invoice: InvoiceFile, timeout_s: float, grace_s: float,
             spec: OcrSpec) -> Classified[OcrResult]:
    """The upload's answer, classified as the load classifies it; a failure's detail quotes the body."""
    answer = classify_ocr(exchange.status, exchange.elapsed_ms / 1000, timeout_s=timeout_s, grace_s=grace_s,
                           timeout_status=spec.timeout_status, size_bytes=invoice.bytes,
                           body_limit_bytes=spec.app_body_limit_bytes, kind=invoice.kind,
                           refusals=hostile_refusals(invoice.kind, invoice.expected.statuses),
                           exception=exchange.exception)
    if answer.failure and exchange.body:
        return replace(answer, detail=f"{answer.detail}: {exchange.excerpt(BODY_QUOTE_CHARS)}")
    return answer


def _post(context: SmokeContext, spec: OcrSpec, invoice: InvoiceFile, path: Path, timeout_s: float) -> Exchange:
    files = {spec.field: (invoice.name, path.read_bytes(), invoice.media_type)}
    form = dict(spec.extra_form)
    if invoice.emitter_cuit and "proveedor_cuit" not in form:
        form["proveedor_cuit"] = invoice.emitter_cuit
    return context.request("POST", context.profile.url(spec.service, spec.path),
                           label=f"{invoice.kind} invoice {invoice.name} ({invoice.bytes} bytes)",
                           headers=context.bearer(spec.service), files=files, data=form, timeout_s=timeout_s)


def _problems_for(result: str, detail: str, exchange: Exchange, invoice: InvoiceFile, spec: OcrSpec,
                  problems: list[str], findings: list[FindingDraft]) -> None:
    where = f"POST {spec.path}"
    if invoice.kind == "normal":
        if result != "processed":
            problems.append(f"normal invoice: {detail}")
        return
    if result == "timeout_ok":
        return
    if exchange.status == 404:
        problems.append(f"route {spec.path} does not exist (404)")
        findings.append(FindingDraft("ocr_route_missing", SECTION, "critical",
                                     f"R3: route {spec.path} does not exist (404)",
                                     f"{exchange.request} -> 404; {spec.missing or 'the OCR route is not served'}",
                                     "docs/as-built.md §4, §10" if spec.missing else "checklist §9"))
    elif result == "body_limit":
        problems.append(f"heavy invoice: {detail}")
        findings.append(FindingDraft("ocr_body_limit", SECTION, "major",
                                     f"R3: the heavy invoice ({invoice.bytes} bytes) got 413, so the OCR timeout "
                                     "was never exercised", f"{where} -> 413", "checklist §9, docs/contract.md §5"))
    else:
        problems.append(f"heavy invoice: no timely {spec.timeout_status} ({detail})")
        answer = f"answered {exchange.status}" if exchange.answered else f"got no answer ({exchange.error})"
        findings.append(FindingDraft("ocr_no_timeout", SECTION, "critical",
                                     f"R3: heavy invoice {answer} instead of {spec.timeout_status} at the OCR "
                                     "timeout",
                                     f"{where}: {detail}" + (f"; {spec.timeout_missing}" if spec.timeout_missing
                                                             else ""),
                                     "docs/as-built.md §2.2, §4" if spec.timeout_missing else "checklist §9"))


@functools.cache
def invoices(fmt: Literal["pdf", "image"], app_limit_bytes: int) -> tuple[Path, InvoiceFile, InvoiceFile]:
    """A normal and a heavy invoice, written once per process (same seed, same bytes) and removed at exit."""
    directory = Path(tempfile.mkdtemp(prefix="stagegate-smoke-invoices-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    manifest = generate_invoices(directory, kinds=("normal", "heavy"), fmt=fmt, seed=INVOICE_SEED,
                                 app_limit_bytes=app_limit_bytes)
    return directory, manifest.of_kind("normal")[0], manifest.of_kind("heavy")[0]


def _while_busy(context: SmokeContext, spec: OcrSpec) -> Exchange:
    """negocio's health route, asked while the heavy invoice is in OCR: it must keep answering."""
    health = context.profile.services[spec.service]
    headers = context.bearer(spec.service) if health.health_auth == "jwt" else None
    return context.request("GET", context.profile.url(spec.service, health.health_path),
                           label=f"{spec.service} health while the heavy invoice is in OCR", headers=headers,
                           timeout_s=BUSY_PROBE_LIMIT_S)


def _heavy_with_side_probe(context: SmokeContext, spec: OcrSpec, invoice: InvoiceFile, path: Path,
                           timeout_s: float, grace_s: float, problems: list[str],
                           evidence: list[dict[str, Any]]) -> Exchange:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="smoke-heavy") as pool:
        upload = pool.submit(_post, context, spec, invoice, path, timeout_s + grace_s + CLIENT_MARGIN_S)
        time.sleep(min(timeout_s / 2, BUSY_PROBE_DELAY_S))
        side = _while_busy(context, spec) if not upload.done() else None
        exchange = upload.result()
    if side is not None:
        ok = side.status in context.profile.services[spec.service].health_ok_statuses
        evidence.append(side.evidence(ok=ok))
        if not ok:
            problems.append(f"{spec.service} stopped answering while OCR ran ({side.outcome()} on "
                            f"{context.profile.services[spec.service].health_path})")
    return exchange


@smoke_check(CHECK, SECTION, order=9, label="R3 OCR timeout", when="background")
def check_ocr_timeout(context: SmokeContext) -> CheckOutcome:
    spec = context.profile.ocr
    timeout_s, grace_s = context.ocr_timeout_s(), context.ocr_grace_s()
    evidence: list[dict[str, Any]] = []
    problems: list[str] = []
    findings: list[FindingDraft] = []
    records: list[Record] = []
    unreachable: list[str] = []
    directory, normal, heavy = invoices(spec.upload_format, spec.app_body_limit_bytes)
    for invoice in (normal, heavy):
        path = directory / invoice.name
        if invoice.kind == "heavy":
            exchange = _heavy_with_side_probe(context, spec, invoice, path, timeout_s, grace_s, problems, evidence)
        else:
            exchange = _post(context, spec, invoice, path, timeout_s + grace_s + CLIENT_MARGIN_S)
        answer = classify(exchange, invoice, timeout_s, grace_s, spec)
        result, detail = answer.result, answer.detail
        evidence.append(exchange.evidence(result=result, detail=detail))
        records.append(ocr_record(time.time(), invoice=invoice.name, invoice_kind=invoice.kind,
                              size_bytes=invoice.bytes, status=exchange.status,
                              latency_ms=round(exchange.elapsed_ms, 1), result=result, detail=detail))
        if result == "transport":
            unreachable += context.unreachable([exchange])
            break
        _problems_for(result, detail, exchange, invoice, spec, problems, findings)
        if invoice.kind == "heavy" and exchange.status == spec.timeout_status:
            context.provoked["ocr_timeouts"] = context.provoked.get("ocr_timeouts", 0) + 1
            context.provoked["5xx"] = context.provoked.get("5xx", 0) + 1
    return CheckOutcome.from_problems(CHECK, SECTION, problems=problems, evidence=evidence, findings=findings,
                              records=records, could_not_look=unreachable,
                              ok_summary=f"heavy invoice cut at the timeout: {evidence[-1]['detail']}; "
                                         f"{spec.service} kept answering meanwhile; normal invoice processed")
