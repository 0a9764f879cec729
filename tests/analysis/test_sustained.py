"""The sustained error-rate rule at real traffic: binomial noise, many seeds, batch and live alike.

Traffic is drawn per second: requests ~ Poisson(rate) (a ramp over the first 10 s from a tenth of
the rate), errors ~ Binomial(requests, p), with numpy Generators on fixed seeds. The statistical
tests step the rule's own ``TrailingErrorRate`` (the function the batch evaluator and the live
judge both use); the stream tests check that the evaluator and the live judge read written
streams into exactly those steps.

Measured with the shipped rule (above 10 %, for_s 120 s, min_count 200), 200 seeds per case:
a steady 15 % is FAIL by for_s + 5 s of its start in 200/200 runs at 5, 50 and 500 req/s (from
the run's start with the ramp: at the first full window, 120 s, in every run; after a clean
minute: by 120 s at 5 req/s, 89 s at 50, 85 s at 500); a steady 5 % never FAILs over 30 minutes
and never ends undetermined (highest 120 s rate seen at 5 req/s: 8.6 %; at 50: 6.2 %; at 500:
5.4 %). With 1000 seeds at 5 req/s: 0 late, 0 FAIL, 4 runs ending undetermined (a noisy last
minute). A 60 s window FAILs the 5 % case in 8 of 200 runs at 5 req/s (90 s: 1 in 1000), which
is why the default is 120 s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis import LiveJudge, load_results, load_rules
from analysis._judge import judge_rule
from analysis._ruleset import SustainedRule
from analysis._windows import TrailingErrorRate
from stagegate_core.stream import read_dir
from tests.analysis.conftest import NORMAL, T0, RunBuilder

RULES = load_rules()
RULE = RULES.rules["error_rate_sustained"]
assert isinstance(RULE, SustainedRule)
SEEDS = 200
RAMP_S = 10


def draw(seed: int, rate: float, p: float, seconds: int, *, lead_s: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Requests and errors per second: a 10 s ramp, then ``rate``; errors at ``p`` from ``lead_s`` on."""
    rng = np.random.default_rng(seed)
    lam = np.full(seconds, float(rate))
    lam[:RAMP_S] = rate * (np.arange(RAMP_S) + 1) / (RAMP_S + 1)
    requests = rng.poisson(lam)
    errors = rng.binomial(requests, np.where(np.arange(seconds) >= lead_s, p, 0.0))
    return requests, errors


def stepped(requests: np.ndarray, errors: np.ndarray, rule: SustainedRule = RULE) -> TrailingErrorRate:
    tracker = TrailingErrorRate(rule)
    for second, (n, e) in enumerate(zip(requests.tolist(), errors.tolist())):
        tracker.step(second, n, e)
    return tracker


@pytest.mark.parametrize("rate", [5, 50, 500])
@pytest.mark.parametrize("lead_s", [0, 60])
def test_steady_15_percent_fails_within_for_s_plus_5(rate: int, lead_s: int) -> None:
    late = []
    for seed in range(SEEDS):
        tracker = stepped(*draw(seed, rate, 0.15, lead_s + RULE.for_s + 30, lead_s=lead_s))
        # the window ending in second s is complete at s + 1: that is when the rule can say FAIL
        if tracker.first_breach is None or tracker.first_breach + 1 - lead_s > RULE.for_s + 5:
            late.append(seed)
    assert late == []  # measured: 0 of 200 at each rate


@pytest.mark.parametrize("rate", [5, 50, 500])
def test_steady_5_percent_never_fails_in_30_minutes(rate: int) -> None:
    peaks = []
    for seed in range(SEEDS):
        tracker = stepped(*draw(10_000 + seed, rate, 0.05, 1800))
        assert tracker.first_breach is None, f"seed {seed}: {tracker.judgement().summary}"
        peaks.append(tracker.peak)
    assert max(peaks) < RULE.above  # measured: 8.6 % at 5 req/s, 6.2 % at 50, 5.4 % at 500


def test_a_60_s_window_would_not_hold_at_5_req_s() -> None:
    """Why for_s is 120: the same 5 % at 5 req/s breaks a 60 s trailing window in some runs."""
    sixty = RULE.model_copy(update={"for_s": 60})
    fails = sum(stepped(*draw(10_000 + seed, 5, 0.05, 1800), sixty).first_breach is not None for seed in range(SEEDS))
    assert fails > 0  # measured: 8 of 200


def write(results: Path, requests: np.ndarray, errors: np.ndarray, *, transport: int = 0) -> Path:
    run = RunBuilder(results)
    run.header()
    for second, (n, e) in enumerate(zip(requests.tolist(), errors.tolist())):
        run.window(second, ok=n - e, error=e, transport=transport)
    run.end(at=len(requests))
    return run.close()


def test_the_evaluator_judges_the_stream_as_the_steps_do(results: Path) -> None:
    requests, errors = draw(7, 5, 0.15, 200, lead_s=40)
    result = judge_rule("error_rate_sustained", RULE, load_results(write(results, requests, errors)))
    tracker = stepped(requests, errors)
    assert result.status == "FAIL"
    assert result.evidence.values["first_breach_at"] == T0 + tracker.first_breach  # type: ignore[operator]
    assert result.summary.startswith("error rate above 10.0 % over the 120 s to ")
    assert "(seen: " in result.summary and f"{int(requests.sum())} answered" in result.summary


@pytest.mark.parametrize(("seed", "p"), [(7, 0.15), (8, 0.12), (9, 0.5)])
def test_live_fires_at_the_second_the_batch_breach_begins(results: Path, seed: int, p: float) -> None:
    requests, errors = draw(seed, 20, p, 200, lead_s=50)
    write(results, requests, errors)
    batch = judge_rule("error_rate_sustained", RULE, load_results(results))
    judge = LiveJudge(RULES)
    fired = []
    for rec in read_dir(results):
        fired += [(judge.now, r) for r in judge.feed(rec) if r.id == "error_rate_sustained"]  # type: ignore[arg-type]
    [(now, live)] = fired
    breach = batch.evidence.values["first_breach_at"]
    assert live.evidence.values["first_breach_at"] == breach
    assert now == breach + 1  # fired with the first window of the next second: the breach second is complete


def test_a_5_percent_stream_never_fires_live(results: Path) -> None:
    write(results, *draw(3, 20, 0.05, 400))
    judge = LiveJudge(RULES)
    for rec in read_dir(results):
        judge.feed(rec)  # type: ignore[arg-type]
    assert "error_rate_sustained" not in [r.id for r in judge.fired]
    assert judge_rule("error_rate_sustained", RULE, load_results(results)).status == "PASS"


def test_transport_outcomes_are_not_errors(results: Path) -> None:
    requests = np.full(200, 10)
    result = judge_rule("error_rate_sustained", RULE,
                        load_results(write(results, requests, np.zeros(200, int), transport=10)))
    assert result.status == "PASS"  # half the requests got no answer: no error rate says so
    assert result.evidence.values["transport"] == 2000
    assert "2000 without an answer" in result.summary


def test_only_transport_outcomes_is_no_data(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 200, ok=0, transport=10)
    result = judge_rule("error_rate_sustained", RULE, load_results(run.close()))
    assert result.status == "NO_DATA"
    assert result.summary.startswith("saw too little: at most 0 answered requests in a 120 s window")
    assert "(seen: 0 answered, 2000 without an answer)" in result.summary


def test_thin_traffic_is_no_data(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 300, ok=1)  # 120 per window, under min_count 200
    result = judge_rule("error_rate_sustained", RULE, load_results(run.close()))
    assert (result.status, result.evidence.values["thin_windows"]) == ("NO_DATA", 181)


def test_breach_that_began_in_the_last_for_s_is_undetermined(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 200)
    run.windows(200, 230, ok=8, error=2)  # 20 % for the last 30 s: the 120 s window reads 5 %
    result = judge_rule("error_rate_sustained", RULE, load_results(run.close()))
    assert result.status == "NO_DATA"
    assert result.summary.startswith("20.0 % of 300 answered requests over the last 30 s when the data ends: "
                                     "undetermined")


def test_a_run_shorter_than_for_s_is_judged_whole(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 60, ok=19, error=1)
    result = judge_rule("error_rate_sustained", RULE, load_results(run.close()))
    assert result.status == "PASS"
    assert result.summary.startswith("5.0 % of 1200 answered requests over the whole 60 s (shorter than 120 s)")


def test_errors_of_a_chaos_target_inside_its_span_are_set_aside(results: Path) -> None:
    run = RunBuilder(results)
    run.windows(0, 300)
    run.windows(100, 200, name="negocio GET /precios/consultar", ok=0, error=10)
    run.windows(0, 100, name="negocio GET /precios/consultar")
    run.chaos(99.5, "start", "negocio")
    run.chaos(200, "recovered", "negocio")
    data = load_results(run.close())
    result = judge_rule("error_rate_sustained", RULE, data)
    assert result.status == "PASS"
    assert result.evidence.values["set_aside"] == {"windows": 101, "requests": 1010}
    assert "set aside during chaos: 101 windows, 1010 requests" in result.summary
    included = RULE.model_copy(update={"chaos": "include"})
    assert judge_rule("error_rate_sustained", included, data).status == "FAIL"


def test_live_sets_aside_the_same_chaos_windows(results: Path) -> None:
    run = RunBuilder(results)
    run.chaos(99.5, "start", "negocio")
    for second in range(300):
        run.window(second)
        run.window(second, name="negocio GET /precios/consultar", ok=0 if 100 <= second < 200 else 10,
                   error=10 if 100 <= second < 200 else 0)
        if second == 200:
            run.chaos(200.5, "recovered", "negocio")
    judge = LiveJudge(RULES)
    for rec in read_dir(run.close()):
        judge.feed(rec)  # type: ignore[arg-type]
    assert judge.fired == []
    assert NORMAL in {s.name for s in load_results(results).series.values()}
