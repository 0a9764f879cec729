"""Second locustfile for the p95 test: writes every raw response time, so the test can compute
the exact percentile and hold the recorder's sketch to its 0.1 % promise."""

from __future__ import annotations

import os
from typing import Any

from locust import events

_OUT = open(os.environ["STAGEGATE_TEST_RAW_SAMPLES"], "a", encoding="utf-8")  # noqa: SIM115 (open for the run)


@events.request.add_listener
def _raw(name: str, response_time: float, **_: Any) -> None:
    _OUT.write(f"{name}\t{response_time!r}\n")
    _OUT.flush()
