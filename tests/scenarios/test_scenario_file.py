"""Bad scenario files fail in one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.scenario_errors import PlanInvalid
from scenarios.scenario_file import DEFAULT_SCENARIO_FILE, load_scenario_file

SHIPPED = DEFAULT_SCENARIO_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize(("change", "message"), [
    (("product_get = 10", "product_fetch = 10"),
     ("day.toml: tasks.deposito.product_fetch: unknown task (known: product_get, product_list, stock_update, "
      "stock_critical)")),
    (("[shapes.step]", "[shapes.steps]"), "day.toml: shapes: missing step"),
    (("wait_max_s = 2.0", "wait_max_s = 0.1"), "day.toml: wait_max_s: must be >= wait_min_s (got 0.1)"),
    (("health_watcher = 1", "health_watcher = 2"),
     "day.toml: actors.health_watcher: Input should be less than or equal to 1 (got 2)"),
    (("ledger_products = 8", "ledger_products = [1, 2, 3, 4, 5]"),
     ("day.toml: ledger_products: now a count of discovered products to track, not a list of ids (the "
     "deployment's own products are used); write ledger_products = 5")),
])
def test_bad_scenario_file(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = tmp_path / "day.toml"
    path.write_text(SHIPPED.replace(*change), encoding="utf-8")
    with pytest.raises(PlanInvalid) as caught:
        load_scenario_file(path)
    assert str(caught.value) == message
