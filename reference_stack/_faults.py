"""Fault switches: the defects a test turns on to prove the harness catches them.

Every switch is off by default (the stack is clean). A switch changes exactly the behaviour its
name says and nothing else. Switches are set at start (``--fault deposito.error_rate=0.2``) or at
run time (``PUT /__admin/faults`` with the whole ``FaultSet`` as JSON). Usage::

    faults = parse_fault_args(["deposito.latency=uniform:50-150@/productos", "ml.inflation_ignored=true"])
    faults["deposito"].latency[0].sample_ms(random.Random(1))

Timed switches (``login_fail_for_s``, ``slow_start_s``) count from the moment their value was set
(at start: when the process starts); a ``PUT`` that repeats the same value keeps their clock running,
so turning on another switch does not restart a login failure's window.
"""

from __future__ import annotations

import logging
import math
import os
import random
import re
import threading
import time
from collections.abc import Hashable, Iterable
from typing import Any, Literal, get_args, get_origin

from pydantic import Field, ValidationError, field_validator, model_validator

from reference_stack._errors import FaultInvalid
from stagegate_core.models import FrozenModel

SERVICES = ("deposito", "negocio", "ml", "dashboard")
AGENTS = ("deposito", "negocio", "ml")


class LatencyRule(FrozenModel):
    """Added latency before a route answers, drawn from a known distribution.

    ``fixed``: exactly ``ms``. ``uniform``: between ``low_ms`` and ``high_ms``. ``lognormal``:
    median ``ms``, shape ``sigma`` (``ms * exp(sigma * N(0, 1))``).
    """

    dist: Literal["fixed", "uniform", "lognormal"] = "fixed"
    ms: float = Field(default=0.0, ge=0)
    low_ms: float = Field(default=0.0, ge=0)
    high_ms: float = Field(default=0.0, ge=0)
    sigma: float = Field(default=0.5, ge=0)
    route: str | None = None
    """A path template (``/productos/{id}``) the rule applies to; None: every route."""
    share: float = Field(default=1.0, gt=0, le=1)
    """The share of matching requests the rule delays, spread evenly like ``error_rate`` (0.1: exactly
    every 10th); a request it does not pick goes on to the next rule, so ``fixed:800@/productos%0.1``
    then ``fixed:20@/productos`` makes one in ten take 800 ms and the rest 20 ms."""

    @model_validator(mode="after")
    def _bounds(self) -> LatencyRule:
        if self.dist == "uniform" and self.high_ms < self.low_ms:
            raise ValueError("high_ms must be >= low_ms")
        return self

    def matches(self, path: str) -> bool:
        if self.route is None:
            return True
        parts = re.split(r"\{[^/}]+\}", self.route)
        return re.fullmatch("[^/]+".join(re.escape(p) for p in parts), path) is not None

    def sample_ms(self, rng: random.Random) -> float:
        if self.dist == "uniform":
            return rng.uniform(self.low_ms, self.high_ms)
        if self.dist == "lognormal":
            return self.ms * math.exp(self.sigma * rng.gauss(0.0, 1.0))
        return self.ms


class FaultSet(FrozenModel):
    """All switches of one service. The defaults are the clean stack."""

    latency: list[LatencyRule] = Field(default_factory=list)
    """Added latency per route (the first matching rule that picks the request wins)."""
    error_rate: float = Field(default=0.0, ge=0, le=1)
    """Share of requests (health and admin excluded) answered 500, spread evenly (0.25: every 4th)."""
    error_mode: Literal["handled", "unhandled"] = "handled"
    """How a 500 ends (``error_rate``, ``jwt_invalid_500``, a login failure's 500). ``handled``: it is
    answered and the keep-alive connection stays open. ``unhandled``: the exception reaches uvicorn
    after the service's own 500 has gone out, and uvicorn closes the connection (no ``Connection:
    close`` header; the client learns it on its next request), as the real services do."""
    login_fail_for_s: float | None = Field(default=None, ge=0)
    """Agents: ``/auth/login`` answers ``login_fail_status`` for this many seconds after the switch is
    set (at start: after the process starts), then logs in as usual."""
    login_fail_status: Literal[500, 503] = 503
    """Agents: the status of a failing login: 503 (not ready) or 500 (an unhandled error, see ``error_mode``)."""
    slow_start_s: float | None = Field(default=None, ge=0)
    """Every route but the admin endpoint, ``/health`` included, answers 503 for this many seconds after
    the switch is set (at start: a service that takes that long to become ready)."""
    health_failing: bool = False
    """``/health`` answers 503 unhealthy."""
    security_headers_missing: bool = False
    """Responses carry no security headers."""
    crash_after_s: float | None = Field(default=None, ge=0)
    """The process exits (code 70) this many seconds after the switch is set."""
    ocr_cost_multiplier: float = Field(default=1.0, gt=0)
    """negocio: OCR takes this many times longer."""
    ocr_timeout_disabled: bool = False
    """negocio: OCR runs without ``asyncio.wait_for`` (no 504, the request waits for OCR)."""
    jwt_accept_cross_agent: bool = False
    """Agents accept a token signed by any agent's secret, whatever its ``iss``."""
    jwt_accept_alg_none: bool = False
    """Agents accept an unsigned ``alg: none`` token."""
    jwt_invalid_500: bool = False
    """Agents answer an invalid token with 500, as the real code does (docs/as-built.md §3.4)."""
    inflation_ignored: bool = False
    """ml and negocio apply no inflation (rate 0 in responses)."""
    ledger_corruption: Literal["lose", "double"] | None = None
    """deposito: each acknowledged movement is not applied (``lose``) or applied twice (``double``)."""

    @field_validator("latency", mode="before")
    @classmethod
    def _one_rule(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict | LatencyRule) else value


APPLIES_TO: dict[str, tuple[str, ...]] = {
    "ocr_cost_multiplier": ("negocio",),
    "ocr_timeout_disabled": ("negocio",),
    "jwt_accept_cross_agent": AGENTS,
    "jwt_accept_alg_none": AGENTS,
    "jwt_invalid_500": AGENTS,
    "inflation_ignored": ("negocio", "ml"),
    "ledger_corruption": ("deposito",),
    "login_fail_for_s": AGENTS,
    "login_fail_status": AGENTS,
}
"""Switches that only make sense on some services; the others apply to all four."""

SWITCHES = tuple(FaultSet.model_fields)


def fault_set(service: str, switches: dict[str, Any]) -> FaultSet:
    """Validate ``switches`` for ``service``; ``FaultInvalid`` names the switch and the problem."""
    if service not in SERVICES:
        raise FaultInvalid(f"fault: unknown service {service!r} (known: {', '.join(SERVICES)})")
    for name, value in switches.items():
        if name not in FaultSet.model_fields:
            raise FaultInvalid(f"fault: unknown switch {name!r} (known: {', '.join(SWITCHES)})")
        allowed = APPLIES_TO.get(name, SERVICES)
        if service not in allowed and value != FaultSet.model_fields[name].default:
            raise FaultInvalid(f"fault: {name} does not apply to {service} (applies to: {', '.join(allowed)})")
    try:
        return FaultSet.model_validate(switches)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise FaultInvalid(f"fault: {service}.{key}: {first['msg']}") from None


def parse_latency(text: str) -> dict[str, Any]:
    """``fixed:200``, ``uniform:50-150``, ``lognormal:200:0.5``, each optionally ``@/route/{id}``, then
    optionally ``%SHARE`` (0..1: the share of matching requests delayed, e.g. ``fixed:800@/productos%0.1``)."""
    body, percent, share_text = text.rpartition("%")
    if not percent:
        body = share_text
    spec, _, route = body.partition("@")
    dist, _, params = spec.partition(":")
    try:
        rule: dict[str, Any]
        if dist == "fixed":
            rule = {"dist": "fixed", "ms": float(params)}
        elif dist == "uniform":
            low, high = params.split("-")
            rule = {"dist": "uniform", "low_ms": float(low), "high_ms": float(high)}
        elif dist == "lognormal":
            median, _, sigma = params.partition(":")
            rule = {"dist": "lognormal", "ms": float(median), **({"sigma": float(sigma)} if sigma else {})}
        else:
            raise ValueError
        if percent:
            rule["share"] = float(share_text)
    except ValueError:
        raise FaultInvalid(
            f"fault: latency {text!r}: expected fixed:MS, uniform:LOW-HIGH or lognormal:MEDIAN[:SIGMA], "
            "optionally @/route, then optionally %SHARE"
        ) from None
    return {**rule, "route": route} if route else rule


def _switch_value(name: str, text: str) -> Any:
    if name == "latency":
        return parse_latency(text)
    field = FaultSet.model_fields.get(name)
    if field is not None and field.annotation is bool:
        if text.lower() not in ("true", "false", "1", "0", "on", "off"):
            raise FaultInvalid(f"fault: {name}: expected true or false (got {text!r})")
        return text.lower() in ("true", "1", "on")
    if field is not None and get_origin(field.annotation) is Literal:
        allowed = get_args(field.annotation)
        chosen = next((value for value in allowed if str(value) == text), None)
        if chosen is None:
            raise FaultInvalid(f"fault: {name}: expected {' or '.join(map(str, allowed))} (got {text!r})")
        return chosen
    return text


def parse_fault_args(items: Iterable[str]) -> dict[str, FaultSet]:
    """``["deposito.error_rate=0.2", ...]`` -> service -> validated ``FaultSet``."""
    raw: dict[str, dict[str, Any]] = {}
    for item in items:
        target, sep, value = item.partition("=")
        service, dot, name = target.partition(".")
        if not sep or not dot:
            raise FaultInvalid(f"fault: {item!r}: expected SERVICE.SWITCH=VALUE (e.g. deposito.error_rate=0.2)")
        switches = raw.setdefault(service, {})
        parsed = _switch_value(name, value)
        if name == "latency":
            switches.setdefault("latency", []).append(parsed)
        else:
            switches[name] = parsed
    return {service: fault_set(service, switches) for service, switches in raw.items()}


def fault_args(faults: FaultSet) -> str:
    """A ``FaultSet`` as the JSON one service process takes on its command line."""
    return faults.model_dump_json(exclude_defaults=True)


TIMED_SWITCHES = ("login_fail_for_s", "slow_start_s")
"""Switches whose effect lasts a number of seconds from the moment they were set."""
CRASH_EXIT_CODE = 70
MIN_CRASH_DELAY_S = 0.1
"""A crash switched on over HTTP still lets the admin answer go out first."""


class LiveFaults:
    """The switches of one running service process, replaced by the admin endpoint.

    ``should_fail`` spreads ``error_rate`` evenly (a credit that fails a request each time it
    reaches 1), so a share of 0.25 fails exactly every 4th request and tests can count; a latency
    rule's ``share`` is spread the same way, with a credit of its own.
    """

    def __init__(self, service: str, initial: FaultSet, *, seed: int | None = None) -> None:
        self.service = service
        self.current = FaultSet()
        self._credit: dict[Hashable, float] = {}
        self._set_at: dict[str, float] = {}
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._crash: threading.Timer | None = None
        self.replace(initial)

    def replace(self, faults: FaultSet) -> None:
        with self._lock:
            now = time.monotonic()
            for name in TIMED_SWITCHES:
                if getattr(faults, name) != getattr(self.current, name):
                    self._set_at[name] = now
            self.current = faults
            self._credit = {}
            if self._crash is not None:
                self._crash.cancel()
                self._crash = None
            if faults.crash_after_s is not None:
                self._crash = threading.Timer(max(faults.crash_after_s, MIN_CRASH_DELAY_S), self._exit)
                self._crash.daemon = True
                self._crash.start()

    def _exit(self) -> None:
        logging.getLogger(self.service).error("crash fault: process exits now (code %d)", CRASH_EXIT_CODE)
        logging.shutdown()
        os._exit(CRASH_EXIT_CODE)

    def latency_s(self, path: str) -> float:
        for index, rule in enumerate(self.current.latency):
            if rule.matches(path) and self._picks(("latency", index), rule.share):
                with self._lock:
                    return rule.sample_ms(self._rng) / 1000.0
        return 0.0

    def should_fail(self) -> bool:
        return self._picks("error_rate", self.current.error_rate)

    def _picks(self, key: Hashable, share: float) -> bool:
        """True for exactly ``share`` of the calls with this ``key``, evenly spread (the last of each 1/share)."""
        if share <= 0:
            return False
        with self._lock:
            credit = self._credit.get(key, 0.0) + share
            picked = credit >= 1.0 - 1e-9
            self._credit[key] = credit - 1.0 if picked else credit
        return picked

    def _within(self, name: str) -> bool:
        seconds: float | None = getattr(self.current, name)
        return seconds is not None and time.monotonic() - self._set_at[name] < seconds

    def login_failing(self) -> bool:
        """``login_fail_for_s`` has not yet run out."""
        return self._within("login_fail_for_s")

    def starting_slowly(self) -> bool:
        """``slow_start_s`` has not yet run out."""
        return self._within("slow_start_s")
