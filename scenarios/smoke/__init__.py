"""``stagegate smoke``: the staging checklist's validation steps (§6-§14) as fast checks.

Each check family lives in its own module and returns a ``CheckOutcome`` (status, summary,
evidence, findings); ``run_smoke`` runs them all once and writes ``smoke.jsonl``. Plain httpx and
the Docker SDK only, so the CLI stays free of Locust and gevent. Usage::

    resolved = resolve_profile("as-built", "local")
    report = run_smoke(resolved, results_dir=Path("results/smoke"), trivy_report=None)
    for outcome in report.outcomes:
        print(outcome.check, outcome.status, outcome.summary)
"""

from __future__ import annotations

from scenarios.smoke.outcome import CheckOutcome, FindingDraft
from scenarios.smoke.r6_trivy import TrivyReportInvalid, load_trivy_report
from scenarios.smoke.registry import SmokeCheck, smoke_check
from scenarios.smoke.registry import checks as declared_checks
from scenarios.smoke.runner import (
    CHECK_IDS,
    RESULTS_FILE,
    ResultsDirUnusable,
    SmokeReport,
    merge_gaps,
    run_smoke,
)

__all__ = [
    "CHECK_IDS",
    "RESULTS_FILE",
    "CheckOutcome",
    "FindingDraft",
    "ResultsDirUnusable",
    "SmokeCheck",
    "SmokeReport",
    "TrivyReportInvalid",
    "declared_checks",
    "load_trivy_report",
    "merge_gaps",
    "run_smoke",
    "smoke_check",
]
