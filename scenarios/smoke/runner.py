"""Run every smoke check once, in the checklist's order, and write them to ``smoke.jsonl``.

The checks are those declared with ``@smoke_check`` (``_registry.py``): the OCR check waits for the
deployment's timeout (30 s in staging), so it is declared to run in a thread beside the others; the
logs check is declared to run last, once everything it looks for has been provoked.
Records are written as each check ends; ``run_end`` closes the file whatever happens, so the
analysis can tell a finished smoke run from a dead one.
"""

from __future__ import annotations

import math
import platform
import subprocess
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

from scenarios.scenario_errors import ScenarioError
from scenarios.smoke.context import SmokeContext, SmokeOptions
from scenarios.smoke.outcome import CheckOutcome, FindingDraft, not_observed_finding
from scenarios.smoke.r6_trivy import load_trivy_report
from scenarios.smoke.registry import checks
from scenarios.target.profiles import AGENTS, Profile
from scenarios.target.resolve import Resolved
from stagegate_core import __version__
from stagegate_core.stream import (
    EndReason,
    RunHeader,
    SmokeResult,
    StreamWriter,
    new_run_id,
    run_end_record,
    run_header_record,
    smoke_record,
)

RESULTS_FILE = "smoke.jsonl"
T = TypeVar("T")

Check = Callable[[SmokeContext], CheckOutcome]
CHECKS: dict[str, Check] = {check.id: check.run for check in checks()}
"""Every declared check by its stable id, in the checklist's order (§6 to §14)."""
CHECK_IDS = tuple(CHECKS)
BACKGROUND = tuple(check.id for check in checks() if check.when == "background")
LAST = tuple(check.id for check in checks() if check.when == "last")


@dataclass
class SmokeReport:
    """What one smoke run found: outcomes in checklist order, findings, and where they were written."""

    outcomes: list[CheckOutcome]
    findings: list[FindingDraft]
    results_file: Path
    duration_s: float
    run_id: str


GAP_OBSERVERS: dict[str, str] = {
    "p95_metric_absent": "metrics",
    "health_needs_jwt": "health",
}
"""Declared gap id -> the check that looks at exactly the fact the gap states. Only that check may
contradict the gap (its ``not_observed``); a gap no check looks at stays declared."""


def merge_gaps(observed: list[FindingDraft], profile: Profile,
               outcomes: Mapping[str, CheckOutcome] | None = None) -> list[FindingDraft]:
    """Observed findings first (one per id), then every gap the profile declares, as this run saw it.

    A gap observed by a check keeps the observation's title and evidence and gains the gap's
    severity and reference, so the report shows what happened and where the contract says so. A
    gap its observer (``GAP_OBSERVERS``) looked for and saw not to hold is reported as
    ``<id>__not_observed``, informational, naming what was seen, never as the gap. A gap no check
    could look at is reported as declared. (A check that contradicts a ``missing`` text of the
    profile writes its own ``not_observed_finding``.)
    """
    outcomes = outcomes or {}
    merged: dict[str, FindingDraft] = {}
    gaps = {gap.id: gap for gap in profile.gaps}
    for finding in observed:
        if finding.id in merged:
            continue
        gap = gaps.get(finding.id)
        if gap is not None:
            finding = FindingDraft(finding.id, gap.section, gap.severity, finding.title, finding.evidence,
                                   gap.reference)
        merged[finding.id] = finding
    for gap in profile.gaps:
        if gap.id in merged:
            continue
        observer = outcomes.get(GAP_OBSERVERS.get(gap.id, ""))
        if observer is not None and gap.id in observer.not_observed:
            merged[gap.id] = not_observed_finding(gap.id, gap.section, gap.title,
                                                  f"{observer.check}: {observer.not_observed[gap.id]}", gap.reference)
        else:
            merged[gap.id] = FindingDraft(gap.id, gap.section, gap.severity, gap.title,
                                          f"declared by profile {profile.name} (this smoke run saw it neither way)",
                                          gap.reference)
    return list(merged.values())


def _git_commit() -> str:
    try:
        result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False,
                                timeout=5, cwd=Path(__file__).parent)
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def _header(run_id: str, profile: Profile, options: SmokeOptions) -> RunHeader:
    return run_header_record(
        time.time(), run_id=run_id, producer="smoke", profile=profile.name, scenario=None,
        targets=profile.targets(), settings={"contract": profile.contract, **options.settings()},
        versions={"stagegate": __version__, "python": platform.python_version(), "git": _git_commit()})


def _smoke_record(outcome: CheckOutcome) -> SmokeResult:
    return smoke_record(time.time(), check=outcome.check, section=outcome.section, status=outcome.status,
                        summary=outcome.summary, evidence=outcome.evidence)


def json_safe(value: T) -> T:
    """``value`` with every non-finite float as a string: a deployment may answer NaN, the stream is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return cast(T, str(value))
    if isinstance(value, dict):
        return cast(T, {key: json_safe(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return cast(T, [json_safe(item) for item in value])
    return value


def _write(writer: StreamWriter, outcome: CheckOutcome) -> None:
    for extra in outcome.records:
        writer.write(json_safe(extra))
    writer.write(json_safe(_smoke_record(outcome)))


class ResultsDirUnusable(ScenarioError):
    """The results directory cannot be created or written."""


def _open_stream(results_dir: Path) -> StreamWriter:
    path = results_dir / RESULTS_FILE
    if path.exists():
        raise ResultsDirUnusable(f"--results-dir: {path} exists already; choose a new directory")
    try:
        return StreamWriter(path)
    except OSError as exc:
        raise ResultsDirUnusable(f"--results-dir: cannot write {path} ({exc.strerror or exc})") from None


def run_smoke(
    resolved: Resolved,
    *,
    results_dir: Path,
    trivy_report: Path | None = None,
    ocr_grace_s: float | None = None,
    ocr_timeout_s: float | None = None,
    on_check: Callable[[CheckOutcome], Any] | None = None,
) -> SmokeReport:
    """Run all checks against ``resolved`` and write ``<results_dir>/smoke.jsonl``.

    Bad input (a missing secret, an unreadable Trivy report, an unusable results directory)
    raises a ``StagegateError`` before any request is sent or file written. ``on_check`` is called
    with each outcome as it ends (live progress).
    """
    options = SmokeOptions(trivy_report=trivy_report, ocr_grace_s=ocr_grace_s, ocr_timeout_s=ocr_timeout_s)
    if options.trivy_report is not None:
        load_trivy_report(options.trivy_report)
    started = time.monotonic()
    run_id = new_run_id("smoke")
    context = SmokeContext.open(resolved, options)
    try:
        with _open_stream(results_dir) as writer:
            writer.write(_header(run_id, resolved.profile, options))
            outcomes, findings = _run_checks(context, writer, on_check)
    finally:
        context.close()
    return SmokeReport([outcomes[check_id] for check_id in CHECK_IDS], findings, results_dir / RESULTS_FILE,
                       time.monotonic() - started, run_id)


def _run_checks(context: SmokeContext, writer: StreamWriter, on_check: Callable[[CheckOutcome], Any] | None,
                ) -> tuple[dict[str, CheckOutcome], list[FindingDraft]]:
    """Every check (R3 in the background, logs last), then the findings; ``run_end`` whatever happens."""
    outcomes: dict[str, CheckOutcome] = {}
    reason: EndReason = "failed"
    try:
        for agent in AGENTS:
            context.tokens.grant(agent)
        with ThreadPoolExecutor(max_workers=max(1, len(BACKGROUND)), thread_name_prefix="smoke-background") as pool:
            background = {check_id: pool.submit(CHECKS[check_id], context) for check_id in BACKGROUND}
            for check_id, check in CHECKS.items():
                if check_id not in (*BACKGROUND, *LAST):
                    outcomes[check_id] = _finish(writer, check(context), on_check)
            for check_id, running in background.items():
                outcomes[check_id] = _finish(writer, running.result(), on_check)
        for check_id in LAST:
            outcomes[check_id] = _finish(writer, CHECKS[check_id](context), on_check)
        findings = merge_gaps([f for check_id in CHECK_IDS for f in outcomes[check_id].findings], context.profile,
                              outcomes)
        for finding in findings:
            writer.write(finding.to_record())
        reason = "completed"
    except KeyboardInterrupt:
        reason = "interrupted"
        raise
    finally:
        writer.write(run_end_record(time.time(), reason=reason, detail=f"{len(outcomes)} of {len(CHECKS)} checks ran"))
    return outcomes, findings


def _finish(writer: StreamWriter, outcome: CheckOutcome,
            on_check: Callable[[CheckOutcome], Any] | None) -> CheckOutcome:
    _write(writer, outcome)
    if on_check is not None:
        on_check(outcome)
    return outcome
