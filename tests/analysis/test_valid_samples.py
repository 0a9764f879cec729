"""No judgement without valid samples; observed absence; latency per route; chaos spans; segments."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import LiveJudge, evaluate, load_results, load_rules
from analysis._judge import judge_rule
from stagegate_core.stream import read_dir
from tests.analysis.conftest import CHECKS, RunBuilder, clean_run

RULES = load_rules()


def judge(results: Path, rule_id: str):
    return judge_rule(rule_id, RULES.rules[rule_id], load_results(results))


# ---------------------------------------------------------------- every rule on all-transport input


def unreachable_run(results: Path) -> Path:
    """Agents refusing connections: every request, token and upload got no answer."""
    run = RunBuilder(results)
    run.header()
    run.windows(0, 120, ok=0, transport=10)
    run.windows(0, 120, name="negocio GET /precios/consultar", ok=0, transport=5)
    for at in range(162):
        run.token(at % 100, "transport", status=None)
    run.token(3, "error", status=None)  # an older stream's "no answer"
    for at in range(5):
        run.ocr(at, "heavy", "transport", None)
        run.ocr(at, "normal", "transport", None)
    run.snapshot(0, "start", {})
    run.snapshot(119, "end", {})
    return run.close()


@pytest.mark.parametrize(("rule_id", "summary"), [
    ("jwt_forged_accepted", "0 token records to judge, need 1 (163 of 163 got no answer)"),
    ("jwt_wrong_rejection", "0 token records to judge, need 1 (163 of 163 got no answer)"),
    ("jwt_control_accepted", "0 token records to judge, need 1 (163 of 163 got no answer)"),
    ("ocr_heavy_timeout", "0 ocr records with invoice_kind in heavy to judge, need 1 (5 of 5 got no answer)"),
    ("ocr_normal_no_timeout", "0 ocr records with invoice_kind in normal to judge, need 1 (5 of 5 got no answer)"),
    ("p95_normal", ("0 answered requests in scope (traffic normal), need 100; must stay below 500 "
                   "(seen: 0 answered, 1800 without an answer)")),
    ("p95_per_route", ("no route had 50 answered requests (0 routes with >= 50 answered requests judged, 2 with "
                      "fewer not)")),
    ("error_rate_sustained", None),
    ("error_rate_alert", None),
    ("ledger_consistent", "no products to track: the ledger snapshots hold no product in common"),
])
def test_all_transport_is_no_data(results: Path, rule_id: str, summary: str | None) -> None:
    result = judge(unreachable_run(results), rule_id)
    assert result.status == "NO_DATA"
    if summary is not None:
        assert result.summary == summary
    else:
        assert "saw too little: at most 0 answered requests" in result.summary


def test_unreachable_agents_never_promote(results: Path) -> None:
    verdict = evaluate(unreachable_run(results), RULES)
    assert verdict.verdict == "HOLD"
    assert not [r.id for r in verdict.rules if r.status == "PASS" and r.kind in ("count", "share", "statistic",
                                                                                   "sustained", "route_latency",
                                                                                   "ledger")
                and r.id != "no_critical_findings"]


def test_a_few_answers_among_transport_are_judged_and_counted(results: Path) -> None:
    run = clean_run(results)
    run.token(5, "transport", status=None)
    result = judge(run.close(), "jwt_forged_accepted")
    assert (result.status, result.summary) == ("PASS", ("0 of 2 token records with result in breach; at most 0 "
                                               "(1 of 3 got no answer)"))
    assert result.evidence.values["no_answer"] == 1


def test_transport_windows_stay_out_of_p95(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 20, ok=10, transport=90, latency_ms=300.0)
    result = judge(run.close(), "p95_normal")
    assert result.status == "PASS"
    assert abs(result.evidence.values["p95_ms"] - 300) < 1
    assert result.evidence.values["count"] == 200 and result.evidence.values["transport"] == 1800


# ---------------------------------------------------------------- ledger: what it could catch


@pytest.mark.parametrize(("movements", "status"), [(17, "NO_DATA"), (58, "NO_DATA"), (59, "PASS")])
def test_ledger_says_what_it_could_catch(results: Path, movements: int, status: str) -> None:
    run = RunBuilder(results)
    run.snapshot(0, "start", {"1": 100})
    for n in range(movements):
        run.ledger(1 + n, 1, -1, movimiento_id=f"m{n}", before=100 - n)
    run.snapshot(100, "end", {"1": 100 - movements})
    result = judge(run.close(), "ledger_consistent")
    assert result.status == status
    caught = 1 - 0.95 ** movements
    assert result.evidence.values["catch_probability"] == round(caught, 4)
    if status == "NO_DATA":
        assert result.summary == (f"saw {movements} movements: a 1-in-20 corruption would be caught with probability "
                                  f"{caught * 100:.1f} %; needs 95.0 %")


def test_an_inconsistency_fails_however_few_movements(results: Path) -> None:
    run = RunBuilder(results)
    run.snapshot(0, "start", {"1": 100})
    run.ledger(1, 1, -1, movimiento_id="m1", before=100)
    run.snapshot(9, "end", {"1": 98})
    assert judge(run.close(), "ledger_consistent").status == "FAIL"


# ---------------------------------------------------------------- metrics: observed absence


def test_metric_absent_from_every_scrape_fails(results: Path) -> None:
    run = RunBuilder(results)
    run.metrics(0, dashboard_errors_total=1)
    run.metrics(10, dashboard_errors_total=1)
    result = judge(run.close(), "dashboard_p95_gauge")
    assert (result.status, result.summary) == ("FAIL", ("dashboard_request_duration_ms_p95 absent from 2 successful "
                                               "scrape(s)"))


def test_metric_no_successful_scrape_is_no_data(results: Path) -> None:
    run = RunBuilder(results)
    run.write("metrics", 0, service="dashboard", values={}, error="connection refused")
    result = judge(run.close(), "dashboard_p95_gauge")
    assert (result.status, result.summary) == ("NO_DATA", "could not look: 1 scrape(s), all failed of dashboard")


# ---------------------------------------------------------------- latency per route


def test_one_slow_route_in_ten_is_named_while_the_aggregate_passes(results: Path) -> None:
    run = RunBuilder(results)
    slow = [20.0] * 9 + [800.0]  # 1 in 10 at 800 ms
    run.windows(0, 60, name="deposito GET /productos", latency_ms=slow)
    run.windows(0, 60, name="negocio GET /precios/consultar", latency_ms=slow)
    for route in ("deposito GET /productos/{id}", "ml GET /predict", "dashboard GET /api/summary",
                  "deposito POST /movimientos", "negocio GET /api/productos", "ml GET /status"):
        run.windows(0, 60, name=route, ok=40, latency_ms=20.0)
    run.windows(0, 60, name="negocio POST /procesar_factura_completa", ok=1, latency_ms=2500.0)
    data = load_results(run.close())
    aggregate = judge_rule("p95_normal", RULES.rules["p95_normal"], data)
    assert aggregate.status == "PASS" and aggregate.evidence.values["p95_ms"] < 500
    result = judge_rule("p95_per_route", RULES.rules["p95_per_route"], data)
    assert result.status == "FAIL"
    assert [i["name"] for i in result.evidence.items] == ["deposito GET /productos", "negocio GET /precios/consultar"]
    assert result.summary.startswith("2 slow route(s): deposito GET /productos p95 80")
    assert "negocio GET /precios/consultar p95 80" in result.summary


def test_ocr_uploads_have_their_own_limit(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 60, name="negocio POST /procesar_factura_completa", ok=1, latency_ms=2500.0)
    result = judge(run.close(), "p95_per_route")
    assert result.status == "PASS"
    assert result.summary.startswith("every route under its limit; closest: negocio POST /procesar_factura_completa "
                                     "p95 2502 ms (limit 10000)")


# ---------------------------------------------------------------- chaos-aware judgement


def app_fault_on_deposito(results: Path, *, inside: bool) -> Path:
    """Forged tokens answered 500 by deposito at 20-30 s; with ``inside``, an app-fault step covers them."""
    run = clean_run(results)
    if inside:
        run.chaos(18, "start", "deposito")
        run.chaos(28, "end", "deposito")
        run.chaos(31, "recovered", "deposito")
    for at in range(20, 30):
        run.token(at, "wrong_rejection", target="deposito", status=500)
    run.token(25, "rejected", target="negocio")
    return run.close()


def test_answers_the_fault_produced_are_set_aside(results: Path) -> None:
    verdict = evaluate(app_fault_on_deposito(results, inside=True), RULES)
    result = next(r for r in verdict.rules if r.id == "jwt_wrong_rejection")
    assert result.status == "PASS"
    assert result.summary == "0 of 3 token records with result in wrong_rejection; at most 0 (10 set aside during chaos)"
    assert result.evidence.values["set_aside"] == {"records": 10}
    assert verdict.verdict == "PROMOTE"


def test_the_same_answers_outside_a_span_roll_back(results: Path) -> None:
    verdict = evaluate(app_fault_on_deposito(results, inside=False), RULES)
    assert next(r for r in verdict.rules if r.id == "jwt_wrong_rejection").status == "FAIL"
    assert verdict.verdict == "ROLLBACK"


def test_a_rule_may_opt_in_to_judge_inside_spans(results: Path) -> None:
    data = load_results(app_fault_on_deposito(results, inside=True))
    rule = RULES.rules["jwt_wrong_rejection"].model_copy(update={"chaos": "include"})
    assert judge_rule("r", rule, data).status == "FAIL"


def test_live_judge_sets_aside_the_same_tokens(results: Path) -> None:
    judge = LiveJudge(RULES)
    for rec in read_dir(app_fault_on_deposito(results, inside=True)):
        judge.feed(rec)  # type: ignore[arg-type]
    assert "jwt_wrong_rejection" not in [r.id for r in judge.fired]


def test_the_ledger_is_judged_across_chaos(results: Path) -> None:
    run = clean_run(results)
    run.chaos(10, "start", "deposito", action="kill")
    run.ledger(12, 1, -3, movimiento_id="lost", before=95)  # acknowledged, never applied
    run.chaos(30, "recovered", "deposito", action="kill")
    assert judge(run.close(), "ledger_consistent").status == "FAIL"


def test_a_service_left_down_by_chaos_is_a_rollback(results: Path) -> None:
    run = clean_run(results)
    run.chaos(30, "start", "ml", action="kill")
    run.chaos(40, "end", "ml", action="kill")
    run.health(31, "ml", False)  # never back, and the load ended before the recovery timeout
    verdict = evaluate(run.close(), RULES)
    result = next(r for r in verdict.rules if r.id == "chaos_recovered")
    assert result.status == "FAIL"
    assert "critical service down" in result.summary
    assert verdict.verdict == "ROLLBACK"


def test_not_recovered_fails_live_and_after(results: Path) -> None:
    run = clean_run(results)
    run.chaos(30, "start", "ml", action="kill")
    run.chaos(60, "not_recovered", "ml", action="kill")
    run.close()
    assert judge(results, "chaos_recovered").status == "FAIL"
    judge_live = LiveJudge(RULES)
    for rec in read_dir(results):
        judge_live.feed(rec)  # type: ignore[arg-type]
    assert "chaos_recovered" in [r.id for r in judge_live.fired]


def test_a_recovered_step_passes(results: Path) -> None:
    run = clean_run(results)
    run.chaos(30, "start", "ml", action="kill")
    run.health(31, "ml", False)
    run.health(45, "ml", True)
    run.chaos(45, "recovered", "ml", action="kill")
    result = judge(run.close(), "chaos_recovered")
    assert (result.status, result.summary) == ("PASS", "1 of 1 chaos step(s) recovered")


# ---------------------------------------------------------------- web UI restarts


def test_a_restart_judges_the_newest_segment_only(results: Path) -> None:
    run = RunBuilder(results)
    run.header("smoke")
    run.smoke(0, "logs")
    run.token(0, "rejected")  # smoke's token, before the first locust start: kept
    run.header(segment=1, at=1)
    for check in CHECKS:
        run.health(1, check, True)
    run.snapshot(1, "start", {"1": 100})
    run.ledger(5, 1, -4, movimiento_id="old", before=100)
    run.windows(1, 30, ok=0, error=10)  # the first start's errors: not this segment's
    run.header(segment=2, at=40)  # stop, then start again: a new start snapshot
    run.snapshot(40, "start", {"1": 96})
    for n in range(60):
        run.ledger(41 + n, 1, -1, movimiento_id=f"m{n}", before=96 - n)
    run.windows(40, 140)
    run.snapshot(140, "end", {"1": 36})
    data = load_results(run.close())
    assert data.segments_set_aside == 1
    assert judge_rule("ledger_consistent", RULES.rules["ledger_consistent"], data).status == "PASS"
    assert judge_rule("jwt_forged_accepted", RULES.rules["jwt_forged_accepted"], data).status == "PASS"
    assert judge_rule("error_rate_sustained", RULES.rules["error_rate_sustained"], data).status == "PASS"
    verdict = evaluate(data, RULES)
    assert "1 earlier segment(s) set aside: the Locust run was stopped and started again; only the newest start " \
           "is judged" in verdict.notes
    assert verdict.run.started_at is not None


def test_live_judge_starts_afresh_at_a_restart(results: Path) -> None:
    run = RunBuilder(results)
    run.header(segment=1)
    run.snapshot(0, "start", {"1": 100})
    run.header(segment=2, at=10)
    run.snapshot(10, "start", {"1": 90})
    for n in range(60):
        run.ledger(11 + n, 1, -1, movimiento_id=f"m{n}", before=90 - n)
    run.snapshot(80, "end", {"1": 30})
    judge = LiveJudge(RULES)
    for rec in read_dir(run.close()):
        judge.feed(rec)  # type: ignore[arg-type]
    assert judge.fired == []
