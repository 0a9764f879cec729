"""The rules file: pydantic models of every rule kind, and ``load_rules``.

A rules file is TOML with one table per rule under ``rules``, keyed by the rule's stable id::

    [rules.error_rate_sustained]
    kind = "sustained"          # which evaluator judges it (one per kind, see analysis/_rules.py)
    role = "rollback"           # rollback | completion | alert
    title = "Error rate above 10 % sustained"
    section = "§15 Rollback"
    traffic = ["normal"]
    above = 0.10
    for_s = 120
    min_count = 200

Every threshold, window and scope is a field here and a value in the file, never a literal in code.
The shipped ``analysis/rules/default.toml`` encodes docs/contract.md §8.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from analysis._errors import RulesInvalid
from analysis._verdict import Role
from stagegate_core.models import FrozenModel
from stagegate_core.tomlfile import load_toml_model

DEFAULT_RULES = Path(__file__).parent / "rules" / "default.toml"

Source = Literal["token", "ocr", "smoke", "finding", "chaos", "health", "ledger"]
"""Record kinds a ``count`` or ``share`` rule can count."""
FilterValue = str | int | float | bool
Filter = dict[str, list[FilterValue]]
"""Field -> accepted values; a record matches when every listed field has one of its values."""

_COMMON = frozenset({"kind", "role", "title", "section", "min_duration_s", "chaos"})
ChaosMode = Literal["set_aside", "include"]
ANSWER_SOURCES = frozenset({"token", "ocr"})
"""Record sources that tell how the deployment answers: set aside inside chaos spans by default."""


class _Rule(FrozenModel):
    """Fields every rule has. ``min_duration_s``: a shorter run gives NO_DATA (e.g. the 30-min window).

    ``chaos``: ``set_aside`` leaves out the records of a chaos step's target inside the step's span
    (the fault produced them); ``include`` judges them. Unset, each kind has its default
    (``CHAOS_DEFAULT``): rules about how the deployment answers set aside, the others include.
    """

    CHAOS_DEFAULT: ClassVar[ChaosMode] = "include"

    kind: str
    role: Role
    title: str
    section: str = ""
    min_duration_s: float = Field(default=0.0, ge=0)
    chaos: ChaosMode | None = None

    def chaos_mode(self) -> ChaosMode:
        """How this rule treats records inside chaos spans (the file's value, else the kind's default)."""
        return self.chaos or self.CHAOS_DEFAULT

    def threshold(self) -> dict[str, Any]:
        """The kind's own settings, shown as-is in the verdict, with the chaos mode in force."""
        return {**self.model_dump(mode="json", exclude=set(_COMMON)), "chaos": self.chaos_mode()}


class _Scoped(_Rule):
    """A scope of request series: traffic classes and/or explicit request names (empty = any)."""

    traffic: list[str] = Field(default_factory=lambda: ["normal"])
    names: list[str] = Field(default_factory=list)


class StatisticRule(_Scoped):
    """A statistic of the whole run over the scope: must stay ``below`` (strict) the value.

    Judged only over ``min_count`` answered requests or more (transport outcomes never count):
    a p95 of 100 samples is the 6th slowest, fewer is one outlier away from another verdict.
    """

    kind: Literal["statistic"]
    CHAOS_DEFAULT: ClassVar[ChaosMode] = "set_aside"
    stat: Literal["p50_ms", "p95_ms", "p99_ms", "max_ms", "error_rate"]
    below: float
    min_count: int = Field(default=100, ge=1)


class SustainedRule(_Scoped):
    """Error rate over the trailing ``for_s`` seconds ``above`` the value, computed every second.

    The rate is error / (ok + error) of the answered requests in scope; a window is judged only
    when it holds at least ``min_count`` of them, so one unlucky second at a few requests per
    second cannot decide (and a real 15 % at 5 req/s is seen at the first full window).
    """

    kind: Literal["sustained"]
    CHAOS_DEFAULT: ClassVar[ChaosMode] = "set_aside"
    above: float = Field(ge=0, le=1)
    for_s: int = Field(gt=0)
    min_count: int = Field(default=200, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _window_s_replaced(cls, data: Any) -> Any:
        if isinstance(data, dict) and "window_s" in data:
            raise ValueError("window_s was replaced: the rate is taken over the trailing for_s seconds, judged "
                             "when they hold min_count answered requests; remove window_s")
        return data


class RouteLatencyRule(_Scoped):
    """The p95 of every request name in scope with ``min_count`` answered requests or more must stay
    below its limit: ``below_by_name[name]`` when given (OCR uploads take seconds), else ``below``."""

    kind: Literal["route_latency"]
    CHAOS_DEFAULT: ClassVar[ChaosMode] = "set_aside"
    below: float = Field(default=500.0, gt=0)
    below_by_name: dict[str, float] = Field(default_factory=dict)
    min_count: int = Field(default=50, ge=1)

    def limit(self, name: str) -> float:
        return self.below_by_name.get(name, self.below)


class _Health(_Rule):
    checks: list[str] = Field(min_length=1)


class HealthStreakRule(_Health):
    """Any listed check failing for more than ``max_s`` seconds in one stretch."""

    kind: Literal["health_streak"]
    max_s: float = Field(gt=0)


class HealthConcurrentRule(_Health):
    """At least ``min_checks`` checks failing at once, each for more than ``after_s`` seconds."""

    kind: Literal["health_concurrent"]
    min_checks: int = Field(ge=2)
    after_s: float = Field(ge=0)


class HealthOkRule(_Health):
    """Every listed check observed, and passing at the end of the run."""

    kind: Literal["health_ok"]


class _Records(_Rule):
    """Records of ``source`` within ``of``: the pool a count or share rule judges.

    Token and OCR records that got no answer (``transport``) are not in the pool, nor those set
    aside during chaos; fewer than ``min_count`` left is NO_DATA. ``service``: the service records
    without their own (OCR uploads) are about, for setting them aside during that service's chaos
    steps (unset: inside any step).
    """

    source: Source
    of: Filter = Field(default_factory=dict)
    where: Filter = Field(min_length=1)
    min_count: int = Field(default=1, ge=1)
    service: str | None = None

    def chaos_mode(self) -> ChaosMode:
        return self.chaos or ("set_aside" if self.source in ANSWER_SOURCES else "include")


class CountRule(_Records):
    """Records of ``source`` within ``of`` that match ``where``: at most ``at_most`` of them.

    With ``require_records`` (default) a pool under ``min_count`` is NO_DATA: nothing was tried.
    """

    kind: Literal["count"]
    at_most: int = Field(default=0, ge=0)
    require_records: bool = True


class ShareRule(_Records):
    """Records of ``source`` within ``of`` that match ``where``: at least ``at_least`` of them (0..1)."""

    kind: Literal["share"]
    at_least: float = Field(ge=0, le=1)


class SmokeRule(_Rule):
    """Smoke results by check id: every listed check PASSes (a missing or skipped one is NO_DATA)."""

    kind: Literal["smoke"]
    checks: list[str] = Field(min_length=1)


class TrivyRule(_Rule):
    """No vulnerability of ``severities``: from the smoke check ``check``, else the file ``report``."""

    kind: Literal["trivy"]
    check: str = "r6_trivy"
    report: str = "trivy.json"
    severities: list[str] = Field(default_factory=lambda: ["CRITICAL", "HIGH"], min_length=1)


class LedgerRule(_Rule):
    """Start snapshot + acknowledged movements == end snapshot, per tracked product.

    A clean ledger PASSes only when it could have caught a corruption: with N unique acknowledged
    movements, one corrupted in ``1 / corruption_share`` is seen with probability
    ``1 - (1 - corruption_share) ** N``; below ``confidence`` it is NO_DATA (0.95 and 0.05 need
    N >= 59). An inconsistency seen is a FAIL however few movements there were.
    """

    kind: Literal["ledger"]
    confidence: float = Field(default=0.95, gt=0, lt=1)
    corruption_share: float = Field(default=0.05, gt=0, lt=1)


class ChaosRecoveryRule(_Rule):
    """Every chaos step's target came back: ``not_recovered`` is a FAIL; a step whose recovery was
    never observed is a FAIL when its target's health check still fails at the end of the data
    (critical service down)."""

    kind: Literal["chaos_recovery"]


class MetricRule(_Rule):
    """A scraped metric reduced over the run (``increase``, ``max`` or ``last``) within a bound."""

    kind: Literal["metric"]
    metric: str
    service: str | None = None
    aggregate: Literal["increase", "max", "last"]
    below: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> MetricRule:
        if (self.below is None) == (self.at_most is None):
            raise ValueError("give exactly one of below, at_most")
        return self


class StreamRule(_Rule):
    """Every stream file complete: readable lines, a run_end per producer, ending ``completed``."""

    kind: Literal["stream"]


Rule = Annotated[
    StatisticRule | SustainedRule | RouteLatencyRule | HealthStreakRule | HealthConcurrentRule | HealthOkRule
    | CountRule | ShareRule | SmokeRule | TrivyRule | LedgerRule | ChaosRecoveryRule | MetricRule | StreamRule,
    Field(discriminator="kind"),
]


RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class CapacitySettings(FrozenModel):
    """How a step-shape run is cut into steps and which SLOs each step must hold.

    ``settle_s``: seconds skipped at the start of each step while users spawn. ``slo``: rules
    judged on each step alone (any kind; statistics suit short steps best).
    """

    settle_s: float = Field(ge=0)
    slo: dict[RuleId, Rule] = Field(min_length=1)


class CompareSettings(FrozenModel):
    """Baseline comparison: significance level and the changes that count as a regression.

    ``latency_tolerance``: relative shift of the Hodges-Lehmann estimate (0.1 = 10 %) below which a
    significant change is still "no change". ``error_rate_tolerance``: absolute error-rate rise
    tolerated. ``min_count``: fewer requests than this in either run gives NO_DATA for that name.
    """

    alpha: float = Field(gt=0, lt=1)
    latency_tolerance: float = Field(ge=0)
    error_rate_tolerance: float = Field(ge=0, le=1)
    min_count: int = Field(ge=1)


class RuleSet(FrozenModel):
    """A rules file: rules by id, judged in file order; optional capacity and compare settings."""

    rules: dict[RuleId, Rule] = Field(min_length=1)
    capacity: CapacitySettings | None = None
    compare: CompareSettings | None = None


def load_rules(path: Path | None = None) -> RuleSet:
    """The rules of ``path`` (the shipped default when None); ``RulesInvalid`` names file, key and problem."""
    return load_toml_model(Path(path) if path is not None else DEFAULT_RULES, RuleSet, RulesInvalid)
