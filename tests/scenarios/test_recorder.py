"""The recorder as a set of listeners on fresh environments: classification, windows, merge."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from locust.env import Environment
from locust.event import Events

from scenarios.load.recorder import Recorder
from scenarios.load.windows import SeriesWindow, WindowBook
from stagegate_core.histogram import decode


def fresh(tmp_path: Path, role: str, name: str = "out") -> tuple[Environment, Recorder]:
    environment = Environment(events=Events())
    results = None if role == "worker" else tmp_path / name
    recorder = Recorder(environment, results_dir=results, header=None, role=role)  # type: ignore[arg-type]
    environment.events.request.add_listener(recorder.on_request)
    return environment, recorder


def fire(environment: Environment, name: str, ms: float, *, exception: Exception | None = None,
         context: dict[str, Any] | None = None, **extra: Any) -> None:
    environment.events.request.fire(request_type="GET", name=name, response_time=ms, response_length=10,
                                    exception=exception, context=context or {}, **{"response": None, **extra})


def windows(path: Path) -> list[dict[str, Any]]:
    return [r for r in map(json.loads, path.read_text().splitlines()) if r["kind"] == "window"]


class _Answered:
    """What Locust hands the listener for an answered request (only its status matters here)."""

    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def test_outcomes_are_classified_from_the_context(tmp_path: Path) -> None:
    environment, recorder = fresh(tmp_path, "local")
    fire(environment, "deposito GET /productos/{id}", 10)
    fire(environment, "deposito GET /productos/{id}", 30, exception=RuntimeError("status 500"), response=_Answered(500))
    fire(environment, "negocio POST /procesar_factura_completa [heavy_invoice]", 1000,
         context={"traffic": "heavy_invoice", "service": "negocio", "expected": True})
    recorder.on_quitting()
    found = {w["name"]: w for w in windows(tmp_path / "out" / "locust.jsonl")}
    normal = found["deposito GET /productos/{id}"]
    assert normal["outcomes"] == {"ok": 1, "error": 1, "expected": 0, "transport": 0}
    assert normal["errors"] == {"status 500": 1}
    assert (normal["traffic"], normal["service"], normal["bytes"], normal["latency_max_ms"]) == ("normal", "deposito", 20, 30)
    heavy = found["negocio POST /procesar_factura_completa [heavy_invoice]"]
    assert (heavy["traffic"], heavy["outcomes"]["expected"]) == ("heavy_invoice", 1)


@pytest.mark.parametrize("error", [ConnectionRefusedError(), ConnectionResetError()], ids=type)
def test_a_request_without_an_answer_is_transport_and_has_no_latency(tmp_path: Path, error: Exception) -> None:
    environment, recorder = fresh(tmp_path, "local")
    fire(environment, "deposito GET /productos/{id}", 12)
    fire(environment, "deposito GET /productos/{id}", 2000, exception=error)
    recorder.on_quitting()
    (window,) = windows(tmp_path / "out" / "locust.jsonl")
    assert (window["count"], window["outcomes"]) == (2, {"ok": 1, "error": 0, "expected": 0, "transport": 1})
    assert window["errors"] == {}
    assert (window["latency_sum_ms"], window["latency_max_ms"]) == (12, 12)
    assert decode(window["sketch"]).count == 1


def test_open_model_latency_counts_from_when_the_request_was_due(tmp_path: Path) -> None:
    environment, recorder = fresh(tmp_path, "local")
    fire(environment, "ml POST /predict", 5, context={"due": 100.0}, start_time=100.25)
    recorder.on_quitting()
    (window,) = windows(tmp_path / "out" / "locust.jsonl")
    assert window["latency_max_ms"] == 255.0


def test_stream_ends_with_run_end_after_every_window(tmp_path: Path) -> None:
    environment, recorder = fresh(tmp_path, "local")
    fire(environment, "dashboard GET /", 1)
    recorder.on_quitting()
    kinds = [json.loads(line)["kind"] for line in (tmp_path / "out" / "locust.jsonl").read_text().splitlines()]
    assert kinds == ["window", "run_end"]


def test_workers_through_the_master_give_the_totals_of_one_process(tmp_path: Path) -> None:
    rng = random.Random(5)
    names = ["deposito GET /productos/{id}", "ml POST /predict", "dashboard GET /"]
    requests = [(rng.choice(names), rng.lognormvariate(3, 1), rng.random() < 0.1) for _ in range(3000)]
    single_env, single = fresh(tmp_path, "local", "single")
    _, master = fresh(tmp_path, "master", "merged")
    workers = [fresh(tmp_path, "worker") for _ in range(2)]
    for index, (name, ms, failed) in enumerate(requests):
        error = RuntimeError("boom") if failed else None
        fire(single_env, name, ms, exception=error)
        worker_env, worker = workers[index % 2]
        fire(worker_env, name, ms, exception=error)
        if index % 700 == 0:  # a worker report in the middle of the run
            ship(worker, master)
    for _, worker in workers:
        worker.emit({"kind": "health", "v": 1, "t": 1.0, "check": "ml", "ok": True, "status": 200,  # type: ignore[typeddict-item]
                     "detail": "200", "latency_ms": 1.0})
        ship(worker, master)
    single.on_quitting()
    master.on_quitting()
    one, merged = totals(tmp_path / "single" / "locust.jsonl"), totals(tmp_path / "merged" / "locust.jsonl")
    assert one == merged
    health = [r for r in map(json.loads, (tmp_path / "merged" / "locust.jsonl").read_text().splitlines())
              if r["kind"] == "health"]
    assert len(health) == 2


def ship(worker: Recorder, master: Recorder) -> None:
    data: dict[str, Any] = {}
    worker.on_report_to_master(client_id="w", data=data)
    master.on_worker_report(client_id="w", data=json.loads(json.dumps(data)))  # through a wire format


def totals(path: Path) -> dict[str, Any]:
    by_name: dict[str, Any] = {}
    for window in windows(path):
        entry = by_name.setdefault(window["name"], {"count": 0, "ok": 0, "error": 0, "bytes": 0, "q": []})
        entry["count"] += window["count"]
        entry["ok"] += window["outcomes"]["ok"]
        entry["error"] += window["outcomes"]["error"]
        entry["bytes"] += window["bytes"]
        entry["q"].append(window["sketch"])
    for entry in by_name.values():
        sketches = [decode(text) for text in entry.pop("q")]
        merged = sketches[0]
        for other in sketches[1:]:
            merged.merge(other)
        entry["p50"], entry["p95"], entry["p99"] = (merged.get_quantile_value(q) for q in (0.5, 0.95, 0.99))
    return by_name


def test_window_merge_is_the_window_of_all_requests() -> None:
    rng = random.Random(3)
    values = [rng.uniform(1, 500) for _ in range(1000)]
    whole, left, right = (SeriesWindow(7, "x", "deposito", "normal") for _ in range(3))
    for index, value in enumerate(values):
        whole.add(value, "ok", 1)
        (left if index % 3 else right).add(value, "ok", 1)
    left.merge(right)
    assert left.to_record() == whole.to_record()


def test_windows_close_by_second() -> None:
    book = WindowBook()
    for end_t in (10.2, 10.9, 11.0, 12.5):
        book.add(end_t=end_t, name="x", service="s", traffic="normal", latency_ms=1, outcome="ok", size_bytes=0)
    assert [w.t for w in book.take_closed(12.0)] == [10, 11]
    assert [(w.t, w.count) for w in book.take_all()] == [(12, 1)]


def test_merge_refuses_another_series() -> None:
    with pytest.raises(ValueError, match="cannot merge window y@1 into x@1"):
        SeriesWindow(1, "x", "s", "normal").merge(SeriesWindow(1, "y", "s", "normal"))


class _Runner:
    def __init__(self) -> None:
        self.quit_called = 0

    def quit(self) -> None:
        self.quit_called += 1


def test_a_stream_that_cannot_be_written_stops_the_run_with_exit_4(tmp_path: Path) -> None:
    import gevent  # type: ignore[import-untyped]

    from stagegate_core.stream import StreamWriter

    environment, recorder = fresh(tmp_path, "local")
    runner = _Runner()
    environment.runner = runner  # type: ignore[assignment]
    recorder._writer = StreamWriter("/dev/full")  # every write fails with ENOSPC, as on a full disk
    recorder.path = Path("/dev/full")
    fire(environment, "GET /productos", 12.0)
    recorder.flush(everything=True)  # no exception, no loop: the run is told to stop
    gevent.sleep(0.05)
    assert runner.quit_called == 1 and environment.process_exit_code == 4
    assert recorder.end_reason == "failed" and "No space left on device" in recorder.end_detail
    recorder.emit({"kind": "finding", "t": 1.0})  # type: ignore[typeddict-item]
    recorder.on_quitting()
    assert runner.quit_called == 1
