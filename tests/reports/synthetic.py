"""Synthetic results directories for the report tests, written with the stream's own record types.

``write_full_run`` writes a two-minute run with every part the report draws (an error spike, a
latency spike, a health outage during a chaos step, forged tokens with a breach, heavy and normal
invoices); ``full_verdict`` is a verdict over it with capacity and a baseline comparison.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self, cast

from analysis import (
    Capacity,
    CapacityStep,
    Comparison,
    ComparisonRow,
    Evidence,
    FindingOut,
    RequestRow,
    RuleResult,
    RunInfo,
    Span,
    Verdict,
    decide,
)
from stagegate_core.histogram import encode, new_sketch
from stagegate_core.stream import Record, StreamWriter, record

T0 = 1_795_820_100.0
TARGETS = {"deposito": "http://127.0.0.1:8001", "negocio": "http://127.0.0.1:8002",
           "ml": "http://127.0.0.1:8003", "dashboard": "http://127.0.0.1:8080"}
NORMAL = "deposito GET /productos/{id}"


class Stream:
    """A ``StreamWriter`` taking records as ``kind, t, **fields`` (built by ``stagegate_core.stream.record``)."""

    def __init__(self, path: Path) -> None:
        self.writer = StreamWriter(path)

    def put(self, kind: str, t: float, **fields: Any) -> None:
        self.writer.write(cast(Record, record(kind, t, **fields)))

    def add(self, rec: dict[str, Any]) -> None:
        self.writer.write(cast(Record, rec))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.writer.close()


def window(t: float, name: str, traffic: str, latencies: list[float], *, errors: int = 0,
           expected: int = 0) -> dict[str, Any]:
    sketch = new_sketch()
    for ms in latencies:
        sketch.add(ms)
    count = len(latencies)
    return record("window", t, duration_s=1.0, name=name, service=name.split()[0], traffic=traffic,
                  count=count,
                  outcomes={"ok": count - errors - expected, "error": errors, "expected": expected},
                  errors={"status 500": errors} if errors else {}, bytes=100 * count,
                  latency_sum_ms=sum(latencies), latency_max_ms=max(latencies, default=0.0),
                  sketch=encode(sketch))


def header(run_id: str = "20261127-231500-ab12", producer: str = "locust") -> dict[str, Any]:
    return record("run_header", T0, run_id=run_id, producer=producer, profile="checklist-v0.10.0",
                  scenario="steady", targets=TARGETS, settings={"users": 20},
                  versions={"stagegate": "0.1.0", "git": "19d2c7a"})


def write_full_run(results: Path, seconds: int = 120) -> Path:
    """A run with traffic, health, chaos, tokens and OCR; returns the results directory."""
    results.mkdir(parents=True, exist_ok=True)
    with Stream(results / "locust.jsonl") as out:
        out.add(header())
        for s in range(seconds):
            t = T0 + s
            slow = 60 <= s < 80
            latencies = [700.0 + i for i in range(10)] if slow else [20.0 + i for i in range(10)]
            out.add(window(t, NORMAL, "normal", latencies, errors=2 if 40 <= s < 70 else 0))
            out.add(window(t, "negocio GET /precios/consultar", "normal", [15.0, 18.0]))
            out.add(window(t, "negocio GET /api/productos", "forged_token", [5.0], expected=1))
        for check in ("deposito", "negocio", "ml", "dashboard"):
            out.put("health", T0, check=check, ok=True, status=200, detail="200", latency_ms=3.0)
        out.put("health", T0 + 50, check="negocio", ok=False, status=None,
                detail="connection refused", latency_ms=None)
        out.put("health", T0 + 90, check="negocio", ok=True, status=200, detail="200", latency_ms=4.0)
        cases = ["alg_none_lower", "wrong_secret", "cross_agent_deposito", "expired", "control_valid"]
        for case in cases:
            for target in ("deposito", "negocio", "ml", "dashboard"):
                result, status = ("control_ok", 200) if case.startswith("control") else ("rejected", 401)
                if case == "alg_none_lower" and target == "negocio":
                    result, status = "breach", 200
                if case == "cross_agent_deposito" and target == "negocio":
                    result, status = "wrong_rejection", 500
                out.put("token", T0 + 5, case_id=case, target=target, status=status, result=result,
                        severity="critical", detail=f"status {status}")
        for s in range(0, seconds, 2):
            out.put("ocr", T0 + s, invoice=f"n{s}", invoice_kind="normal", size_bytes=200_000 + s * 1000,
                    status=200, latency_ms=800.0 + s, result="processed", detail="")
        for s in range(10, seconds, 20):
            late = s == 70
            out.put("ocr", T0 + s, invoice=f"h{s}", invoice_kind="heavy", size_bytes=12_000_000,
                    status=504, latency_ms=36_000.0 if late else 30_400.0,
                    result="timeout_late" if late else "timeout_ok", detail="504")
        out.put("run_end", T0 + seconds, reason="completed", detail="")
    with Stream(results / "chaos.jsonl") as out:
        for phase, dt, recovery in (("start", 48, None), ("end", 60, None), ("recovered", 90, 30.0)):
            out.put("chaos", T0 + dt, step_id="kill_negocio", phase=phase, action="kill",
                    target="negocio", backend="process", detail="", recovery_s=recovery)
        out.put("chaos", T0 + 100, step_id="step-2", phase="start", action="pause",
                target="ml", backend="process", detail="", recovery_s=None)
    return results


def rule(rule_id: str, role: str, status: str, *, kind: str = "statistic",
         threshold: dict[str, Any] | None = None, evidence: Evidence | None = None, summary: str = "") -> RuleResult:
    return RuleResult(id=rule_id, title=rule_id.replace("_", " "), kind=kind, role=role, status=status,
                      summary=summary or f"{rule_id} is {status}", threshold=threshold or {},
                      evidence=evidence or Evidence(), section="§15 Rollback")


def full_rules() -> list[RuleResult]:
    return [
        rule("error_rate_sustained", "rollback", "PASS", kind="sustained",
             threshold={"traffic": ["normal"], "above": 0.10, "for_s": 120, "min_count": 200, "chaos": "set_aside"},
             summary="max 20 % for 30 s; threshold 10 % for 60 s"),
        rule("error_rate_alert", "alert", "WARN", kind="sustained",
             threshold={"traffic": ["normal"], "above": 0.05, "for_s": 120, "min_count": 200},
             evidence=Evidence(spans=[Span(start=T0 + 40, end=T0 + 70, value=0.2, label="error rate 20 %")])),
        rule("p95_normal", "completion", "FAIL", threshold={"traffic": ["normal"], "stat": "p95_ms", "below": 500},
             summary="p95 712 ms > 500 ms", evidence=Evidence(values={"p95_ms": 712.3})),
        rule("jwt_forged_accepted", "rollback", "FAIL", kind="count", threshold={"source": "token", "at_most": 0},
             summary="1 forged token accepted by negocio",
             evidence=Evidence(items=[{"t": T0 + 5, "case_id": "alg_none_lower", "target": "negocio", "status": 200}])),
        rule("p95_per_route", "completion", "FAIL", kind="route_latency",
             threshold={"traffic": ["normal"], "below": 500, "min_count": 50,
                        "below_by_name": {"negocio POST /procesar_factura_completa": 10000}},
             summary="1 slow route(s): negocio GET /precios/consultar p95 800 ms (limit 500)",
             evidence=Evidence(values={"routes_judged": 2, "set_aside": {"windows": 12, "requests": 0}},
                               items=[{"name": "negocio GET /precios/consultar", "p95_ms": 800.0}])),
        rule("jwt_wrong_rejection", "rollback", "PASS", kind="count",
             summary="0 of 16 token records with result in wrong_rejection; at most 0 (4 set aside during chaos)",
             evidence=Evidence(values={"matching": 0, "of": 16, "set_aside": {"records": 4}})),
        rule("health_streak", "rollback", "PASS", kind="health_streak", threshold={"for_s": 180}),
        rule("ledger_consistent", "completion", "NO_DATA", kind="ledger", summary="no ledger records"),
    ]


def full_verdict(results: Path, rules: list[RuleResult] | None = None, **extra: Any) -> Verdict:
    rules = full_rules() if rules is None else rules
    name, code, reasons = decide(rules)
    return Verdict(
        verdict=name, exit_code=code, reasons=reasons,
        run=RunInfo(run_id="20261127-231500-ab12", results_dir=str(results), profile="checklist-v0.10.0",
                    contract="intended", scenario="steady", targets=TARGETS, started_at=T0, ended_at=T0 + 120,
                    duration_s=120.0, end_reason="completed", stagegate_version="0.1.0", git_commit="19d2c7a",
                    settings={"users": 20, "admin_token": "s3cr3t-admin"}),
        rules=rules,
        findings=[
            FindingOut(id="cross_agent_500", section="§8 R2", severity="critical",
                       title="cross-agent token answered 500", evidence="negocio /precios/consultar: 500",
                       reference="docs/as-built.md §3"),
            FindingOut(id="ocr_route_missing", section="§9 R3", severity="major",
                       title="route /procesar_factura_completa does not exist", evidence="404",
                       reference="docs/as-built.md §4"),
            FindingOut(id="health_needs_token", section="§6 Health Checks", severity="major",
                       title="/health requires a token", evidence="403", reference="docs/as-built.md §5"),
        ],
        requests=[
            RequestRow(name=NORMAL, service="deposito", traffic="normal", count=1237, ok=1140, errors=60,
                       expected=0, transport=37, p50_ms=21.0, p95_ms=705.0, p99_ms=709.0, max_ms=709.0, rps=10.0),
            RequestRow(name="negocio GET /api/productos", service="negocio", traffic="forged_token",
                       count=120, ok=0, errors=0, expected=120, p50_ms=5.0, p95_ms=5.0, p99_ms=5.0, max_ms=5.0, rps=1.0),
        ],
        notes=["locust.jsonl:812: line is cut short (the producer stopped mid-write)"],
        **extra,
    )


def capacity() -> Capacity:
    steps = [CapacityStep(users=u, start=T0 + i * 30, end=T0 + i * 30 + 30, rps=u * 8.0 if u <= 40 else 330.0,
                          p95_ms=50.0 * (i + 1) if u <= 40 else 900.0, error_rate=0.0 if u <= 40 else 0.12,
                          ok=u <= 40, broken_by=None if u <= 40 else "p95_normal")
             for i, u in enumerate((10, 20, 30, 40, 50, 60))]
    return Capacity(knee_users=40, knee_rps=320.0, broken_by="p95_normal", steps=steps, require_rps=300.0,
                    passed=True)


def comparison() -> Comparison:
    return Comparison(baseline="results/a", current="results/b", rows=[
        ComparisonRow(name=NORMAL, change="regression", p_value=0.0001, shift_ms=120.0, shift_ratio=0.3,
                      error_rate_before=0.0, error_rate_after=0.05, error_p_value=0.01),
        ComparisonRow(name="negocio GET /precios/consultar", change="no_change", p_value=0.6, shift_ms=0.4,
                      shift_ratio=0.02, error_rate_before=0.0, error_rate_after=0.0, error_p_value=1.0),
    ])


def write_long_run(results: Path, seconds: int = 1800, normal_names: int = 6) -> Path:
    """A 30-minute run at one window per name and second, with OCR every second: the size case."""
    results.mkdir(parents=True, exist_ok=True)
    names = [f"deposito GET /productos/{{id}}/{i}" for i in range(normal_names)]
    with Stream(results / "locust.jsonl") as out:
        out.add(header())
        for s in range(seconds):
            for i, name in enumerate(names):
                latencies = [10.0 + i + (s % 97) + k for k in range(20)]
                out.add(window(T0 + s, name, "normal", latencies, errors=s % 7 == 0))
            out.add(window(T0 + s, "negocio GET /api/productos", "forged_token", [5.0], expected=1))
            out.put("ocr", T0 + s, invoice=f"n{s}", invoice_kind="normal",
                    size_bytes=200_000 + s, status=200, latency_ms=800.0 + s % 300,
                    result="processed", detail="")
            if s % 30 == 0:
                out.put("health", T0 + s, check="ml", ok=s % 60 == 0, status=200,
                        detail="200", latency_ms=3.0)
        out.put("run_end", T0 + seconds, reason="completed", detail="")
    return results


def write_header_only(results: Path, producer: str = "locust") -> Path:
    """A run that recorded nothing but its start and end: every part of the report is missing."""
    results.mkdir(parents=True, exist_ok=True)
    with Stream(results / f"{producer}.jsonl") as out:
        out.add(header(producer=producer))
        out.put("run_end", T0 + 5, reason="completed", detail="")
    return results
