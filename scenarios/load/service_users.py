"""One user per service, with the tasks of a shop's day; their weights come from the scenario file.

Each task is one business call (``StagegateUser.call``) judged by the profile's good statuses;
the ML task also checks the inflation rate in every answer, and the stock task records each
acknowledged movement for the ledger check.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, cast

from locust.exception import RescheduleTask

from scenarios.load.base_user import StagegateUser, mark_by_status, settle
from scenarios.load.ledger_tracker import ledger_entry
from scenarios.load.uploads import multipart, ocr_outcome
from scenarios.target.classify import classify_ocr, inflation_problem
from scenarios.target.deployment_facts import prometheus_values
from stagegate_core.stream import metrics_record

SALIDA_SHARE = 0.4
"""Share of stock movements that take stock out (the rest bring it in)."""


class DepositoUser(StagegateUser):
    """The warehouse: reads products, lists them, moves stock with idempotency keys."""

    service = "deposito"

    def on_start(self) -> None:
        self._pending: dict[str, Any] | None = None

    def product_get(self) -> None:
        self.checked_call("product_get")

    def product_list(self) -> None:
        self.checked_call("product_list")

    def stock_critical(self) -> None:
        self.checked_call("stock_critical")

    def stock_update(self) -> None:
        """A movement of one of the tracked products (none are sent when discovery found no products)."""
        tracked = self.run_context.tracked_products()
        if not tracked:
            raise RescheduleTask()
        rng = self.run_context.rng
        salida = rng.random() < SALIDA_SHARE
        cantidad = rng.randint(1, 3)
        self._pending = {
            "id": rng.choice(tracked), "tipo": "salida" if salida else "entrada",
            "cantidad": cantidad, "key": f"sg-{uuid.uuid4().hex}",
        }
        self._move(self._pending)
        self._pending = None

    def on_stop(self) -> None:
        """A movement cut off by the end of the run is sent again with its key: the server answers
        the first result if it was applied, so the ledger knows about every applied movement."""
        pending, self._pending = getattr(self, "_pending", None), None
        if pending is not None:
            self._move(pending)

    def _move(self, values: dict[str, Any]) -> None:
        spec = self.run_context.profile.calls["stock_update"]
        with self.call("stock_update", **values) as response:
            if response.status_code == 400 and values["tipo"] == "salida":
                response.success()  # not enough stock on hand: the contract's answer, nothing moved
                return
            if not mark_by_status(response, spec.ok_statuses):
                return
            delta = values["cantidad"] if values["tipo"] == "entrada" else -values["cantidad"]
            body = _json(response)
            self.emit(ledger_entry(time.time(), values["id"], delta, values["key"], body))


class NegocioUser(StagegateUser):
    """The business agent: price lookups, its product list, a normal invoice now and then."""

    service = "negocio"

    def price_lookup(self) -> None:
        self.checked_call("price_lookup")

    def negocio_products(self) -> None:
        self.checked_call("negocio_products")

    def ocr_normal(self) -> None:
        normal = self.run_context.invoices_of("normal")
        if not normal:
            return
        ocr = self.run_context.profile.ocr
        invoice = self.run_context.rng.choice(normal)
        body, content_type = multipart(ocr, invoice)
        started = time.time()
        with self.send("POST", ocr.service, ocr.path, auth="jwt", data=body,
                       headers={"Content-Type": content_type}) as response:
            latency_s = time.time() - started
            status = response.status_code or None
            answer = classify_ocr(status, latency_s, timeout_s=self.run_context.ocr_timeout_s,
                                   grace_s=self.run_context.ocr_grace_s, timeout_status=ocr.timeout_status,
                                   kind="normal", exception=getattr(response, "error", None))
            settle(response, answer, "ocr")  # a normal invoice must be processed: a 504 here is a failure
        self.emit(ocr_outcome(invoice, started, status, latency_s, answer))


class MlUser(StagegateUser):
    """Demand predictions; every answer must carry the configured inflation rate (R4)."""

    service = "ml"

    def predict(self) -> None:
        spec = self.run_context.profile.predict
        sent, body = self.prediction()
        with sent as response:
            if not mark_by_status(response, (200,)):
                return
            problem = inflation_problem(_json(response), body, spec)
            if problem:
                response.failure(problem)


class DashboardUser(StagegateUser):
    """The web dashboard: pages, its JSON API and a Prometheus scrape, with the API key."""

    service = "dashboard"

    def page(self) -> None:
        with self.send("GET", "dashboard", self.run_context.rng.choice(self.run_context.profile.dashboard.pages)) as response:
            mark_by_status(response, (200,))

    def api(self) -> None:
        path = self.run_context.rng.choice(self.run_context.profile.dashboard.api_paths)
        with self.send("GET", "dashboard", path, auth="api_key") as response:
            mark_by_status(response, (200,))

    def metrics(self) -> None:
        """A Prometheus scrape, written as a ``MetricsSample`` so the analysis sees the counters move."""
        spec = self.run_context.profile.dashboard.metrics
        wanted = [name for name in (spec.requests_total, spec.errors_total, spec.p95_ms, spec.uptime_s) if name]
        values: dict[str, float] = {}
        error = None
        with self.send("GET", "dashboard", spec.path, auth="api_key") as response:
            if mark_by_status(response, (200,)):
                try:
                    values = prometheus_values(response.text or "", wanted)
                except ValueError as exc:
                    error = f"not Prometheus text ({exc})"
                    response.failure(error)
            else:
                error = f"status {response.status_code}"
        self.emit(metrics_record(time.time(), service="dashboard", values=values, error=error))


SERVICE_USERS: dict[str, type[StagegateUser]] = {
    "deposito": DepositoUser, "negocio": NegocioUser, "ml": MlUser, "dashboard": DashboardUser,
}


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return cast(dict[str, Any], body) if isinstance(body, dict) else {}
