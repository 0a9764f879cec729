"""Discovery: the deployment's own products, learnt through the profile's call, fill the load."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reference_stack import StackHandle, running_stack
from scenarios.target.discovery import Discovered, discover
from scenarios.target.profiles import load_profile
from tests.scenarios.conftest import OCR_SECONDS_PER_MB, OCR_TIMEOUT_S, LocustRun, locust
from tests.scenarios.loopback import scripted

PRODUCTS = [{"id": 501, "codigo": "ZZ-501", "nombre": "a"}, {"id": 502, "codigo": "ZZ-502"},
            {"id": 503, "nombre": "no code: skipped"}]


def no_headers(service: str, auth: str) -> dict[str, str]:
    return {}


def profile_at(url: str, **auth: Any) -> Any:
    profile = load_profile("checklist-v0.10.0")
    profile = profile.with_targets({name: url for name in ("deposito", "negocio", "ml", "dashboard")})
    return profile.model_copy(update={"auth": profile.auth.model_copy(update=auth)}) if auth else profile


def test_items_come_from_the_listed_answer_by_the_profiles_fields() -> None:
    seen: list[str] = []

    def answer(method: str, path: str) -> tuple[int, Any]:
        seen.append(f"{method} {path}")
        return 200, {"productos": PRODUCTS, "total": 3}

    with scripted(answer) as url:
        discovered, findings = discover(profile_at(url), no_headers, deadline=time.monotonic() + 5)
    assert seen == ["GET /productos?limit=100"]
    assert discovered.items == {"products": [{"id": 501, "codigo": "ZZ-501"}, {"id": 502, "codigo": "ZZ-502"}]}
    assert findings == []
    price = load_profile("checklist-v0.10.0").calls["price_lookup"]
    assert discovered.values_for(load_profile("checklist-v0.10.0"), price, random.Random(1)) in discovered.items["products"]
    assert Discovered.from_json(discovered.to_json()) == discovered


def test_as_built_lists_active_products_with_its_own_query() -> None:
    seen: list[str] = []

    def answer(method: str, path: str) -> tuple[int, Any]:
        seen.append(path)
        return 200, {"productos": PRODUCTS[:1], "total": 1, "skip": 0, "limit": 100}

    with scripted(answer) as url:
        profile = load_profile("as-built").with_targets({name: url for name in ("deposito", "negocio", "ml", "dashboard")})
        discovered, _ = discover(profile, no_headers, deadline=time.monotonic() + 5)
    assert seen == ["/productos?limit=100&activos_solo=true"]
    assert discovered.first("products") == [{"id": 501, "codigo": "ZZ-501"}]


def test_no_products_is_a_finding_and_no_values() -> None:
    with scripted(lambda method, path: (200, {"productos": [], "total": 0})) as url:
        profile = profile_at(url)
        discovered, findings = discover(profile, no_headers, deadline=time.monotonic() + 5)
    (finding,) = findings
    assert finding.id == "discovery_products_empty"
    assert "price_lookup, product_get, stock_update" in finding.title
    assert "0 listed" in finding.evidence
    assert discovered.values_for(profile, profile.calls["product_get"], random.Random(1)) is None
    assert discovered.values_for(profile, profile.calls["product_list"], random.Random(1)) == {}


def test_a_broken_deployment_is_retried_for_the_budget_then_named() -> None:
    answers = iter([(500, {}), (503, {})] + [(200, {"productos": PRODUCTS})] * 5)
    with scripted(lambda method, path: next(answers)) as url:
        discovered, findings = discover(profile_at(url), no_headers, deadline=time.monotonic() + 10)
    assert findings == [] and len(discovered.first("products")) == 2  # third try: backoff 0.5 s, 1 s

    started = time.monotonic()
    with scripted(lambda method, path: (500, {})) as url:
        discovered, findings = discover(profile_at(url), no_headers, deadline=time.monotonic() + 2)
    assert 1.4 <= time.monotonic() - started < 4
    (finding,) = findings
    assert finding.id == "discovery_products_failed"
    assert finding.evidence == f"deposito GET /productos at {url}/productos answered 500 for 2 s"


# -- the load on a deployment with other products ----------------------------------------------------

@pytest.fixture(scope="module")
def other_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackHandle]:
    """A stack of its own whose every service holds other products than the built-in catalogue."""
    with running_stack(tmp_path_factory.mktemp("other"), gateway=False, ocr_timeout_s=OCR_TIMEOUT_S,
                       ocr_seconds_per_mb=OCR_SECONDS_PER_MB, catalogue="variant:3") as handle:
        yield handle


@pytest.mark.e2e
def test_the_load_uses_the_deployments_own_products(other_stack: StackHandle, tmp_path: Path) -> None:
    run = locust(other_stack, tmp_path / "results", seconds=5)
    assert isinstance(run, LocustRun)
    assert run.returncode == 0, run.output[-3000:]
    windows = [w for w in run.records("window") if w["traffic"] == "normal"]
    by_name = {name: [w for w in windows if w["name"] == name] for name in
               ("deposito GET /productos/{id}", "deposito POST /stock/update", "negocio GET /precios/consultar",
                "ml POST /predict")}
    for name, found in by_name.items():
        assert sum(w["count"] for w in found) > 0, name
        assert sum(w["outcomes"]["error"] for w in found) == 0, (name, [w["errors"] for w in found])
    first_listed = sorted(product.id for product in other_stack.catalogue)[:8]
    assert not set(first_listed) & set(range(1, 41))  # none of the built-in catalogue's ids
    start = run.records("ledger_snapshot")[0]
    assert sorted(map(int, start["stock"])) == first_listed
    assert {entry["producto_id"] for entry in run.records("ledger")} <= set(first_listed)
    changed, acknowledged = run.ledger()
    assert changed == acknowledged


@pytest.mark.e2e
def test_a_deployment_without_products_gets_a_finding_not_404s(tmp_path: Path) -> None:
    with running_stack(tmp_path / "empty", gateway=False, ocr_timeout_s=OCR_TIMEOUT_S,
                       ocr_seconds_per_mb=OCR_SECONDS_PER_MB, catalogue="empty") as empty:
        run = locust(empty, tmp_path / "results", seconds=4)
    assert isinstance(run, LocustRun)
    assert run.returncode == 0, run.output[-3000:]
    (finding,) = run.records("finding")
    assert finding["id"] == "discovery_products_empty" and "0 listed" in finding["evidence"]
    names = {w["name"] for w in run.records("window")}
    assert not names & {"deposito GET /productos/{id}", "deposito POST /stock/update", "negocio GET /precios/consultar",
                        "ml POST /predict"}
    assert "deposito GET /productos" in names  # what needs no product still runs
    assert [s["stock"] for s in run.records("ledger_snapshot")] == [{}, {}]
    assert run.records("ledger") == []
    assert run.records()[-1]["reason"] == "completed"
