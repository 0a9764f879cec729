"""Invoice uploads: the multipart body the OCR route wants (built once per file and kept), and the
``OcrOutcome`` record of each upload.

FastHttpUser sends raw bodies, so the multipart encoding is done here (urllib3's encoder, which
Locust already depends on). Heavy invoices are tens of megabytes: each file is read once per process.
"""

from __future__ import annotations

from functools import lru_cache

from urllib3.filepost import encode_multipart_formdata

from scenarios.load.run_context import InvoiceFile
from scenarios.target.classify import Classified
from scenarios.target.profiles import OcrSpec
from stagegate_core.stream import OcrOutcome, OcrResult, ocr_record

CACHED_BODIES = 16


def ocr_outcome(invoice: InvoiceFile, started: float, status: int | None, latency_s: float,
                answer: Classified[OcrResult]) -> OcrOutcome:
    """The stream record of one upload to the OCR route."""
    return ocr_record(
        started, invoice=invoice.path.name, invoice_kind=invoice.kind, size_bytes=invoice.size_bytes,
        status=status, latency_ms=round(latency_s * 1000.0, 3), result=answer.result, detail=answer.detail,
    )


def multipart(ocr: OcrSpec, invoice: InvoiceFile) -> tuple[bytes, str]:
    """``(body, content type)`` of an upload of ``invoice`` in the profile's field, with its extra form."""
    return _encoded(ocr.field, tuple(sorted(ocr.extra_form.items())), invoice)


@lru_cache(maxsize=CACHED_BODIES)
def _encoded(field: str, extra: tuple[tuple[str, str], ...], invoice: InvoiceFile) -> tuple[bytes, str]:
    content = invoice.path.read_bytes()
    fields: dict[str, str | tuple[str, bytes, str]] = {field: (invoice.path.name, content, invoice.content_type)}
    fields.update(extra)
    body, content_type = encode_multipart_formdata(fields)
    return body, content_type
