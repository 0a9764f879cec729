"""reports/index.html: runs newest first with verdict and key figures, relative links, broken runs shown."""

from __future__ import annotations

import re

import pytest

from analysis import ResultsDirInvalid
from analysis._reports.index import write_index
from analysis._verdict import Evidence, RequestRow
from tests.reports.synthetic import T0, full_rules, full_verdict, rule


def put_run(folder, name, *, start, rules, report=True, requests=()):
    run = folder / name
    run.mkdir()
    verdict = full_verdict(run, rules=rules)
    verdict.run.started_at = start
    verdict.requests.extend(requests)
    (run / "verdict.json").write_text(verdict.model_dump_json(by_alias=True), encoding="utf-8")
    if report:
        (run / "report.html").write_text("<html></html>")
    return verdict


def test_index_lists_runs_newest_first_with_figures_and_relative_links(tmp_path):
    put_run(tmp_path, "a-old", start=T0 - 86_400, rules=[rule("p95_normal", "completion", "PASS")])
    put_run(tmp_path, "c-new", start=T0, rules=full_rules())
    put_run(tmp_path, "b-mid", start=T0 - 3600, rules=full_rules()[2:3], report=False)
    (tmp_path / "not-a-run").mkdir()
    (tmp_path / "not-a-run" / "notes.txt").write_text("x")
    index = write_index(tmp_path)
    page = index.read_text(encoding="utf-8")
    assert index == tmp_path / "index.html"
    assert re.findall(r'id="run-([^"]+)"', page) == ["c-new", "b-mid", "a-old"]
    assert '<a href="c-new/report.html">c-new</a>' in page
    assert '<a href="b-mid/verdict.json">b-mid</a>' in page
    assert "not-a-run" not in page
    for verdict in ("ROLLBACK", "HOLD", "PROMOTE"):
        assert f'<span class="pill {verdict}">{verdict}</span>' in page
    # key figures of c-new: normal traffic 10 req/s, 60 errors of 1200, judged p95 712 ms, 2 min, the reason
    row = page[page.index('id="run-c-new"'):page.index('id="run-b-mid"')]
    for figure in ("10.0", "5.00 %", "712", "2 min 0 s", "jwt_forged_accepted (FAIL): 1 forged token accepted",
                   "p95_normal"):
        assert figure in row, figure
    assert page.count('data-chart="chart-trend"') == 1
    assert "http" not in page and "<script" not in page


P95_THRESHOLD = {"traffic": ["normal"], "stat": "p95_ms", "below": 500}


def test_the_p95_shown_is_the_judged_p95_of_normal_traffic_never_the_slowest_request_name(tmp_path):
    # A PROMOTE whose normal invoice upload is slow on its own (its route has a limit of its own):
    # the index shows the p95 the verdict judged, 312 ms, not that request name's 1,379 ms.
    upload = RequestRow(name="negocio POST /procesar_factura_completa", service="negocio", traffic="normal",
                        count=300, ok=300, errors=0, expected=0, p50_ms=900.0, p95_ms=1379.0, p99_ms=1500.0,
                        max_ms=1600.0, rps=1.0)
    judged = rule("p95_normal", "completion", "PASS", threshold=P95_THRESHOLD,
                  evidence=Evidence(values={"p95_ms": 312.4, "count": 5000}),
                  summary="p95_ms 312.4 ms over 5000 requests; must stay below 500")
    put_run(tmp_path, "promote", start=T0, rules=[judged], requests=[upload])
    # A rules file of one's own names the rule otherwise: the statistic rule on p95_ms of normal traffic
    renamed = rule("latency_normal", "completion", "FAIL", threshold=P95_THRESHOLD,
                   evidence=Evidence(values={"p95_ms": 640.0}), summary="p95_ms 640.0 ms over 900 requests")
    put_run(tmp_path, "renamed", start=T0 - 60, rules=[renamed])
    thin = rule("p95_normal", "completion", "NO_DATA", threshold=P95_THRESHOLD, evidence=Evidence(values={"count": 40}),
                summary="40 answered requests in scope (normal), need 100; must stay below 500")
    put_run(tmp_path, "hold", start=T0 - 120, rules=[thin], requests=[upload])
    page = write_index(tmp_path).read_text(encoding="utf-8")

    promote = page[page.index('id="run-promote"'):page.index('id="run-renamed"')]
    assert '<span class="pill PROMOTE">PROMOTE</span>' in promote
    assert "312" in promote and "1,379" not in promote and "1379" not in promote
    assert 'title="p95_normal: p95_ms 312.4 ms over 5000 requests' in promote
    assert "none" in promote  # a PROMOTE has no reasons

    renamed_row = page[page.index('id="run-renamed"'):page.index('id="run-hold"')]
    assert "640" in renamed_row and "(FAIL)" in renamed_row
    assert "latency_normal (FAIL): p95_ms 640.0 ms over 900 requests" in renamed_row

    hold = page[page.index('id="run-hold"'):]
    assert '<span class="pill HOLD">HOLD</span>' in hold
    assert "no data" in hold and "1,379" not in hold and "1379" not in hold
    assert "p95_normal (no data): 40 answered requests in scope (normal), need 100" in hold


def test_an_unreadable_verdict_is_listed_with_the_reason(tmp_path):
    put_run(tmp_path, "good", start=T0, rules=full_rules())
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "verdict.json").write_text('{"schema": 1, "verdict": "MAYBE"}')
    page = write_index(tmp_path).read_text(encoding="utf-8")
    assert '<span class="pill UNREADABLE">UNREADABLE</span>' in page
    assert "chart-trend" not in page  # one readable run: no trend to draw
    assert "verdict.json is not a stagegate verdict (verdict: Input should be &#39;PROMOTE&#39;" in page


def test_an_empty_folder_says_there_is_no_run(tmp_path):
    page = write_index(tmp_path).read_text(encoding="utf-8")
    assert "No run here yet: no subdirectory of" in page


def test_a_missing_folder_is_one_clear_error(tmp_path):
    with pytest.raises(ResultsDirInvalid) as err:
        write_index(tmp_path / "nope")
    assert str(err.value) == f"{tmp_path / 'nope'}: not a reports directory (missing or not a directory)"
