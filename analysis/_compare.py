"""Baseline comparison from the histograms: is the current run slower or more failing than a baseline?

Per request name, as automated canary analysis does (Kayenta's Mann-Whitney judge):

* latency: a Mann-Whitney U test computed exactly on the two merged sketches (each bin is a group
  of tied values, so U, its tie-corrected variance and the normal approximation with continuity
  correction equal scipy's ``mannwhitneyu(method="asymptotic")`` on the expanded samples), and the
  Hodges-Lehmann shift (median of pairwise differences, from 200 quantiles of each side);
* errors: a two-proportion z test on the error rates.

A change is a regression or an improvement only when it is significant (``alpha``) AND larger
than the tolerance of the ``[compare]`` table; otherwise it is no change.
"""

from __future__ import annotations

import math
import re

import numpy as np

from analysis._evaluate import notes as stream_notes
from analysis._evaluate import request_rows, run_info
from analysis._judge import pct
from analysis._load import RunData
from analysis._ruleset import CompareSettings, RuleSet, load_rules
from analysis._sketches import Bins
from analysis._verdict import (
    Change,
    Comparison,
    ComparisonRow,
    Evidence,
    RuleResult,
    RuleStatus,
    Verdict,
    decide,
)

HL_POINTS = 200
"""Quantiles per side for the Hodges-Lehmann estimate (200 x 200 pairwise differences)."""


def _aligned(x: Bins, y: Bins) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both sides' counts on their common sorted keys (zeros as the lowest bin)."""
    keys = np.union1d(x.keys, y.keys)
    cx, cy = np.zeros(keys.size + 1), np.zeros(keys.size + 1)
    cx[1:][np.searchsorted(keys, x.keys)] = x.counts
    cy[1:][np.searchsorted(keys, y.keys)] = y.counts
    cx[0], cy[0] = x.zero, y.zero
    return keys, cx, cy


def mann_whitney_p(x: Bins, y: Bins) -> float:
    """Two-sided p-value of the Mann-Whitney U test between two binned samples."""
    _, cx, cy = _aligned(x, y)
    n1, n2 = cx.sum(), cy.sum()
    n = n1 + n2
    below_y = np.cumsum(cy) - cy
    u1 = float(np.sum(cx * (below_y + 0.5 * cy)))  # pairs where x > y, ties half
    ties = cx + cy
    variance = n1 * n2 / 12 * ((n + 1) - float(np.sum(ties**3 - ties)) / (n * (n - 1)))
    if variance <= 0:
        return 1.0
    u = max(u1, n1 * n2 - u1)
    z = (u - n1 * n2 / 2 - 0.5) / math.sqrt(variance)
    return min(1.0, two_sided_normal_p(z))


def two_sided_normal_p(z: float) -> float:
    """P(|Z| >= z) for a standard normal Z: ``2 * norm.sf(z)`` without importing scipy at run time."""
    return math.erfc(z / math.sqrt(2))


def _quantiles(bins: Bins, levels: np.ndarray) -> np.ndarray:
    values = np.concatenate(([0.0], bins.values_ms()))
    counts = np.concatenate(([bins.zero], bins.counts))
    cumulative = np.cumsum(counts)
    index = np.minimum(np.searchsorted(cumulative, levels * cumulative[-1], side="right"), values.size - 1)
    return np.asarray(values[index], dtype=np.float64)


def hodges_lehmann_ms(x: Bins, y: Bins) -> float:
    """Median of the differences current - baseline over all pairs (approximated by quantiles)."""
    levels = (np.arange(HL_POINTS) + 0.5) / HL_POINTS
    return float(np.median(_quantiles(y, levels)[:, None] - _quantiles(x, levels)[None, :]))


def two_proportion_p(errors1: int, n1: int, errors2: int, n2: int) -> float:
    """Two-sided p-value of the two-proportion z test (1.0 when both rates are 0 or 1)."""
    pooled = (errors1 + errors2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    return two_sided_normal_p(abs(errors2 / n2 - errors1 / n1) / se)


def _row(name: str, before: RunData, after: RunData, settings: CompareSettings) -> ComparisonRow:
    x, y = before.bins(name), after.bins(name)
    n1, n2 = before.series[name].answered, after.series[name].answered  # no-answer outcomes say nothing here
    e1, e2 = before.series[name].outcome("error"), after.series[name].outcome("error")
    if x is None or y is None or min(n1, n2) < settings.min_count or not x.count or not y.count:
        return ComparisonRow(name=name, change="no_change", p_value=None, shift_ms=None, shift_ratio=None,
                             error_rate_before=e1 / n1 if n1 else None, error_rate_after=e2 / n2 if n2 else None,
                             error_p_value=None, count_before=n1, count_after=n2)
    p_value = mann_whitney_p(x, y)
    shift = hodges_lehmann_ms(x, y)
    median = float(_quantiles(x, np.array([0.5]))[0])
    ratio = shift / median if median else 0.0
    error_p = two_proportion_p(e1, n1, e2, n2)
    rise = e2 / n2 - e1 / n1
    significant, error_significant = p_value < settings.alpha, error_p < settings.alpha
    worse = (significant and ratio > settings.latency_tolerance) or (
        error_significant and rise > settings.error_rate_tolerance)
    better = (significant and ratio < -settings.latency_tolerance) or (
        error_significant and -rise > settings.error_rate_tolerance)
    change: Change = "regression" if worse else "improvement" if better else "no_change"
    return ComparisonRow(
        name=name, change=change, p_value=round(p_value, 6), shift_ms=round(shift, 3), shift_ratio=round(ratio, 4),
        error_rate_before=round(e1 / n1, 6), error_rate_after=round(e2 / n2, 6), error_p_value=round(error_p, 6),
        count_before=n1, count_after=n2,
    )


def compare_runs(baseline: RunData, current: RunData, rules: RuleSet | None = None, *,
                 tolerance: float | None = None) -> Comparison:
    """Every request name present in both runs, compared; ``tolerance`` overrides ``latency_tolerance``."""
    settings = (rules.compare if rules and rules.compare else None) or load_rules().compare
    assert settings is not None  # the shipped default has a [compare] table
    if tolerance is not None:
        settings = settings.model_copy(update={"latency_tolerance": tolerance})
    names = sorted(set(baseline.series) & set(current.series))
    return Comparison(
        baseline=str(baseline.results_dir), current=str(current.results_dir),
        tolerance=settings.model_dump(), rows=[_row(n, baseline, current, settings) for n in names],
    )


def _rule_id(name: str) -> str:
    return "compare_" + re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def _as_rule(row: ComparisonRow, settings: dict[str, float]) -> RuleResult:
    if row.p_value is None:
        status: RuleStatus = "NO_DATA"
        summary = f"{row.count_before} → {row.count_after} requests, need {settings['min_count']:g} on each side"
    else:
        status = "FAIL" if row.change == "regression" else "PASS"
        summary = (f"{row.change}: latency shift {row.shift_ms:+.1f} ms ({pct(row.shift_ratio or 0)}, "
                   f"p={row.p_value:.3g}); error rate {pct(row.error_rate_before or 0)} → "
                   f"{pct(row.error_rate_after or 0)} (p={row.error_p_value:.3g})")
    return RuleResult(
        id=_rule_id(row.name), title=f"No regression on {row.name}", kind="comparison", role="completion",
        status=status, summary=summary, threshold=settings, section="Baseline comparison",
        evidence=Evidence(values=row.model_dump(mode="json")),
    )


def _nothing_compared(baseline: RunData, current: RunData, settings: dict[str, float]) -> RuleResult:
    """No request name in both runs: nothing was compared, which is no pass (NO_DATA, so HOLD)."""
    sides = [f"the {side} has {'no request' if not run.series else f'{len(run.series)} request names'}"
             for side, run in (("baseline", baseline), ("current run", current))]
    return RuleResult(
        id="compare_data", title="Both runs have a request to compare", kind="comparison", role="completion",
        status="NO_DATA", summary=f"no request name in both runs ({'; '.join(sides)})", threshold=settings,
        section="Baseline comparison",
        evidence=Evidence(values={"baseline_names": len(baseline.series), "current_names": len(current.series)}),
    )


def comparison_verdict(baseline: RunData, current: RunData, comparison: Comparison) -> Verdict:
    """The comparison as a verdict: one rule per request name; a regression gives HOLD."""
    rules = [_as_rule(row, comparison.tolerance) for row in comparison.rows]
    if not rules:
        rules = [_nothing_compared(baseline, current, comparison.tolerance)]
    verdict, code, reasons = decide(rules)
    only = sorted(set(baseline.series) ^ set(current.series))
    notes = stream_notes(current) + [
        f"{name}: only in the {'baseline' if name in baseline.series else 'current run'}, not compared"
        for name in only
    ]
    return Verdict(verdict=verdict, exit_code=code, reasons=reasons, run=run_info(current), rules=rules,
                   requests=request_rows(current), notes=notes, comparison=comparison)
