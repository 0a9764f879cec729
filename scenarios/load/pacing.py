"""Open-model pacing: requests leave at a target arrival rate, late ones count their lateness.

With the closed model (each user waits, then sends), a stalled service slows the senders down and
the stall shows up as silence: coordinated omission. Here every process owns one schedule of
slots ``start + n / rate``; a user takes the next slot, sleeps until it is due, and puts the due
time in the request context, so the recorder measures latency from when the request was due. When
every user is busy the slots fall behind the clock and the backlog is counted as latency.
"""

from __future__ import annotations

import time


class ArrivalSchedule:
    """Slots at ``rate_per_s``, shared by the users of one process."""

    def __init__(self, rate_per_s: float, *, start: float | None = None) -> None:
        if rate_per_s <= 0:
            raise ValueError(f"arrival rate must be > 0 (got {rate_per_s})")
        self.interval_s = 1.0 / rate_per_s
        self._start = start
        self._issued = 0

    def next_due(self, now: float | None = None) -> float:
        """The epoch time of the next free slot (may be in the past when users fall behind)."""
        if self._start is None:
            self._start = time.time() if now is None else now
        due = self._start + self._issued * self.interval_s
        self._issued += 1
        return due
