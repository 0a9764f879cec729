"""reports/index.html: runs newest first with verdict and key figures, relative links, broken runs shown."""

from __future__ import annotations

import re

import pytest

from analysis import ResultsDirInvalid
from analysis._reports.index import write_index
from tests.reports.synthetic import T0, full_rules, full_verdict, rule


def put_run(folder, name, *, start, rules, report=True):
    run = folder / name
    run.mkdir()
    verdict = full_verdict(run, rules=rules)
    verdict.run.started_at = start
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
    # key figures of c-new: normal traffic 10 req/s, 60 errors of 1200, p95 705 ms, 2 min
    row = page[page.index('id="run-c-new"'):page.index('id="run-b-mid"')]
    for figure in ("10.0", "5.00 %", "705", "2 min 0 s", "jwt_forged_accepted", "p95_normal"):
        assert figure in row, figure
    assert page.count('data-chart="chart-trend"') == 1
    assert "http" not in page and "<script" not in page


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
