"""What one smoke check concludes: a status, a one-line summary, evidence and findings.

A check returns a ``CheckOutcome``; the runner turns it into the stream's ``SmokeResult`` and
``Finding`` records. Checks build outcomes with ``CheckOutcome.from_problems``, which derives the status
from the problems they found, so "no problem" can never be reported as a failure or the reverse.
What a check looked for and did not find is a problem (FAIL, with the evidence); what it could
not look at (the service unreachable, the scrape refused) is NO_DATA, never a PASS or a FAIL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from stagegate_core.stream import FindingDraft, Record, Severity, Status

__all__ = ["CheckOutcome", "FindingDraft", "Severity", "not_observed_finding"]  # the stream's finding, for the checks

NOT_OBSERVED_SUFFIX = "__not_observed"


def not_observed_finding(gap_id: str, section: str, title: str, seen: str, reference: str = "") -> FindingDraft:
    """A gap the profile declares that this run saw not to hold: ``<gap id>__not_observed``, informational,
    naming what was seen, so the report never states a gap the deployment does not have."""
    return FindingDraft(f"{gap_id}{NOT_OBSERVED_SUFFIX}", section, "info", f"declared gap not observed: {title}",
                        seen, reference)


@dataclass
class CheckOutcome:
    """The result of one check (``check`` is its stable id, ``section`` the checklist section)."""

    check: str
    section: str
    status: Status
    summary: str
    evidence: list[dict[str, Any]] = field(default_factory=list)
    findings: list[FindingDraft] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    """Extra stream records the check produced (``token``, ``ocr``, ``metrics``)."""
    not_observed: dict[str, str] = field(default_factory=dict)
    """Finding ids this check looked for and saw not to hold, with what it saw instead
    (``p95_metric_absent``: the gauge was scraped at 12 ms): a declared gap it contradicts."""

    @classmethod
    def from_problems(
        cls,
        check: str,
        section: str,
        *,
        problems: list[str],
        ok_summary: str,
        evidence: list[dict[str, Any]],
        findings: list[FindingDraft] | None = None,
        records: Sequence[Record] | None = None,
        warnings: list[str] | None = None,
        could_not_look: list[str] | None = None,
        not_observed: dict[str, str] | None = None,
    ) -> CheckOutcome:
        """FAIL listing ``problems`` (and what could not be looked at) when there are any; else NO_DATA
        for ``could_not_look``, WARN for ``warnings``, else PASS (on one line)."""
        if problems:
            status: Status = "FAIL"
            summary = "; ".join([*problems, *(could_not_look or [])])
        elif could_not_look:
            status, summary = "NO_DATA", "could not look: " + "; ".join(could_not_look)
        elif warnings:
            status, summary = "WARN", "; ".join(warnings)
        else:
            status, summary = "PASS", ok_summary
        return cls(check, section, status, " ".join(summary.split()), evidence, list(findings or []),
                   list(records or []), dict(not_observed or {}))
