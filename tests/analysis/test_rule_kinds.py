"""Each rule kind is declared once (``@rule_kind`` on its evaluator); the verdict, the live abort,
``stagegate smoke`` and the report read the declaration."""

from __future__ import annotations

import typing

import analysis
from analysis._ruleset import Rule


def test_every_model_of_the_rules_file_has_one_declared_kind() -> None:
    union = typing.get_args(typing.get_args(Rule)[0])
    assert {model for model in union} == {kind.model for kind in analysis.RULE_KINDS.values()}
    assert all(kind.kind == kind.model.model_fields["kind"].annotation.__args__[0]
               for kind in analysis.RULE_KINDS.values())


def test_the_declared_properties() -> None:
    kinds = analysis.RULE_KINDS
    assert {k for k, v in kinds.items() if v.live is not None} == {
        "sustained", "health_streak", "health_concurrent", "count", "smoke", "trivy", "ledger", "chaos_recovery"}
    assert {k for k, v in kinds.items() if v.needs_load} == {"statistic", "sustained", "route_latency", "ledger"}
    assert {k: v.chart.chart for k, v in kinds.items() if v.chart is not None} == {
        "sustained": "error-rate", "statistic": "p95"}
