"""Judging a results directory: rules as data, windowed evaluators, a three-way verdict, reports.

Public API::

    data = load_results(Path("results/run1"))   # RunData: records by kind, aggregation helpers
    verdict: Verdict                            # verdict.json as pydantic models (schema 1)
"""

from __future__ import annotations

from analysis._errors import AnalysisError, ResultsDirInvalid, RulesInvalid
from analysis._load import RunData, SecondTotals, Series, load_results
from analysis._verdict import (
    SCHEMA,
    Capacity,
    CapacityStep,
    Comparison,
    ComparisonRow,
    Evidence,
    FindingOut,
    RequestRow,
    RuleResult,
    RunInfo,
    Span,
    Verdict,
    decide,
)

__all__ = [
    "SCHEMA",
    "AnalysisError",
    "Capacity",
    "CapacityStep",
    "Comparison",
    "ComparisonRow",
    "Evidence",
    "FindingOut",
    "RequestRow",
    "ResultsDirInvalid",
    "RuleResult",
    "RulesInvalid",
    "RunData",
    "RunInfo",
    "SecondTotals",
    "Series",
    "Span",
    "Verdict",
    "decide",
    "load_results",
]
