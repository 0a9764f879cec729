"""What the harness costs inside Locust: requests per CPU-second, bare FastHttpUser vs staging.py.

Both locustfiles hit the same reference-stack route (deposito GET /productos/{id}) with the same
number of users and no think time, one after the other, in one go. CPU time is the Locust
process's own (user + system, from ``/proc/<pid>/stat``), so the stack sharing the machine does not
blur it, and it is counted after a warm-up, with the requests Locust's stats history counts over
the same span: start-up (imports, profile, token catalogue) is a fixed cost, not per request.
Also prints the Locust process's resident memory a few seconds in and at the end of the staging
run: with the recorder flushing every second it should stay flat (``--minutes 10`` for the full check).

    .venv/bin/python bench/bench_locust_overhead.py               # 3 rounds of 20 s each
    .venv/bin/python bench/bench_locust_overhead.py --minutes 10  # the 10-minute memory check

Target: ratio >= 0.85.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from reference_stack import running_stack

BARE = REPO / "bench" / "bare_fasthttp.py"
STAGING = REPO / "locustfiles" / "staging.py"
SCENARIO_FILE = REPO / "bench" / "overhead_day.toml"
TARGET_RATIO = 0.85
WARM_UP_S = 6.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def sample(pid: int) -> tuple[float, float, int] | None:
    """(time, CPU seconds so far, RSS KiB) of a running process."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    cpu_s = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return time.time(), cpu_s, rss_pages * os.sysconf("SC_PAGE_SIZE") // 1024


def requests_by_second(history: Path) -> list[tuple[int, int]]:
    """(epoch second, total requests so far) from Locust's ``--csv`` stats history."""
    with history.open(encoding="utf-8") as handle:
        return [(int(row["Timestamp"]), int(row["Total Request Count"]))
                for row in csv.DictReader(handle) if row["Name"] == "Aggregated"]


def requests_at(history: list[tuple[int, int]], t: float) -> int:
    return max((count for second, count in history if second <= t), default=0)


def run_locust(locustfile: Path, out: Path, seconds: int, users: int, env: dict[str, str],
               extra: list[str]) -> tuple[float, float, list[int]]:
    """(requests, CPU seconds, RSS samples in KiB) of one headless run, counted after the warm-up."""
    out.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "locust", "-f", str(locustfile), "--headless", "-u", str(users), "-r", str(users),
            "-t", f"{seconds}s", "--csv", str(out / "locust"), "--only-summary", *extra]
    samples: list[tuple[float, float, int]] = []
    with (out / "locust.log").open("w") as log:
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=out)
        started = time.time()
        while process.poll() is None:
            time.sleep(1.0)
            now = sample(process.pid)
            if now is not None and now[0] - started >= WARM_UP_S:
                samples.append(now)
    if process.returncode not in (0, 1):
        raise SystemExit(f"{locustfile.name} failed with exit {process.returncode}; see {out / 'locust.log'}")
    history = requests_by_second(out / "locust_stats_history.csv")
    (t0, cpu0, _), (t1, cpu1, _) = samples[0], samples[-2]  # the last one may catch the shutdown
    return requests_at(history, t1) - requests_at(history, t0), cpu1 - cpu0, [rss for _, _, rss in samples if rss]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=20, help="length of each run (default 20)")
    parser.add_argument("--minutes", type=float, help="length of each run in minutes (overrides --seconds)")
    parser.add_argument("--users", type=int, default=10, help="Locust users in each run (default 10)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="bare/staging pairs, interleaved so that the machine's load hits both alike; "
                             "the median ratio counts (default 3, 1 with --minutes)")
    args = parser.parse_args()
    seconds = int(args.minutes * 60) if args.minutes else args.seconds
    rounds = 1 if args.minutes else max(1, args.rounds)
    ratios: list[float] = []
    rss: list[int] = []
    with tempfile.TemporaryDirectory(prefix="bench-locust-") as tmp, \
            running_stack(Path(tmp) / "stack", gateway=False) as stack:
        env = {**os.environ, "PYTHONPATH": str(REPO), "STAGEGATE_STATE_DIR": str(stack.state_dir),
               "BENCH_DEPOSITO_URL": stack.services["deposito"]}
        env.pop("LOCUST_SKIP_MONKEY_PATCH", None)
        for number in range(1, rounds + 1):
            work = Path(tmp) / f"round{number}"
            bare_requests, bare_cpu, _ = run_locust(BARE, work / "bare", seconds, args.users, env, [])
            staging_requests, staging_cpu, rss = run_locust(
                STAGING, work / "staging", seconds, args.users, env,
                ["--scenario-file", str(SCENARIO_FILE), "--results-dir", str(work / "staging" / "results")],
            )
            bare_rate, staging_rate = bare_requests / bare_cpu, staging_requests / staging_cpu
            ratios.append(staging_rate / bare_rate)
            print(f"round {number}: bare {bare_requests:7.0f} req / {bare_cpu:5.1f} CPU-s = {bare_rate:6.0f} req/CPU-s; "
                  f"staging.py {staging_requests:7.0f} req / {staging_cpu:5.1f} CPU-s = {staging_rate:6.0f} req/CPU-s; "
                  f"ratio {ratios[-1]:.3f}", flush=True)
    ratio = statistics.median(ratios)
    print(f"ratio (median of {len(ratios)}): {ratio:.3f} (target >= {TARGET_RATIO})")
    if rss:
        print(f"staging.py RSS: {rss[0] / 1024:.1f} MiB at {WARM_UP_S:g} s, {rss[-1] / 1024:.1f} MiB at the end "
              f"({seconds} s run, max {max(rss) / 1024:.1f} MiB)")
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
