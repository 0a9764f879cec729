"""What the deployment holds (its products), learnt at start through the profile's own calls.

The profile's ``[discovery.<kind>]`` tables say which call lists the items, where the list is in
the answer and which item field fills which call placeholder (``id``, ``codigo``). The load fills
those placeholders from a random discovered item, the ledger tracks the first items, smoke's R2
probe uses the first one: the deployment's own data, never a built-in catalogue. A kind with no
items makes the calls that need it unsendable (``values_for`` gives None) and is a finding.

``Discovered`` travels from the Locust master to its workers as JSON in the options, as the OCR
timeout does, so every process loads the same products.
"""

from __future__ import annotations

import functools
import json
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from scenarios.target.profiles import CallSpec, PredictSpec, Profile
from scenarios.target.setup_calls import (
    Unavailable,
    for_how_long,
    no_answer,
    retry_until,
    unavailable_status,
)
from stagegate_core.stream import FindingDraft

DISCOVERY_TIMEOUT_S = 10.0
SECTION = "§7 Load"
_PLACEHOLDER = re.compile(r"\{(\w+)\}")

Item = dict[str, Any]
HeadersFor = Callable[[str, str], Mapping[str, str]]
"""``(service, auth) -> headers``: how a setup call authenticates (``Credentials.headers``)."""


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """``template`` with ``{name}`` placeholders replaced: a whole-string placeholder keeps the value's
    type (``"{id}"`` -> ``7``), one inside text is formatted in; dicts and lists are filled through."""
    if isinstance(template, str):
        if template.startswith("{") and template.endswith("}") and template[1:-1] in values:
            return values[template[1:-1]]
        return template.format_map(_Keep(values)) if "{" in template else template
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values) for value in template]
    return template


class _Keep(dict[str, Any]):
    """Leaves unknown placeholders as they are instead of raising ``KeyError``."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def placeholders(template: Any) -> set[str]:
    """Every ``{name}`` in a template (path, query or body, nested)."""
    if isinstance(template, str):
        return set(_PLACEHOLDER.findall(template))
    if isinstance(template, dict):
        return set().union(*(placeholders(value) for value in template.values())) if template else set()
    if isinstance(template, list):
        return set().union(*(placeholders(value) for value in template)) if template else set()
    return set()


def kinds_needed(profile: Profile, call: CallSpec | PredictSpec) -> list[str]:
    """The discovery kinds whose placeholders ``call`` (a business call or the prediction) uses."""
    query = call.query if isinstance(call, CallSpec) else {}
    used = placeholders(call.path) | placeholders(query) | placeholders(call.json_body)
    return [kind for kind, spec in profile.discovery.items() if used & set(spec.fields)]


@dataclass(frozen=True)
class Discovered:
    """The placeholder values of every discovered item, by kind, in the deployment's order."""

    items: dict[str, list[Item]] = field(default_factory=dict)

    def values_for(self, profile: Profile, call: CallSpec | PredictSpec, rng: random.Random) -> Item | None:
        """Placeholder values for one ``call`` (a random item of each kind it needs); None when a kind it
        needs has no items (the call cannot be sent meaningfully)."""
        values: Item = {}
        for kind in kinds_needed(profile, call):
            found = self.items.get(kind)
            if not found:
                return None
            values.update(rng.choice(found))
        return values

    def first(self, kind: str, count: int | None = None) -> list[Item]:
        """The first ``count`` items of ``kind`` (all of them when None)."""
        found = self.items.get(kind, [])
        return list(found if count is None else found[:count])

    def to_json(self) -> str:
        return json.dumps(self.items, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Discovered:
        data = json.loads(text) if text else {}
        return cls({str(kind): [dict(item) for item in items] for kind, items in data.items()})


def discover(profile: Profile, headers_for: HeadersFor, *, deadline: float,
             client: httpx.Client | None = None) -> tuple[Discovered, list[FindingDraft]]:
    """Send each discovery call (retrying a broken deployment until ``deadline``, on ``client`` or a
    client of its own); findings for the kinds that could not be learnt or are empty."""
    if client is None:
        with httpx.Client(timeout=DISCOVERY_TIMEOUT_S, trust_env=False) as own:
            return discover(profile, headers_for, deadline=deadline, client=own)
    found: dict[str, list[Item]] = {}
    findings: list[FindingDraft] = []
    budget_s = max(0.0, deadline - time.monotonic())
    for kind in profile.discovery:
        try:
            found[kind], evidence = retry_until(deadline, functools.partial(_list, profile, kind, headers_for, client))
        except Unavailable as exc:
            found[kind] = []
            findings.append(_finding(profile, kind, "could not be discovered", for_how_long(exc, budget_s)))
            continue
        except _Unusable as exc:
            found[kind] = []
            findings.append(_finding(profile, kind, "could not be discovered", str(exc)))
            continue
        if not found[kind]:
            findings.append(_finding(profile, kind, "none found", evidence))
    return Discovered(found), findings


class _Unusable(Exception):
    """The discovery call answered, but not with a list of items (a 4xx, another shape)."""


def _list(profile: Profile, kind: str, headers_for: HeadersFor, http: httpx.Client) -> tuple[list[Item], str]:
    spec = profile.discovery[kind]
    call = profile.calls[spec.call]
    url = profile.url(call.service, call.path)
    what = f"{call.service} {call.method} {call.path}"
    headers = dict(headers_for(call.service, call.auth))
    try:
        answer = http.request(call.method, url, params={**call.query, **spec.query}, headers=headers)
    except httpx.HTTPError as exc:
        raise no_answer(what, url, exc) from None
    if unavailable_status(answer.status_code):
        raise Unavailable(f"{what} at {url} answered {answer.status_code}")
    if answer.status_code not in call.ok_statuses:
        raise _Unusable(f"{what} at {url} answered {answer.status_code}")
    try:
        listed = _dotted(answer.json(), spec.items)
    except ValueError:
        raise _Unusable(f"{what} at {url} answered {answer.status_code} with a body that is not JSON") from None
    if not isinstance(listed, list):
        raise _Unusable(f"{what} at {url}: no list at {spec.items or 'the top level'} of the answer")
    items = [{placeholder: item[name] for placeholder, name in spec.fields.items()}
             for item in listed if isinstance(item, dict) and all(item.get(name) is not None for name in spec.fields.values())]
    return items, f"{what} at {url} -> {answer.status_code}, {len(listed)} listed, {len(items)} with {', '.join(spec.fields.values())}"


def _dotted(body: Any, path: str) -> Any:
    for part in filter(None, path.split(".")):
        if not isinstance(body, dict):
            return None
        body = body.get(part)
    return body


def _finding(profile: Profile, kind: str, what: str, evidence: str) -> FindingDraft:
    users = sorted(name for name, call in profile.calls.items() if kind in kinds_needed(profile, call))
    return FindingDraft(
        id=f"discovery_{kind}_{'empty' if what == 'none found' else 'failed'}", section=SECTION, severity="major",
        title=f"{kind} {what}: the calls that need one ({', '.join(users)}) were not sent and the ledger tracks nothing",
        evidence=evidence, reference=f"profile discovery.{kind}",
    )
