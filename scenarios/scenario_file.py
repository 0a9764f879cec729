"""The scenario file: task weights of a shop's day and the load shapes, as validated data.

The shipped file is ``scenarios/scenario_files/shop_day.toml``; ``--scenario-file`` points at
another one with the same layout. It is loaded with ``load_toml_model``, so a bad file fails in one
line naming the key before Locust starts.
"""

from __future__ import annotations

import contextlib
import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import Field

from scenarios.scenario_errors import PlanInvalid
from stagegate_core.models import MAX_COUNT, MAX_DURATION_S, FrozenModel
from stagegate_core.tomlfile import load_toml_model

SCENARIO_DIR = Path(__file__).parent / "scenario_files"
DEFAULT_SCENARIO_FILE = SCENARIO_DIR / "shop_day.toml"
SHAPES = ("smoke", "steady", "spike", "soak", "step")
DEFAULT_SHAPE = "steady"
TASKS: dict[str, tuple[str, ...]] = {
    "deposito": ("product_get", "product_list", "stock_update", "stock_critical"),
    "negocio": ("price_lookup", "negocio_products", "ocr_normal"),
    "ml": ("predict",),
    "dashboard": ("page", "api", "metrics"),
}
"""Tasks each service user knows; the scenario file gives them weights."""
Count = Annotated[int, Field(le=MAX_COUNT)]  # below 0: said by _problem, in its words


class Stage(FrozenModel):
    """Hold ``users`` (spawning or stopping at ``spawn_rate`` per second) for ``duration_s``."""

    duration_s: float = Field(gt=0, le=MAX_DURATION_S)
    users: int = Field(ge=0, le=MAX_COUNT)
    spawn_rate: float = Field(gt=0, le=MAX_COUNT)


class ShapeSpec(FrozenModel):
    description: str = ""
    stages: list[Stage] = Field(min_length=1)


class Actors(FrozenModel):
    """Fixed-count users: exactly this many in the whole run, also across workers."""

    health_watcher: int = Field(1, ge=0, le=1)
    heavy_invoice: int = Field(1, ge=0, le=MAX_COUNT)
    token_forger: int = Field(1, ge=0, le=MAX_COUNT)


class ScenarioFile(FrozenModel):
    description: str = ""
    wait_min_s: float = Field(0.5, ge=0, le=MAX_DURATION_S)
    wait_max_s: float = Field(2.0, ge=0, le=MAX_DURATION_S)
    health_interval_s: float = Field(2.0, gt=0, le=MAX_DURATION_S)
    ledger_products: int = Field(8, ge=0, le=MAX_COUNT)
    """How many products the ledger check tracks: the first ones discovery found on the deployment."""
    users: dict[str, Count]
    actors: Actors = Field(default_factory=lambda: Actors.model_validate({}))
    tasks: dict[str, dict[str, Count]]
    shapes: dict[str, ShapeSpec]


def _old_layout(data: object) -> str | None:
    """A problem with a file written for an older stagegate, in words that say how to update it."""
    products = data.get("ledger_products") if isinstance(data, dict) else None
    if isinstance(products, list):
        return (f"ledger_products: now a count of discovered products to track, not a list of ids "
                f"(the deployment's own products are used); write ledger_products = {len(products)}")
    return None


def _problem(scenario: ScenarioFile) -> str | None:
    """The first name the file uses that no user knows, as ``key: problem``."""
    if scenario.wait_max_s < scenario.wait_min_s:
        return f"wait_max_s: must be >= wait_min_s (got {scenario.wait_max_s})"
    for service, weight in scenario.users.items():
        if service not in TASKS:
            return f"users.{service}: unknown service (known: {', '.join(TASKS)})"
        if weight < 0:
            return f"users.{service}: must be >= 0 (got {weight})"
    for service, tasks in scenario.tasks.items():
        if service not in TASKS:
            return f"tasks.{service}: unknown service (known: {', '.join(TASKS)})"
        for task, weight in tasks.items():
            if task not in TASKS[service]:
                return f"tasks.{service}.{task}: unknown task (known: {', '.join(TASKS[service])})"
            if weight < 0:
                return f"tasks.{service}.{task}: must be >= 0 (got {weight})"
    missing = [name for name in SHAPES if name not in scenario.shapes]
    return f"shapes: missing {', '.join(missing)}" if missing else None


def load_scenario_file(path: Path | None = None) -> ScenarioFile:
    """The scenario file at ``path`` (the shipped one by default); ``PlanInvalid`` in one line if bad."""
    path = path or DEFAULT_SCENARIO_FILE
    with contextlib.suppress(OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):  # load_toml_model says those
        old = _old_layout(tomllib.loads(path.read_text(encoding="utf-8")))
        if old:
            raise PlanInvalid(f"{path.name}: {old}")
    scenario = load_toml_model(path, ScenarioFile, PlanInvalid)
    problem = _problem(scenario)
    if problem:
        raise PlanInvalid(f"{path.name}: {problem}")
    return scenario
