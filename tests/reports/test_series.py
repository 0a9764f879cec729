"""What the report draws, reduced from RunData: buckets, p95 from merged sketches, lanes, spans, cells."""

from __future__ import annotations

from analysis import load_results
from analysis._reports import _html_series as series
from tests.reports.synthetic import T0, write_full_run, write_long_run


def test_a_long_run_is_drawn_with_at_most_max_points_and_exact_totals(tmp_path):
    data = load_results(write_long_run(tmp_path / "long", seconds=1800, normal_names=2))
    line = series.timeline(data)
    assert line is not None and line.bucket_s == 3
    traffic = series.traffic(data, line)
    assert traffic is not None
    assert len(traffic.x) == 600 <= series.MAX_POINTS
    total_normal = sum(w["count"] for w in data.windows if w["traffic"] == "normal")
    drawn = sum((ok + err) * line.bucket_width(i)
                for i, (ok, err) in enumerate(zip(traffic.normal_ok_rps, traffic.normal_error_rps, strict=True))
                )
    assert round(drawn) == total_normal


def test_p95_of_a_bucket_merges_the_sketches_of_its_windows(tmp_path):
    data = load_results(write_full_run(tmp_path / "run"))
    line = series.timeline(data)
    assert line is not None and line.bucket_s == 1
    traffic = series.traffic(data, line)
    assert traffic is not None
    # second 65: ten requests at 700..709 ms and two at 15/18 ms -> p95 is the 12 * 0.95 = 11th value, ~708 ms
    assert abs(traffic.p95_ms[65] - 708.0) < 708.0 * 0.002
    assert abs(traffic.p95_ms[10] - 28.0) < 28.0 * 0.002
    assert traffic.error_rate[45] == 2 / 12 and traffic.error_rate[10] == 0.0


def test_health_lanes_chaos_spans_and_token_cells(tmp_path):
    data = load_results(write_full_run(tmp_path / "run"))
    line = series.timeline(data)
    assert line is not None
    negocio = next(lane for lane in series.lanes(data, line) if lane.check == "negocio")
    assert negocio.segments == [(0.0, 50.0, True), (50.0, 90.0, False), (90.0, 120.0, True)]
    assert negocio.down_s == 40.0
    spans = series.chaos_spans(data, line)
    assert [(s.label, s.x0, s.x1, s.reverted, s.recovery_s) for s in spans] == [
        ("kill_negocio", 48.0, 60.0, True, 30.0),
        ("step-2: pause ml", 100.0, 120.0, False, None),
    ]
    matrix = series.token_matrix(data)
    assert matrix is not None
    assert matrix.cases[-1] == "control_valid"
    assert matrix.cells[("alg_none_lower", "negocio")].result == "breach"
    assert matrix.cells[("cross_agent_deposito", "negocio")].statuses == ["500"]
    assert matrix.counts() == {"breach": 1, "wrong_rejection": 1, "rejected": 14, "control_ok": 4}


def test_the_ocr_scatter_keeps_every_heavy_invoice(tmp_path):
    data = load_results(write_full_run(tmp_path / "run"))
    line = series.timeline(data)
    assert line is not None
    ocr = series.ocr(data, line)
    assert ocr is not None
    assert sum(1 for p in ocr.points if p.kind == "heavy") == 6
    assert sum(ocr.counts["heavy"]["timeout_late"]) == 1 and ocr.total == 66
    assert series.timeline(data) is not None and T0 == line.start


def test_forged_case_ids_lose_their_target_to_become_matrix_rows():
    assert series.case_name("alg_none_lower__negocio", "negocio") == "alg_none_lower"
    assert series.case_name("cross_agent__ml_to_negocio", "negocio") == "cross_agent (from ml)"
    assert series.case_name("expired", "negocio") == "expired"
    assert series.case_name("__negocio", "negocio") == "__negocio"
