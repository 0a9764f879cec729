"""Every smoke check, declared once where it is written: ``@smoke_check(id, section, order, label)``.

The runner reads the registry (``checks()``): the order of the report and of ``smoke.jsonl``, which
check runs in the background beside the others (the OCR check waits for the deployment's timeout)
and which runs last (the logs check, once everything it looks for has been provoked); ``stagegate
smoke --help`` lists the labels. Adding a check: a module in this package with one decorated
function, its test, and (when it is to gate) a ``smoke`` rule naming its id in the rules file.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from scenarios.smoke.context import SmokeContext
    from scenarios.smoke.outcome import CheckOutcome

Run = Callable[["SmokeContext"], "CheckOutcome"]
When = Literal["inline", "background", "last"]


@dataclass(frozen=True)
class SmokeCheck:
    id: str
    """Stable id, in the stream (``smoke.check``) and in ``smoke`` rules."""
    section: str
    """The checklist section (``§7 R1``)."""
    order: int
    """Place in the checklist: the report and the stream list checks by it."""
    label: str
    """How ``stagegate smoke --help`` names it (``R1 non-root``)."""
    run: Run
    when: When = "inline"
    """``background``: beside the inline checks, in a thread (at most one); ``last``: after all others."""


_CHECKS: dict[str, SmokeCheck] = {}


def smoke_check(check_id: str, section: str, *, order: int, label: str,
                when: When = "inline") -> Callable[[Run], Run]:
    """Register the decorated function as the smoke check ``check_id``."""

    def register(run: Run) -> Run:
        if check_id in _CHECKS:
            raise ValueError(f"smoke check {check_id!r} is declared twice")
        _CHECKS[check_id] = SmokeCheck(check_id, section, order, label, run, when)
        return run

    return register


def checks() -> tuple[SmokeCheck, ...]:
    """Every check of this package (each module is imported once), in checklist order."""
    package = __name__.rsplit(".", 1)[0]
    for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
        importlib.import_module(f"{package}.{module.name}")
    return tuple(sorted(_CHECKS.values(), key=lambda check: (check.order, check.id)))
