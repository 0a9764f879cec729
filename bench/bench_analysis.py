"""Analysis of a one-hour run at 1000 requests/s: time and peak memory (targets: <= 5 s, <= 500 MB).

Builds a synthetic results directory (3,600 one-second windows x 20 request names, 50 requests per
window, latencies lognormal around 20 ms, sketches made with ``stagegate_core.histogram.encode`` like the
recorder's; plus health, token and OCR records), then runs ``analysis.evaluate`` on it in a fresh
process and prints wall time and peak resident memory (``ru_maxrss``) against the targets.

    .venv/bin/python bench/bench_analysis.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from stagegate_core.histogram import encode, new_sketch
from stagegate_core.stream import StreamWriter, record

SECONDS = 3600
NAMES = 20
PER_WINDOW = 50  # 20 names x 50 = 1000 requests/s
DISTINCT_SKETCHES = 200  # encoded once, reused round-robin: generation stays fast, decoding is not shared
TARGET_S = 5.0
TARGET_MB = 500.0
T0 = 1_800_000_000.0


def build(results: Path) -> int:
    """Write the synthetic run; returns the size of the stream in bytes."""
    rng = np.random.default_rng(7)
    pool = []
    for _ in range(DISTINCT_SKETCHES):
        sketch = new_sketch()
        for value in rng.lognormal(np.log(20.0), 0.5, PER_WINDOW):
            sketch.add(float(value))
        pool.append(encode(sketch))
    with StreamWriter(results / "locust.jsonl") as out:
        out.write(record("run_header", T0, run_id="bench", producer="locust", profile="checklist-v0.10.0",  # type: ignore[arg-type]
                         scenario="soak", targets={}, settings={}, versions={"stagegate": "bench"}))
        for check in ("deposito", "negocio", "ml", "dashboard", "gateway"):
            out.write(record("health", T0, check=check, ok=True, status=200, detail="200", latency_ms=2.0))  # type: ignore[arg-type]
        for second in range(SECONDS):
            for n in range(NAMES):
                out.write(record(  # type: ignore[arg-type]
                    "window", T0 + second, duration_s=1.0, name=f"svc{n % 4} GET /route{n}", service=f"svc{n % 4}",
                    traffic="normal", count=PER_WINDOW, outcomes={"ok": PER_WINDOW - 1, "error": 1},
                    errors={"status 500": 1}, bytes=PER_WINDOW * 800, latency_sum_ms=PER_WINDOW * 21.0,
                    latency_max_ms=120.0, sketch=pool[(second * NAMES + n) % DISTINCT_SKETCHES]))
            if second % 10 == 0:
                out.write(record("token", T0 + second, case_id="alg_none", target="negocio", status=401,  # type: ignore[arg-type]
                                 result="rejected", severity="critical", detail="401"))
                out.write(record("ocr", T0 + second, invoice="heavy.pdf", invoice_kind="heavy",  # type: ignore[arg-type]
                                 size_bytes=9_000_000, status=504, latency_ms=30_500.0, result="timeout_ok", detail=""))
        out.write(record("run_end", T0 + SECONDS, reason="completed", detail=""))  # type: ignore[arg-type]
    return (results / "locust.jsonl").stat().st_size


def analyze(results: Path) -> None:
    """Child process: judge the directory, print seconds and peak MB as JSON."""
    from analysis import evaluate, load_rules

    started, cpu = time.perf_counter(), time.process_time()
    verdict = evaluate(results, load_rules())
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "peak_mb": peak_mb, "verdict": verdict.verdict,
                      "requests": sum(r.count for r in verdict.requests)}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build (or reuse) the results directory here")
    parser.add_argument("--analyze", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.analyze:
        analyze(args.analyze)
        return 0
    results = args.keep or Path(tempfile.mkdtemp(prefix="stagegate-bench-"))
    results.mkdir(parents=True, exist_ok=True)
    if not (results / "locust.jsonl").exists():
        started = time.perf_counter()
        size = build(results)
        print(f"built {SECONDS} windows x {NAMES} names ({size / 1e6:.0f} MB) in {time.perf_counter() - started:.1f} s")
    child = subprocess.run([sys.executable, __file__, "--analyze", str(results)], capture_output=True, text=True,
                           check=True)
    found = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"analysis: {found['seconds']:.2f} s wall, {found['cpu_seconds']:.2f} s CPU (target {TARGET_S:g} s, "
          f"ratio {found['seconds'] / TARGET_S:.2f}; load average {os.getloadavg()[0]:.1f}); "
          f"peak memory {found['peak_mb']:.0f} MB (target {TARGET_MB:g} MB, ratio {found['peak_mb'] / TARGET_MB:.2f}); "
          f"verdict {found['verdict']}, {found['requests']} requests")
    if args.keep is None:
        shutil.rmtree(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
