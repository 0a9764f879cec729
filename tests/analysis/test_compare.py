"""Baseline comparison from the histograms: Mann-Whitney U, Hodges-Lehmann, two-proportion test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import mannwhitneyu

from analysis import compare_runs, comparison_verdict, load_results
from analysis._compare import hodges_lehmann_ms, mann_whitney_p, two_proportion_p
from analysis._sketches import merge_bins
from tests.analysis.conftest import NORMAL, RunBuilder, sketch_of


def run_with(results: Path, *, scale: float = 1.0, error: int = 0, seconds: int = 30, seed: int = 1) -> Path:
    rng = np.random.default_rng(seed)
    run = RunBuilder(results)
    for second in range(seconds):
        latencies = (rng.lognormal(np.log(20.0), 0.3, 50) * scale).tolist()
        run.window(second, ok=50 - error, error=error, latency_ms=latencies)
    return run.close()


def row_of(tmp_path: Path, **current: float) -> object:
    baseline = load_results(run_with(tmp_path / "a"))
    after = load_results(run_with(tmp_path / "b", seed=2, **current))  # type: ignore[arg-type]
    [row] = compare_runs(baseline, after).rows
    return row


def test_identical_runs_are_no_change(tmp_path: Path) -> None:
    run_with(tmp_path / "a")
    data = load_results(tmp_path / "a")
    [row] = compare_runs(data, load_results(run_with(tmp_path / "b"))).rows
    assert (row.name, row.change, row.p_value, row.shift_ms, row.error_p_value) == (NORMAL, "no_change", 1.0, 0.0, 1.0)


def test_same_distribution_other_samples_is_no_change(tmp_path: Path) -> None:
    assert row_of(tmp_path).change == "no_change"  # type: ignore[attr-defined]


def test_thirty_percent_slower_is_a_regression(tmp_path: Path) -> None:
    row = row_of(tmp_path, scale=1.3)
    assert row.change == "regression"  # type: ignore[attr-defined]
    assert row.p_value < 1e-6  # type: ignore[attr-defined]
    assert 0.25 < row.shift_ratio < 0.35  # type: ignore[attr-defined]


def test_thirty_percent_faster_is_an_improvement(tmp_path: Path) -> None:
    assert row_of(tmp_path, scale=0.7).change == "improvement"  # type: ignore[attr-defined]


def test_significant_shift_inside_the_tolerance_is_no_change(tmp_path: Path) -> None:
    row = row_of(tmp_path, scale=1.05)
    assert row.p_value < 0.05  # type: ignore[attr-defined]
    assert row.change == "no_change"  # type: ignore[attr-defined]


def test_error_rate_rise_is_a_regression(tmp_path: Path) -> None:
    row = row_of(tmp_path, error=5)  # 0 % -> 10 %
    assert (row.change, row.error_rate_before, row.error_rate_after) == ("regression", 0.0, 0.1)  # type: ignore[attr-defined]
    assert row.error_p_value < 1e-6  # type: ignore[attr-defined]


def test_regression_verdict_holds_with_one_rule_per_name(tmp_path: Path) -> None:
    baseline = load_results(run_with(tmp_path / "a"))
    current = load_results(run_with(tmp_path / "b", scale=1.3, seed=2))
    verdict = comparison_verdict(baseline, current, compare_runs(baseline, current))
    assert (verdict.verdict, verdict.exit_code) == ("HOLD", 3)
    [rule] = verdict.rules
    assert (rule.id, rule.kind, rule.status) == ("compare_deposito_get_productos_id", "comparison", "FAIL")
    assert rule.summary.startswith("regression: latency shift +")


def test_too_few_requests_is_no_data(tmp_path: Path) -> None:
    run = RunBuilder(tmp_path / "a")
    run.window(0, ok=10)  # fewer than min_count = 20
    baseline = load_results(run.close())
    verdict = comparison_verdict(baseline, baseline, compare_runs(baseline, baseline, tolerance=0.2))
    assert verdict.rules[0].status == "NO_DATA"
    assert verdict.comparison.tolerance["latency_tolerance"] == 0.2  # type: ignore[union-attr]


@pytest.mark.parametrize("shift", [1.0, 1.02, 1.2])
def test_binned_mann_whitney_equals_scipy_on_the_expanded_samples(shift: float) -> None:
    rng = np.random.default_rng(5)
    x = rng.lognormal(np.log(20.0), 0.4, 300)
    y = rng.lognormal(np.log(20.0), 0.4, 250) * shift
    bx, by = merge_bins([sketch_of(x)]), merge_bins([sketch_of(y)])
    ex, ey = np.repeat(bx.values_ms(), bx.counts.astype(int)), np.repeat(by.values_ms(), by.counts.astype(int))
    expected = mannwhitneyu(ex, ey, method="asymptotic").pvalue
    assert mann_whitney_p(bx, by) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    exact_hl = float(np.median(ey[:, None] - ex[None, :]))
    assert hodges_lehmann_ms(bx, by) == pytest.approx(exact_hl, abs=0.5)


def test_two_proportion_test() -> None:
    assert two_proportion_p(0, 100, 0, 100) == 1.0
    assert two_proportion_p(10, 1000, 10, 1000) == 1.0
    assert two_proportion_p(10, 1000, 40, 1000) < 1e-4


def test_compare_without_data_on_a_side_is_no_data_and_holds(tmp_path: Path) -> None:
    """The real CLI: a current run with no request at all (or none in common) is no PROMOTE."""
    baseline = run_with(tmp_path / "a")
    empty = RunBuilder(tmp_path / "empty")
    empty.header()
    empty.end(at=5)
    other = RunBuilder(tmp_path / "other")
    other.windows(0, 30, name="negocio GET /ventas", ok=30)
    for current in (empty.close(), other.close()):
        done = subprocess.run([sys.executable, "-m", "stagegate", "compare", str(baseline), str(current)],
                              check=False, capture_output=True, text=True, timeout=120)
        assert done.returncode == 3, done.stdout + done.stderr
        verdict = json.loads((current / "comparison" / "verdict.json").read_text())
        assert verdict["verdict"] == "HOLD"
        assert [(r["id"], r["status"]) for r in verdict["rules"]] == [("compare_data", "NO_DATA")]
    swapped = subprocess.run([sys.executable, "-m", "stagegate", "compare", str(tmp_path / "empty"), str(baseline)],
                             check=False, capture_output=True, text=True, timeout=120)
    assert swapped.returncode == 3, swapped.stdout + swapped.stderr
