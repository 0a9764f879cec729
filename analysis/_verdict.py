"""The verdict and its evidence: ``Verdict.model_dump(mode="json")`` is exactly ``verdict.json`` (schema 1).

Every report (JSON, JUnit, Markdown, HTML) renders from these models and nothing else, so the ids,
statuses and figures a CI system shows are the ones the verdict was decided on.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from stagegate_core.errors import EXIT_HOLD, EXIT_PROMOTE, EXIT_ROLLBACK
from stagegate_core.stream import EndReason, FindingFields

SCHEMA = 1

RuleStatus = Literal["PASS", "WARN", "FAIL", "NO_DATA"]
Role = Literal["rollback", "completion", "alert"]
"""``rollback``: a FAIL rolls back. ``completion``: all must PASS to promote. ``alert``: WARN only."""
VerdictName = Literal["PROMOTE", "HOLD", "ROLLBACK"]
Change = Literal["regression", "improvement", "no_change"]

EXIT_CODES: dict[str, int] = {"PROMOTE": EXIT_PROMOTE, "ROLLBACK": EXIT_ROLLBACK, "HOLD": EXIT_HOLD}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


class Span(_Model):
    """A stretch of time where a rule broke (or a value worth drawing), epoch seconds."""

    start: float
    end: float
    value: float | None = None
    label: str = ""


class Evidence(_Model):
    """Why a rule has its status: key figures, time spans, offending cases or requests."""

    values: dict[str, Any] = Field(default_factory=dict)
    spans: list[Span] = Field(default_factory=list)
    items: list[dict[str, Any]] = Field(default_factory=list)


class RuleResult(_Model):
    """One rule of the rules file, judged on one run."""

    id: str
    title: str
    kind: str
    role: Role
    status: RuleStatus
    summary: str
    threshold: dict[str, Any] = Field(default_factory=dict)
    evidence: Evidence = Field(default_factory=Evidence)
    section: str = ""


FindingOut = FindingFields
"""A gap between the deployment and the checklist: the stream's ``finding`` record without ``kind``, ``v``, ``t``."""


class RequestRow(_Model):
    """Totals of one request series over the whole run, percentiles from the merged sketches."""

    name: str
    service: str
    traffic: str
    count: int
    ok: int
    errors: int
    expected: int
    transport: int = 0
    """Requests that got no answer (refused, reset, transport timeout): in ``count``, in no rate or latency."""
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    rps: float


class CapacityStep(_Model):
    """One step of a step-shape run: users held, throughput reached, and whether every SLO held."""

    users: int
    start: float
    end: float
    rps: float
    p95_ms: float | None
    error_rate: float
    ok: bool
    broken_by: str | None = None


class Capacity(_Model):
    """The knee: the highest step at which every SLO held, and what broke above it."""

    knee_users: int | None
    knee_rps: float | None
    broken_by: str | None
    steps: list[CapacityStep]
    require_rps: float | None = None
    passed: bool | None = None


class ComparisonRow(_Model):
    """One request name compared between a baseline run and the current one."""

    name: str
    change: Change
    p_value: float | None
    shift_ms: float | None
    shift_ratio: float | None
    error_rate_before: float | None
    error_rate_after: float | None
    error_p_value: float | None
    count_before: int = 0
    count_after: int = 0


class Comparison(_Model):
    """A baseline comparison (``stagegate compare``)."""

    baseline: str
    current: str
    tolerance: dict[str, float] = Field(default_factory=dict)
    rows: list[ComparisonRow]


class RunInfo(_Model):
    """What was run, where and when, from the stream's run headers and run ends (never secrets)."""

    run_id: str | None
    results_dir: str
    profile: str | None
    contract: Literal["intended", "as-built"] | None = None
    scenario: str | None
    targets: dict[str, str] = Field(default_factory=dict)
    started_at: float | None
    ended_at: float | None
    duration_s: float | None
    end_reason: EndReason | None
    stagegate_version: str | None
    git_commit: str | None
    settings: dict[str, Any] = Field(default_factory=dict)


class Verdict(_Model):
    """The gate's decision with its evidence.

    ``verdict``/``exit_code``: ROLLBACK (1) when any ``rollback`` rule FAILs; PROMOTE (0) when
    every ``completion`` rule PASSes and every ``rollback`` rule had data; HOLD (3) otherwise. ``alert`` rules only WARN. ``reasons``
    lists, in plain words, the failures and the rules without data. ``notes`` names stream
    problems (``locust.jsonl:812: line is cut short ...``). ``capacity`` and ``comparison`` are set
    only by a capacity analysis or a baseline comparison.
    """

    schema_version: int = Field(default=SCHEMA, alias="schema")
    verdict: VerdictName
    exit_code: int
    reasons: list[str] = Field(default_factory=list)
    run: RunInfo
    rules: list[RuleResult] = Field(default_factory=list)
    findings: list[FindingOut] = Field(default_factory=list)
    requests: list[RequestRow] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    capacity: Capacity | None = None
    comparison: Comparison | None = None


def decide(rules: list[RuleResult]) -> tuple[VerdictName, int, list[str]]:
    """The verdict, its exit code and its reasons from judged rules (see ``Verdict``)."""
    rollback = [r for r in rules if r.role == "rollback" and r.status == "FAIL"]
    if rollback:
        return "ROLLBACK", EXIT_CODES["ROLLBACK"], [_reason(r) for r in rollback]
    blocking = [
        r for r in rules
        if (r.role == "completion" and r.status != "PASS") or (r.role == "rollback" and r.status == "NO_DATA")
    ]
    if blocking:
        return "HOLD", EXIT_CODES["HOLD"], [_reason(r) for r in blocking]
    return "PROMOTE", EXIT_CODES["PROMOTE"], []


def _reason(rule: RuleResult) -> str:
    what = "no data" if rule.status == "NO_DATA" else rule.status
    return f"{rule.id} ({what}): {rule.summary}"
