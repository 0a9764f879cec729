from __future__ import annotations

import analysis


def test_public_api_is_pinned() -> None:
    assert sorted(analysis.__all__) == sorted([
        "DEFAULT_RULES", "RULE_KINDS", "RuleKind", "SCHEMA", "AnalysisError", "Capacity", "CapacityStep", "Comparison", "ComparisonRow",
        "Evidence", "FindingOut", "LiveJudge", "RequestRow", "ResultsDirInvalid", "RuleResult", "RuleSet",
        "RulesInvalid", "RunData", "RunInfo", "SecondTotals", "Series", "Span", "Verdict", "analyze_capacity",
        "compare_runs", "comparison_verdict", "decide", "evaluate", "load_results", "load_rules", "with_capacity",
        "write_reports",
    ])
    assert all(hasattr(analysis, name) for name in analysis.__all__)


def test_errors_are_stagegate_errors() -> None:
    from stagegate_core.errors import StagegateError

    assert issubclass(analysis.RulesInvalid, analysis.AnalysisError)
    assert issubclass(analysis.ResultsDirInvalid, analysis.AnalysisError)
    assert issubclass(analysis.AnalysisError, StagegateError)
