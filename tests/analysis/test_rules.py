"""Record rules: token and OCR counts, shares, smoke, Trivy, ledger, metrics, stream completeness."""

from __future__ import annotations

import json
from pathlib import Path

from analysis import evaluate, load_results, load_rules
from analysis._judge import judge_rule
from tests.analysis.conftest import RunBuilder, clean_run

RULES = load_rules()


def judge(results: Path, rule_id: str):
    return judge_rule(rule_id, RULES.rules[rule_id], load_results(results))


def test_one_accepted_forged_token_rolls_back(results: Path) -> None:
    run = clean_run(results)
    run.token(5, "breach", case_id="cross_agent_deposito", target="negocio", status=200)
    verdict = evaluate(run.close(), RULES)
    result = next(r for r in verdict.rules if r.id == "jwt_forged_accepted")
    assert result.status == "FAIL"
    assert result.summary == "1 of 3 token records with result in breach; at most 0"
    [item] = result.evidence.items
    assert (item["case_id"], item["target"], item["status"]) == ("cross_agent_deposito", "negocio", 200)
    assert verdict.verdict == "ROLLBACK"
    assert verdict.reasons == ["jwt_forged_accepted (FAIL): 1 of 3 token records with result in breach; at most 0"]


def test_forged_token_answered_5xx_rolls_back(results: Path) -> None:
    run = clean_run(results)
    run.token(5, "wrong_rejection", status=500)
    assert judge(run.close(), "jwt_wrong_rejection").status == "FAIL"


def test_control_token_refused_holds(results: Path) -> None:
    run = clean_run(results)
    run.token(5, "control_refused", status=401)
    verdict = evaluate(run.close(), RULES)
    assert verdict.verdict == "HOLD"
    assert verdict.reasons[0].startswith("jwt_control_accepted (FAIL): 1 of 3 token records")


def test_no_token_record_is_no_data(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 10)
    result = judge(run.close(), "jwt_forged_accepted")
    assert (result.status, result.summary) == ("NO_DATA", "no token record")


def test_a_504_on_a_normal_invoice_fails(results: Path) -> None:
    run = clean_run(results)
    run.ocr(10, "normal", "failure", 504)
    result = judge(run.close(), "ocr_normal_no_timeout")
    assert result.status == "FAIL"
    assert result.summary == "1 of 2 ocr records with status in 504; at most 0"


def test_heavy_invoice_share(results: Path) -> None:
    run = clean_run(results)
    for at in range(9):
        run.ocr(10 + at, "heavy", "timeout_ok", 504)  # 10 of 11 heavy ones in time: 90.9 %
    run.ocr(30, "heavy", "timeout_late", 504)
    result = judge(run.close(), "ocr_heavy_timeout")
    assert result.status == "PASS"
    assert result.evidence.values["by_outcome"] == {"timeout_ok": 10, "timeout_late": 1}
    run = RunBuilder(results)
    run.ocr(31, "heavy", "failure", 502)  # 10 of 12: 83.3 %
    result = judge(run.close(), "ocr_heavy_timeout")
    assert result.status == "FAIL"
    assert result.summary == "83.3 % (10 of 12) with result in timeout_ok; at least 90.0 %"


def test_doubled_ledger_movement_rolls_back(results: Path) -> None:
    run = clean_run(results)
    run.close()
    lines = (results / "locust.jsonl").read_text().splitlines(keepends=True)
    end = next(i for i, line in enumerate(lines) if '"phase":"end"' in line)
    lines[end] = lines[end].replace('"1":95', '"1":90')  # product 1: -5 acknowledged once, applied twice
    (results / "locust.jsonl").write_text("".join(lines))
    verdict = evaluate(results, RULES)
    result = next(r for r in verdict.rules if r.id == "ledger_consistent")
    assert result.status == "FAIL"
    assert result.evidence.items == [{"producto_id": "1", "start": 100, "acknowledged": -5, "expected": 95, "end": 90,
                                      "difference": -5, "problem": "stock 90, expected 100 -5 = 95 (-5)"}]
    assert verdict.verdict == "ROLLBACK"


def test_lost_ledger_movement_fails(results: Path) -> None:
    run = clean_run(results)
    run.ledger(20, 2, 7, movimiento_id="m99", before=60)  # acknowledged, but the end snapshot says 60
    assert judge(run.close(), "ledger_consistent").status == "FAIL"


def test_replayed_movement_counts_once(results: Path) -> None:
    run = clean_run(results)
    run.ledger(5, 1, -5, movimiento_id="m1", before=100)  # the same acknowledged movement, recorded again
    result = judge(run.close(), "ledger_consistent")
    assert result.status == "PASS"
    assert result.summary == ("60 acknowledged movements match the stock of 2 products; a 1-in-20 corruption would "
                              "be caught with probability 95.4 %")


def test_ledger_without_snapshots_is_no_data(results: Path) -> None:
    run = RunBuilder(results)
    run.ledger(5, 1, -5, movimiento_id="m1", before=100)
    result = judge(run.close(), "ledger_consistent")
    assert (result.status, result.summary) == ("NO_DATA", "missing ledger snapshot: start, end")


def test_smoke_results_by_check_id(results: Path) -> None:
    run = clean_run(results)
    run.smoke(5, "security_headers", "FAIL")  # a re-run replaces the first result
    run.smoke(5, "r1_non_root", "SKIP")
    run.close()
    assert judge(results, "smoke_security_headers").summary == "security_headers: FAIL (security_headers FAIL)"
    assert judge(results, "smoke_security_headers").status == "FAIL"
    assert judge(results, "smoke_r1_non_root").status == "NO_DATA"
    assert judge(results, "smoke_logs").status == "PASS"


def test_trivy_from_smoke_result(results: Path) -> None:
    run = clean_run(results)
    run.smoke(5, "r6_trivy", "FAIL", [{"severity": "CRITICAL", "count": 2}])
    verdict = evaluate(run.close(), RULES)
    result = next(r for r in verdict.rules if r.id == "trivy_critical_high")
    assert (result.status, result.evidence.items) == ("FAIL", [{"severity": "CRITICAL", "count": 2}])
    assert verdict.verdict == "ROLLBACK"


def test_trivy_from_report_file(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 5)
    run.close()
    assert judge(results, "trivy_critical_high").status == "NO_DATA"
    report = {"Results": [{"Target": "img", "Vulnerabilities": [{"Severity": "HIGH"}, {"Severity": "LOW"}]}]}
    (results / "trivy.json").write_text(json.dumps(report))
    result = judge(results, "trivy_critical_high")
    assert (result.status, result.summary) == ("FAIL", "1 HIGH in trivy.json")
    (results / "trivy.json").write_text(json.dumps({"Results": [{"Vulnerabilities": [{"Severity": "LOW"}]}]}))
    assert judge(results, "trivy_critical_high").status == "PASS"
    (results / "trivy.json").write_text("not json")
    assert judge(results, "trivy_critical_high").summary == "trivy.json: not a Trivy JSON report (JSONDecodeError)"


def test_dashboard_errors_growing_fails(results: Path) -> None:
    run = clean_run(results)
    run.metrics(69, dashboard_errors_total=5, dashboard_request_duration_ms_p95=130)
    result = judge(run.close(), "dashboard_errors_not_growing")
    assert result.status == "FAIL"
    assert result.summary == "dashboard_errors_total increase 2 over 3 scrapes; must be at most 0"


def test_dashboard_p95_gauge(results: Path) -> None:
    run = clean_run(results)
    run.metrics(60, dashboard_errors_total=3, dashboard_request_duration_ms_p95=500)
    result = judge(run.close(), "dashboard_p95_gauge")
    assert (result.status, result.evidence.values["max"]) == ("FAIL", 500)


def test_p95_of_normal_traffic_from_the_sketches(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 10, ok=100, latency_ms=[10.0] * 94 + [600.0] * 6)  # 6 % slow: p95 is slow
    run.windows(0, 10, name="negocio POST /procesar_factura_completa", traffic="heavy_invoice", latency_ms=30_000)
    result = judge(run.close(), "p95_normal")
    assert result.status == "FAIL"
    assert abs(result.evidence.values["p95_ms"] - 600) <= 0.6
    assert result.evidence.values["count"] == 1000


def test_critical_finding_holds(results: Path) -> None:
    run = clean_run(results)
    run.write("finding", 5, "smoke", id="ocr_route_missing", section="§9 R3", severity="critical",
              title="OCR route missing", evidence="404", reference="docs/as-built.md §4")
    verdict = evaluate(run.close(), RULES)
    assert verdict.verdict == "HOLD"
    assert [f["id"] for f in verdict.findings] == ["ocr_route_missing"]


def test_chaos_step_that_did_not_recover_rolls_back(results: Path) -> None:
    run = clean_run(results)
    run.write("chaos", 10, "chaos", step_id="pause_negocio", phase="not_recovered", action="pause", target="negocio",
              backend="process", detail="health did not return in 60 s", recovery_s=None)
    assert evaluate(run.close(), RULES).verdict == "ROLLBACK"


def test_aborted_producer_leaves_stream_incomplete(results: Path) -> None:
    run = clean_run(results, end=False)
    run.end(at=70, reason="aborted")
    result = judge(run.close(), "stream_complete")
    assert result.status == "NO_DATA"
    assert result.summary == "2 problem(s), first: *:0: 1 producer(s) without run_end (stopped before finishing)"
