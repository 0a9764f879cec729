"""``summary.md``: a short Markdown table for CI step summaries (``$GITHUB_STEP_SUMMARY``)."""

from __future__ import annotations

from pathlib import Path

from analysis._verdict import Verdict
from stagegate_core.atomicfile import write_text_atomic

MARK = {"PASS": "✅ PASS", "WARN": "⚠️ WARN", "FAIL": "❌ FAIL", "NO_DATA": "❔ NO_DATA"}
ORDER = {"FAIL": 0, "NO_DATA": 1, "WARN": 2, "PASS": 3}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(verdict: Verdict) -> str:
    run = verdict.run
    lines = [
        f"## stagegate: {verdict.verdict} (exit {verdict.exit_code})",
        "",
        (f"profile `{run.profile}` · scenario `{run.scenario}` · "
         f"{f'{run.duration_s:.0f} s' if run.duration_s is not None else 'duration unknown'} · run `{run.run_id}`"),
        "",
    ]
    lines += [f"- {_cell(reason)}" for reason in verdict.reasons] + ([""] if verdict.reasons else [])
    lines += ["| status | rule | role | summary |", "|---|---|---|---|"]
    for rule in sorted(verdict.rules, key=lambda r: ORDER[r.status]):
        lines.append(f"| {MARK[rule.status]} | `{rule.id}` | {rule.role} | {_cell(rule.summary)} |")
    if verdict.capacity is not None:
        cap = verdict.capacity
        lines += ["", f"**Capacity**: knee {cap.knee_users} users, {cap.knee_rps} req/s; broken above by "
                  f"`{cap.broken_by}`" + (f"; required {cap.require_rps} req/s: "
                                           f"{'pass' if cap.passed else 'fail'}" if cap.require_rps else "")]
    if verdict.comparison is not None:
        lines += ["", "| request | change | shift ms | p | error rate before → after |", "|---|---|---|---|---|"]
        for row in verdict.comparison.rows:
            lines.append(f"| `{_cell(row.name)}` | {row.change} | {row.shift_ms} | {row.p_value} | "
                         f"{row.error_rate_before} → {row.error_rate_after} |")
    if verdict.notes:
        lines += ["", "Notes:"] + [f"- {_cell(note)}" for note in verdict.notes]
    return "\n".join(lines) + "\n"


def write(verdict: Verdict, path: Path) -> None:
    write_text_atomic(path, render(verdict))
