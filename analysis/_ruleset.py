"""The rules file: pydantic models of every rule kind, and ``load_rules``.

A rules file is TOML with one table per rule under ``rules``, keyed by the rule's stable id::

    [rules.error_rate_sustained]
    kind = "sustained"          # which evaluator judges it (one per kind, see analysis/_rules.py)
    role = "rollback"           # rollback | completion | alert
    title = "Error rate above 10 % sustained"
    section = "§15 Rollback"
    traffic = ["normal"]
    above = 0.10
    window_s = 10
    for_s = 60

Every threshold, window and scope is a field here and a value in the file, never a literal in code.
The shipped ``analysis/rules/default.toml`` encodes intended.md §7.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from analysis._errors import RulesInvalid
from analysis._verdict import Role
from stagegate.tomlfile import load_toml_model

DEFAULT_RULES = Path(__file__).parent / "rules" / "default.toml"

Source = Literal["token", "ocr", "smoke", "finding", "chaos", "health", "ledger"]
"""Record kinds a ``count`` or ``share`` rule can count."""
FilterValue = str | int | float | bool
Filter = dict[str, list[FilterValue]]
"""Field -> accepted values; a record matches when every listed field has one of its values."""

_COMMON = frozenset({"kind", "role", "title", "section", "min_duration_s"})


class _Rule(BaseModel):
    """Fields every rule has. ``min_duration_s``: a shorter run gives NO_DATA (e.g. the 30-min window)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    role: Role
    title: str
    section: str = ""
    min_duration_s: float = Field(default=0.0, ge=0)

    def threshold(self) -> dict[str, Any]:
        """The kind's own settings, shown as-is in the verdict."""
        return self.model_dump(mode="json", exclude=set(_COMMON))


class _Scoped(_Rule):
    """A scope of request series: traffic classes and/or explicit request names (empty = any)."""

    traffic: list[str] = Field(default_factory=lambda: ["normal"])
    names: list[str] = Field(default_factory=list)


class StatisticRule(_Scoped):
    """A statistic of the whole run over the scope: must stay ``below`` (strict) the value."""

    kind: Literal["statistic"]
    stat: Literal["p50_ms", "p95_ms", "p99_ms", "max_ms", "error_rate"]
    below: float
    min_count: int = Field(default=1, ge=1)


class SustainedRule(_Scoped):
    """Error rate over rolling ``window_s`` windows ``above`` the value for ``for_s`` seconds in a row.

    A breach lasts as many seconds as there are consecutive rolling windows above the value (the
    window ending in each second). ``window_s = 1`` judges each one-second recorder window alone;
    longer windows smooth sparse traffic but stretch a breach by up to ``window_s - 1`` seconds.
    """

    kind: Literal["sustained"]
    above: float = Field(ge=0, le=1)
    window_s: int = Field(gt=0)
    for_s: int = Field(gt=0)


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


class CountRule(_Rule):
    """Records of ``source`` within ``of`` that match ``where``: at most ``at_most`` of them.

    With ``require_records`` (default) an empty ``of`` is NO_DATA: nothing was tried.
    """

    kind: Literal["count"]
    source: Source
    of: Filter = Field(default_factory=dict)
    where: Filter = Field(min_length=1)
    at_most: int = Field(default=0, ge=0)
    require_records: bool = True


class ShareRule(_Rule):
    """Records of ``source`` within ``of`` that match ``where``: at least ``at_least`` of them (0..1)."""

    kind: Literal["share"]
    source: Source
    of: Filter = Field(default_factory=dict)
    where: Filter = Field(min_length=1)
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
    """Start snapshot + acknowledged movements == end snapshot, per tracked product."""

    kind: Literal["ledger"]


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
    StatisticRule | SustainedRule | HealthStreakRule | HealthConcurrentRule | HealthOkRule | CountRule
    | ShareRule | SmokeRule | TrivyRule | LedgerRule | MetricRule | StreamRule,
    Field(discriminator="kind"),
]


RuleId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class CapacitySettings(BaseModel):
    """How a step-shape run is cut into steps and which SLOs each step must hold.

    ``settle_s``: seconds skipped at the start of each step while users spawn. ``slo``: rules
    judged on each step alone (any kind; statistics suit short steps best).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    settle_s: float = Field(ge=0)
    slo: dict[RuleId, Rule] = Field(min_length=1)


class CompareSettings(BaseModel):
    """Baseline comparison: significance level and the changes that count as a regression.

    ``latency_tolerance``: relative shift of the Hodges-Lehmann estimate (0.1 = 10 %) below which a
    significant change is still "no change". ``error_rate_tolerance``: absolute error-rate rise
    tolerated. ``min_count``: fewer requests than this in either run gives NO_DATA for that name.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    alpha: float = Field(gt=0, lt=1)
    latency_tolerance: float = Field(ge=0)
    error_rate_tolerance: float = Field(ge=0, le=1)
    min_count: int = Field(ge=1)


class RuleSet(BaseModel):
    """A rules file: rules by id, judged in file order; optional capacity and compare settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: dict[RuleId, Rule] = Field(min_length=1)
    capacity: CapacitySettings | None = None
    compare: CompareSettings | None = None


def load_rules(path: Path | None = None) -> RuleSet:
    """The rules of ``path`` (the shipped default when None); ``RulesInvalid`` names file, key and problem."""
    return load_toml_model(Path(path) if path is not None else DEFAULT_RULES, RuleSet, RulesInvalid)
