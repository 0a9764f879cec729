"""Switches of the as-built model: the choices as-built.md leaves open about the real code.

They differ from the reference stack's fault switches (``reference_stack._faults``): a fault is a
defect injected into a clean service; these pick which documented behaviour of the real code the
model shows. Defaults make every service usable; each switch reproduces a documented state::

    AsBuiltSwitches(not_started=frozenset({"negocio"}))   # negocio refuses connections, as in reality
    AsBuiltSwitches(negocio_variant="r3-main-complete")   # the unserved R3 file's /facturas/procesar
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from reference_stack._errors import FaultInvalid

AGENTS = ("deposito", "negocio", "ml")
NEGOCIO_VARIANTS = ("served-main", "r3-main-complete")


class AsBuiltSwitches(BaseModel):
    """Stack-wide switches, fixed at start-up."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    not_started: frozenset[Literal["deposito", "negocio", "ml"]] = frozenset()
    """Agents that do not start, as in reality (as-built.md §0): nothing listens on their port."""
    deposito_cors_origins: str = "*"
    """deposito's ``CORS_ORIGINS``, which it also uses as TrustedHost patterns: ``*`` keeps it usable;
    the compose default ``http://localhost:8080`` reproduces ``400 Invalid host header`` on every route."""
    negocio_variant: Literal["served-main", "r3-main-complete"] = "served-main"
    """``served-main``: negocio ``main.py`` (field ``file``, 500 TypeError, no timeout);
    ``r3-main-complete``: the unserved R3 file (field ``image``, 400/413/504)."""


def parse_switch_args(items: Iterable[str]) -> AsBuiltSwitches:
    """``["not_started=deposito,ml", "negocio_variant=r3-main-complete"]`` -> validated switches."""
    raw: dict[str, object] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise FaultInvalid(f"as-built switch: {item!r}: expected NAME=VALUE (e.g. not_started=negocio)")
        raw[name] = [part for part in value.split(",") if part] if name == "not_started" else value
    try:
        return AsBuiltSwitches.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise FaultInvalid(f"as-built switch: {key}: {first['msg']}") from None
