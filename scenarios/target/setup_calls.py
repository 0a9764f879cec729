"""Calls a run makes to the deployment before the load starts (login, discovery), and what their
failures mean.

A deployment that answers 5xx, times out or refuses at start is broken, not misused: the call is
tried again with backoff until a deadline (the profile's ``auth.login_retry_s``), and if it still
fails the run starts anyway and says so in a ``Finding`` (the verdict then judges a broken
deployment with evidence instead of refusing to run). Only the user's own mistakes (a password the
deployment refuses) stop the run with one line and exit 2. Plain httpx, no Locust: smoke uses it too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from scenarios.target.classify import is_transport, root_cause

FIRST_PAUSE_S = 0.5
MAX_PAUSE_S = 5.0
"""Backoff between tries: doubling from the first pause up to this, so a deployment that comes
back is seen within a few seconds and one that stays down is not hammered."""

T = TypeVar("T")


class Unavailable(Exception):
    """The deployment could not answer a setup call now (5xx, timeout, refused): worth another try.

    The message names the call and the cause, never a secret: ``deposito login at URL answered 500``.
    """


def retry_until(deadline: float, attempt: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep) -> T:
    """``attempt()`` until it does not raise ``Unavailable`` or ``deadline`` (monotonic) passes.

    It is tried at least once; the last ``Unavailable`` is raised when the time is up.
    """
    pause = FIRST_PAUSE_S
    while True:
        try:
            return attempt()
        except Unavailable:
            if time.monotonic() + pause > deadline:
                raise
            sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_S)


def unavailable_status(status: int) -> bool:
    """A status that says the deployment is broken right now rather than that the request is wrong."""
    return status >= 500


def no_answer(what: str, url: str, exc: httpx.HTTPError) -> Unavailable:
    """``Unavailable`` for a setup call that got no answer (refused, reset, timed out)."""
    cause = root_cause(exc)
    if isinstance(exc, httpx.TimeoutException):
        how = "timed out"
    elif isinstance(cause, ConnectionRefusedError) or "refused" in str(exc).lower():
        how = "refused the connection"
    elif is_transport(exc):
        how = f"got no answer ({type(exc).__name__})"
    else:
        how = f"failed ({type(exc).__name__})"
    return Unavailable(f"{what} at {url} {how}")


def for_how_long(problem: Unavailable, budget_s: float) -> str:
    """``deposito login at URL answered 500 for 30 s``: the last cause and how long it was tried."""
    return f"{problem} for {budget_s:.0f} s" if budget_s >= 0.5 else str(problem)

