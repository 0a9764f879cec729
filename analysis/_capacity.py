"""Capacity from a step-shape run: the knee, the highest step at which every SLO held.

The steps come from the run header: a step run's producer writes its stage table in
``settings.stages`` as ``[{"users": 10, "duration_s": 60}, ...]``, starting at the header's ``t``.
Each step (minus ``settle_s`` while users spawn) is judged alone against ``[capacity.slo]`` of the
rules file.
"""

from __future__ import annotations

from typing import Any

from analysis._errors import AnalysisError
from analysis._judge import judge_rule
from analysis._load import RunData
from analysis._ruleset import CapacitySettings, RuleSet, load_rules
from analysis._sketches import quantile_ms
from analysis._verdict import EXIT_CODES, Capacity, CapacityStep, Verdict


def has_stages(data: RunData) -> bool:
    """True for a step-shape run (scenario ``step``) whose header lists its stage table.

    Every scenario's header lists its stages; only the step shape climbs to find a knee.
    """
    return any(h.get("scenario") == "step" and isinstance(h["settings"].get("stages"), list)
               and h["settings"]["stages"] for h in data.headers)


def stages(data: RunData) -> list[tuple[int, float, float]]:
    """``(users, start, end)`` of each step, from the first run header that lists ``settings.stages``."""
    for header in data.headers:
        table: Any = header["settings"].get("stages")
        if not isinstance(table, list) or not table:
            continue
        found, start = [], header["t"]
        for stage in table:
            if not isinstance(stage, dict) or not isinstance(stage.get("users"), int) \
                    or not isinstance(stage.get("duration_s"), int | float):
                raise AnalysisError(f"{data.results_dir}: run header settings.stages: each stage needs "
                                    f"integer users and numeric duration_s (got {stage!r})")
            found.append((stage["users"], start, start + stage["duration_s"]))
            start += stage["duration_s"]
        return found
    raise AnalysisError(f"{data.results_dir}: not a step-shape run (no run header lists settings.stages)")


def _step(users: int, start: float, end: float, data: RunData, settings: CapacitySettings) -> CapacityStep | None:
    stop = min(end, data.end or end)
    part = data.between(start + settings.settle_s, stop)
    if not part.windows or stop <= start + settings.settle_s:
        return None
    judged = [judge_rule(rule_id, rule, part) for rule_id, rule in settings.slo.items()]
    broken = next((r.id for r in judged if r.status == "FAIL"), None)
    held = all(r.status == "PASS" for r in judged)  # a step too thin to judge (NO_DATA) neither holds nor breaks
    normal = part.select(part.names(traffic={"normal"}))
    answered = normal.total("ok") + normal.total("error")
    sketch = normal.sketch()
    return CapacityStep(
        users=users, start=start, end=stop, ok=held, broken_by=broken,
        rps=round(sum(w["count"] for w in part.windows) / (stop - start - settings.settle_s), 3),
        p95_ms=round(p95, 3) if (p95 := quantile_ms(sketch, 0.95)) is not None else None,
        error_rate=round(normal.total("error") / answered, 6) if answered else 0.0,
    )


def analyze_capacity(run_data: RunData, rules: RuleSet, require_rps: float | None = None) -> Capacity:
    """The knee of a step run; with ``require_rps``, whether the knee reaches it (``passed``)."""
    settings = rules.capacity or load_rules().capacity
    assert settings is not None  # the shipped default has a [capacity] table
    steps = [s for users, a, b in stages(run_data) if (s := _step(users, a, b, run_data, settings))]
    first_broken = next((i for i, s in enumerate(steps) if s.broken_by is not None), len(steps))
    knee = next((s for s in reversed(steps[:first_broken]) if s.ok), None)
    broken_by = steps[first_broken].broken_by if first_broken < len(steps) else None
    return Capacity(
        knee_users=knee.users if knee else None, knee_rps=knee.rps if knee else None, broken_by=broken_by,
        steps=steps, require_rps=require_rps,
        passed=None if require_rps is None else bool(knee and knee.rps >= require_rps),
    )


def with_capacity(verdict: Verdict, capacity: Capacity) -> Verdict:
    """The verdict carrying ``capacity``; a missed ``require_rps`` turns PROMOTE into HOLD."""
    if capacity.passed is not False:
        return verdict.model_copy(update={"capacity": capacity})
    reason = (f"capacity: knee {capacity.knee_rps} req/s ({capacity.knee_users} users) is below the required "
              f"{capacity.require_rps:g} req/s" if capacity.knee_rps is not None
              else f"capacity: no step held every SLO; {capacity.require_rps:g} req/s required")
    held = verdict.verdict if verdict.verdict != "PROMOTE" else "HOLD"
    return verdict.model_copy(update={"capacity": capacity, "verdict": held, "exit_code": EXIT_CODES[held],
                                      "reasons": [*verdict.reasons, reason]})
