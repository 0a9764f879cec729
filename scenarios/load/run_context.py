"""Everything a run's users and listeners share, built once per Locust process by ``install``.

Users reach it with ``run_context(self.environment)``; it is kept per ``Environment`` (not in a
global) so tests with fresh environments never see each other's runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from weakref import WeakKeyDictionary

from locust.env import Environment

from scenarios.load.pacing import ArrivalSchedule
from scenarios.load.recorder import Recorder
from scenarios.scenario_file import ScenarioFile
from scenarios.target.credentials import Credentials
from scenarios.target.discovery import Discovered
from scenarios.target.profiles import Profile

LEDGER_KIND = "products"
"""The discovery kind whose ``id`` the stock movements and the ledger snapshots use."""


@dataclass(frozen=True)
class InvoiceFile:
    """One invoice to upload: where it is, what kind it is, and how to send it."""

    path: Path
    kind: Literal["normal", "heavy", "hostile"]
    content_type: str
    size_bytes: int
    refusals: tuple[int, ...] = ()
    """Refusals a correct service answers to this file (a hostile one): 400, 413, 415, 422..."""


@dataclass(frozen=True)
class TokenCase:
    """One token to present: a forged case (must be refused) or a control (must be accepted)."""

    case_id: str
    token: str = field(repr=False)
    severity: str
    targets: tuple[str, ...]
    """Agents to present it to (every agent when the case does not say)."""
    expected_statuses: tuple[int, ...] = (401, 403)
    """Answers that count as right: the refusals of a forged case, the 2xx of a control."""
    control: bool = False


@dataclass
class RunContext:
    """The run as this process sees it."""

    profile: Profile
    credentials: Credentials
    scenario: ScenarioFile
    recorder: Recorder
    ocr_timeout_s: float
    ocr_grace_s: float
    invoices: list[InvoiceFile] = field(default_factory=list)
    token_cases: list[TokenCase] = field(default_factory=list)
    schedule: ArrivalSchedule | None = None
    discovered: Discovered = field(default_factory=Discovered)
    """What the deployment holds (its products), learnt at start by the master or standalone process."""
    rng: random.Random = field(default_factory=random.Random)

    def invoices_of(self, kind: str) -> list[InvoiceFile]:
        return [invoice for invoice in self.invoices if invoice.kind == kind]

    def tracked_products(self) -> list[int]:
        """Ids of the products the ledger tracks: the first ``ledger_products`` discovered ones."""
        return [item["id"] for item in self.discovered.first(LEDGER_KIND, self.scenario.ledger_products)]


_CONTEXTS: WeakKeyDictionary[Environment, RunContext] = WeakKeyDictionary()


def attach(environment: Environment, context: RunContext) -> None:
    _CONTEXTS[environment] = context


def has_context(environment: Environment) -> bool:
    return environment in _CONTEXTS


def run_context(environment: Environment) -> RunContext:
    """The context ``install`` attached to ``environment``."""
    try:
        return _CONTEXTS[environment]
    except KeyError:
        raise RuntimeError("scenarios.install(environment) has not run for this environment") from None
