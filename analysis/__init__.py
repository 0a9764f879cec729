"""Judging a results directory: rules as data, windowed evaluators, a three-way verdict, reports.

Public API::

    rules = load_rules()                          # or load_rules(Path("my-rules.toml"))
    data = load_results(Path("results/run1"))     # RunData: records by kind, aggregation helpers
    verdict = evaluate(data, rules)               # Verdict: verdict.json as pydantic models
    write_reports(verdict, Path("results/run1"), data)   # verdict.json, junit.xml, summary.md, report.html
    capacity = analyze_capacity(data, rules, require_rps=300)
    comparison = compare_runs(load_results(a), load_results(b), rules)
    judge = LiveJudge(rules); judge.feed(record)  # rollback triggers while the run goes
"""

from __future__ import annotations

from analysis._capacity import analyze_capacity, with_capacity
from analysis._compare import compare_runs, comparison_verdict
from analysis._errors import AnalysisError, ResultsDirInvalid, RulesInvalid
from analysis._evaluate import evaluate
from analysis._judge import RULE_KINDS, RuleKind
from analysis._live import LiveJudge
from analysis._load import RunData, SecondTotals, Series, load_results
from analysis._reports import write_reports
from analysis._ruleset import DEFAULT_RULES, RuleSet, load_rules
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
    "DEFAULT_RULES",
    "RULE_KINDS",
    "SCHEMA",
    "AnalysisError",
    "Capacity",
    "CapacityStep",
    "Comparison",
    "ComparisonRow",
    "Evidence",
    "FindingOut",
    "LiveJudge",
    "RequestRow",
    "ResultsDirInvalid",
    "RuleKind",
    "RuleResult",
    "RuleSet",
    "RulesInvalid",
    "RunData",
    "RunInfo",
    "SecondTotals",
    "Series",
    "Span",
    "Verdict",
    "analyze_capacity",
    "compare_runs",
    "comparison_verdict",
    "decide",
    "evaluate",
    "load_results",
    "load_rules",
    "with_capacity",
    "write_reports",
]
