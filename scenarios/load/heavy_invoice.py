"""``HeavyInvoiceUser``: posts heavy invoices to the OCR route and classifies each answer (R3).

A 504 between the OCR timeout and timeout + grace is what the checklist wants (the app's timeout
works): an ``expected`` outcome, a success for Locust. The other classes are in
``scenarios.target.classify.classify_ocr``; each upload is written as an ``OcrOutcome``.
"""

from __future__ import annotations

import time
from itertools import cycle

from locust import task
from locust.env import Environment

from scenarios.load.base_user import StagegateUser, settle
from scenarios.load.run_context import run_context
from scenarios.load.uploads import multipart, ocr_outcome
from scenarios.target.classify import classify_ocr

CLIENT_TIMEOUT_MARGIN_S = 30.0
"""The client waits this long past timeout + grace, so a late 504 is seen rather than cut by us."""


class HeavyInvoiceUser(StagegateUser):
    """Uploads the heavy (and hostile) invoices of ``--invoices`` one after the other."""

    service = "negocio"
    fixed_count = 1

    def __init__(self, environment: Environment) -> None:
        run = run_context(environment)
        self.network_timeout = run.ocr_timeout_s + run.ocr_grace_s + CLIENT_TIMEOUT_MARGIN_S
        super().__init__(environment)

    def wait_time(self) -> float:
        return 1.0

    def on_start(self) -> None:
        self.invoices = cycle(self.run_context.invoices_of("heavy") + self.run_context.invoices_of("hostile"))

    @task
    def upload_heavy_invoice(self) -> None:
        invoice = next(self.invoices, None)
        if invoice is None:
            return
        ocr = self.run_context.profile.ocr
        body, content_type = multipart(ocr, invoice)
        started = time.time()
        with self.send("POST", ocr.service, ocr.path, auth="jwt", traffic="heavy_invoice", data=body,
                       headers={"Content-Type": content_type}) as response:
            latency_s = time.time() - started
            status = response.status_code or None
            answer = classify_ocr(
                status, latency_s, timeout_s=self.run_context.ocr_timeout_s, grace_s=self.run_context.ocr_grace_s,
                timeout_status=ocr.timeout_status, size_bytes=invoice.size_bytes,
                body_limit_bytes=ocr.app_body_limit_bytes,  # uploads go to the service, not through the gateway
                refusals=invoice.refusals, kind=invoice.kind, exception=getattr(response, "error", None),
            )
            settle(response, answer, "ocr")
        self.emit(ocr_outcome(invoice, started, status, latency_s, answer))
