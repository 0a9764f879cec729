"""report.html from synthetic results: every part present, nothing external, missing parts said."""

from __future__ import annotations

import re
from pathlib import Path

from analysis import Verdict, load_results
from analysis._reports import html
from tests.reports.synthetic import (
    TARGETS,
    full_rules,
    full_verdict,
    rule,
    write_header_only,
    write_long_run,
)

CHARTS = ("chart-rps", "chart-error-rate", "chart-p95", "chart-health", "chart-ocr-outcomes",
          "chart-ocr-scatter", "chart-jwt", "chart-capacity", "chart-comparison")


def written(results: Path, verdict: Verdict) -> str:
    html.write(verdict, load_results(results), results / "report.html")
    return (results / "report.html").read_text(encoding="utf-8")


def test_report_shows_the_verdict_every_rule_finding_and_chart(full_run):
    results, verdict = full_run
    page = written(results, verdict)
    assert '<header class="banner ROLLBACK"' in page
    assert "jwt_forged_accepted (FAIL): 1 forged token accepted by negocio" in page
    for r in verdict.rules:
        assert f'id="rule-{r.id}"' in page
    for f in verdict.findings:
        assert f'id="finding-{f["id"]}"' in page
    for chart in CHARTS:
        assert page.count(f'data-chart="{chart}"') == 1, chart
    assert page.count("<svg") == len(CHARTS)
    for fact in ("checklist-v0.10.0", "steady", "2 min 0 s", "19d2c7a", "stagegate 0.1.0",
                 "2026-11-27 22:55:00 UTC", "2026-11-27 22:57:00 UTC"):
        assert fact in page


def test_rules_are_listed_failing_first_and_findings_by_section(full_run):
    results, verdict = full_run
    page = written(results, verdict)
    order = re.findall(r'id="rule-([a-z_0-9]+)"', page)
    assert order == ["jwt_forged_accepted", "p95_normal", "p95_per_route", "ledger_consistent", "error_rate_alert",
                     "error_rate_sustained", "health_streak", "jwt_wrong_rejection"]
    sections = re.findall(r"<h3>(§[^<]+)</h3>", page)
    assert sections == ["§6 Health Checks", "§8 R2", "§9 R3"]


def test_thresholds_and_chaos_are_drawn_with_their_labels(full_run):
    results, verdict = full_run
    page = written(results, verdict)
    assert "error_rate_alert (alert): 5 %" in page
    assert "error_rate_sustained (rollback): 10 %" in page
    assert "p95_normal (completion): 500 ms" in page
    assert "OCR timeout 30 s (checklist default)" in page
    assert " kill_negocio<" in page
    assert "step-2: pause ml (not reverted)" in page
    assert "<li>t: 0:05 · case_id: alg_none_lower · target: negocio · status: 200</li>" in page
    assert "<li>0:40–1:10: error rate 20 %</li>" in page
    assert "negocio down 40 s" in page
    assert '<span class="pill have">chaos 4</span>' in page


def test_page_has_no_script_and_no_external_url(full_run):
    results, verdict = full_run
    page = written(results, verdict)
    for forbidden in ('src="http', 'href="http', "url(http", "@import", "<script", "<link", "<iframe", "<img"):
        assert forbidden not in page.lower(), forbidden
    assert set(re.findall(r"https?://[^\s<\"']+", page)) <= set(TARGETS.values())


def test_locust_files_and_outputs_are_relative_links(full_run):
    results, verdict = full_run
    (results / "verdict.json").write_text(verdict.model_dump_json())
    page = written(results, verdict)
    assert '<a href="locust.html">locust.html</a>' in page
    assert '<a href="locust_stats.csv">locust_stats.csv</a>' in page
    assert '<a href="verdict.json">verdict.json</a>' in page
    assert '<a href="chaos.jsonl">chaos.jsonl</a> · <a href="locust.jsonl">locust.jsonl</a>' in page
    assert 'href="report.html"' not in page


def test_secrets_never_reach_the_page(tmp_path):
    results = write_header_only(tmp_path / "run")
    verdict = full_verdict(results)
    verdict.run.targets["deposito"] = "http://stage:hunter2@127.0.0.1:8001/?api_key=k3y#frag"
    page = written(results, verdict)
    assert "hunter2" not in page and "k3y" not in page and "s3cr3t-admin" not in page
    assert "deposito http://127.0.0.1:8001/" in page
    assert "(hidden)" in page


def test_missing_parts_say_what_is_missing(tmp_path):
    results = write_header_only(tmp_path / "run", producer="smoke")
    rules = [rule("error_rate_sustained", "rollback", "NO_DATA", kind="sustained", summary="no windows")]
    bare = {"findings": [], "requests": [], "notes": []}
    verdict = full_verdict(results, rules=rules).model_copy(update=bare)
    page = written(results, verdict)
    assert '<header class="banner HOLD"' in page
    assert "<svg" not in page
    for sentence in (
        "No request windows were recorded (no locust.jsonl, or the run sent no traffic).",
        "No health records: the health watcher did not run.",
        "No invoice uploads were recorded (no ocr records): the OCR route was not exercised.",
        "No token records: no forged or control token was presented in this run.",
        "No request series in the verdict: the run recorded no request windows.",
        "No capacity analysis: this was not a step-shape run analysed for its knee.",
        "No baseline comparison:",
        "No finding: no gap between the deployment and the checklist was recorded in this run.",
        "No Locust HTML report or CSV files beside this report.",
        '<span class="pill none">request windows 0</span>',
        '<span class="pill none">tokens 0</span>',
    ):
        assert sentence in page, sentence


def test_a_verdict_without_run_data_still_renders(tmp_path):
    verdict = full_verdict(tmp_path, rules=full_rules())
    html.write(verdict, None, tmp_path / "out" / "report.html")
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "No stream records in this results directory, so there is nothing to draw over time." in page
    assert 'id="rule-p95_normal"' in page


def test_promote_banner_says_why(tmp_path):
    results = write_header_only(tmp_path / "run")
    verdict = full_verdict(results, rules=[rule("p95_normal", "completion", "PASS")])
    page = written(results, verdict)
    assert '<header class="banner PROMOTE"' in page
    assert "Every completion criterion passed and no rollback trigger fired." in page


def test_a_30_minute_run_stays_under_3_mb(tmp_path):
    results = write_long_run(tmp_path / "long")
    page = written(results, full_verdict(results))
    assert len(page.encode("utf-8")) < 3_000_000
    assert "Each point covers 3 s" in page
    assert "1500 of 1800 invoices drawn." in page


def test_report_says_what_chaos_set_aside_and_what_got_no_answer(full_run):
    results, verdict = full_run
    page = written(results, verdict)
    row = page[page.index('id="rule-jwt_wrong_rejection"'):]
    row = row[:row.index("</tr>")]
    assert "Set aside during chaos (answers the fault produced, not judged): 4 records" in row
    route = page[page.index('id="rule-p95_per_route"'):]
    route = route[:route.index("</tr>")]
    assert "route_latency" in route and "negocio GET /precios/consultar p95 800 ms" in route
    assert "12 windows" in route and "0 requests" not in route
    assert "<th class=\"num\">No answer</th>" in page
    assert '<td class="num bad">37</td>' in page
