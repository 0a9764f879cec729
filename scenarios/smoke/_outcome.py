"""What one smoke check concludes: a status, a one-line summary, evidence and findings.

A check returns a ``CheckOutcome``; the runner turns it into the stream's ``SmokeResult`` and
``Finding`` records. Checks build outcomes with ``CheckOutcome.judge``, which derives the status
from the problems they found, so "no problem" can never be reported as a failure or the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from stagegate.stream import Status

Severity = Literal["critical", "major", "minor", "info"]


@dataclass(frozen=True)
class FindingDraft:
    """A gap seen (or declared) between the deployment and the checklist."""

    id: str
    section: str
    severity: Severity
    title: str
    evidence: str
    reference: str = ""


@dataclass
class CheckOutcome:
    """The result of one check (``check`` is its stable id, ``section`` the checklist section)."""

    check: str
    section: str
    status: Status
    summary: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    findings: list[FindingDraft] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    """Extra stream records the check produced (``token``, ``ocr``, ``metrics``)."""

    @classmethod
    def judge(
        cls,
        check: str,
        section: str,
        *,
        problems: list[str],
        ok_summary: str,
        evidence: list[dict[str, Any]],
        findings: list[FindingDraft] | None = None,
        records: list[dict[str, Any]] | None = None,
        warnings: list[str] | None = None,
    ) -> CheckOutcome:
        """FAIL listing ``problems`` when there are any, WARN for ``warnings`` only, else PASS (on one line)."""
        if problems:
            status: Status = "FAIL"
            summary = "; ".join(problems)
        elif warnings:
            status, summary = "WARN", "; ".join(warnings)
        else:
            status, summary = "PASS", ok_summary
        return cls(check, section, status, " ".join(summary.split()), evidence, list(findings or []),
                   list(records or []))
