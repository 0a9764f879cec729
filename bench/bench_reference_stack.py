"""Requests per second the reference stack serves to one client process (is it a load-test bottleneck?).

Starts a stack on free ports (no gateway), then for each target drives ``--concurrency`` keep-alive
connections from one asyncio process for ``--seconds`` (at most ``--max-requests``), and prints
requests/s, p50/p95 latency and errors. The client is a few lines of raw HTTP/1.1 on asyncio
streams, so that the figures measure the server rather than a client library. Locust's load benchmarks need the target faster than
the load they generate; these figures say how fast it is on this machine.

    .venv/bin/python bench/bench_reference_stack.py [--seconds 5] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reference_stack import issue_token, running_stack


async def _one_connection(host: str, port: int, request: bytes, deadline: float, budget: list[int],
                          latencies_ms: list[float]) -> int:
    """Keep-alive requests on one connection until the deadline or the budget runs out; returns errors."""
    reader, writer = await asyncio.open_connection(host, port)
    errors = 0
    try:
        while time.perf_counter() < deadline and budget[0] > 0:
            budget[0] -= 1
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            if head.startswith(b"HTTP/1.1 200"):
                latencies_ms.append((time.perf_counter() - started) * 1000)
            else:
                errors += 1
    finally:
        writer.close()
    return errors


async def drive(url: str, headers: dict[str, str], *, seconds: float, concurrency: int, max_requests: int) -> dict[str, float]:
    """``concurrency`` keep-alive connections of a minimal HTTP/1.1 client, so the client costs little."""
    parsed = urlsplit(url)
    lines = [f"GET {parsed.path}{'?' + parsed.query if parsed.query else ''} HTTP/1.1", f"Host: {parsed.netloc}",
             *(f"{k}: {v}" for k, v in headers.items())]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    latencies_ms: list[float] = []
    budget = [max_requests]
    began = time.perf_counter()
    errors = await asyncio.gather(*(
        _one_connection(parsed.hostname or "127.0.0.1", parsed.port or 80, request, began + seconds, budget,
                        latencies_ms)
        for _ in range(concurrency)
    ))
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies_ms) or [0.0]
    return {"rps": len(latencies_ms) / elapsed, "p50_ms": statistics.median(ordered),
            "p95_ms": ordered[max(int(len(ordered) * 0.95) - 1, 0)], "errors": sum(errors)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="duration per target (default 5)")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--max-requests", type=int, default=50_000, help="cap per target (default 50000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="stagegate-bench-") as tmp, \
            running_stack(Path(tmp) / "stack", services=("deposito", "dashboard"), gateway=False) as stack:
        token = issue_token(stack.secrets["JWT_SECRET_DEPOSITO"], issuer="deposito", subject="bench", role="admin")
        targets = {
            "deposito GET /health": (stack.services["deposito"] + "/health", {}),
            "deposito GET /productos?limit=20": (stack.services["deposito"] + "/productos?limit=20",
                                                 {"Authorization": f"Bearer {token}"}),
            "dashboard GET /health": (stack.services["dashboard"] + "/health", {}),
        }
        print(f"one client process, {args.concurrency} connections, {args.seconds:g} s per target")
        for name, (url, headers) in targets.items():
            result = asyncio.run(drive(url, headers, seconds=args.seconds, concurrency=args.concurrency,
                                       max_requests=args.max_requests))
            print(f"  {name:<36} {result['rps']:8.0f} req/s   p50 {result['p50_ms']:6.1f} ms   "
                  f"p95 {result['p95_ms']:6.1f} ms   errors {result['errors']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
