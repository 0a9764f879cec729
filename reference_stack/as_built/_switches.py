"""Switches of the as-built model: the choices docs/as-built.md leaves open about the real code.

They differ from the reference stack's fault switches (``reference_stack._faults``): a fault is a
defect injected into a clean service; these pick which documented state of the real code the
model shows. They are environment variables, so ``stagegate stack up --contract as-built --env
NAME=VALUE`` and ``running_stack(contract="as-built", env={...})`` both set them::

    STAGEGATE_AS_BUILT_NOT_STARTED=negocio,ml          # these agents refuse connections, as in reality
    STAGEGATE_AS_BUILT_NEGOCIO_VARIANT=r3-main-complete  # the unserved R3 file's /facturas/procesar
    STAGEGATE_AS_BUILT_DEPOSITO_CORS_ORIGINS=http://localhost:8080  # compose default: 400 on every route

Defaults make every service usable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import ValidationError

from reference_stack._errors import FaultInvalid
from stagegate_core.models import FrozenModel

ENV_PREFIX = "STAGEGATE_AS_BUILT_"


class AsBuiltSwitches(FrozenModel):
    """Stack-wide switches, fixed at start-up."""

    not_started: frozenset[Literal["deposito", "negocio", "ml"]] = frozenset()
    """Agents that do not start, as in reality (docs/as-built.md §1, §8): their port refuses connections."""
    negocio_variant: Literal["served-main", "r3-main-complete"] = "served-main"
    """``served-main``: negocio ``main.py`` (field ``file``, 500 TypeError, no timeout);
    ``r3-main-complete``: the unserved R3 file (field ``image``, 400/413/504)."""
    deposito_cors_origins: str = "*"
    """deposito's ``CORS_ORIGINS``, which it also uses as TrustedHost patterns: ``*`` keeps it usable;
    the compose default ``http://localhost:8080`` reproduces ``400 Invalid host header`` on every route."""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AsBuiltSwitches:
        """The switches set as ``STAGEGATE_AS_BUILT_<NAME>`` variables; ``FaultInvalid`` names a bad one."""
        raw: dict[str, object] = {}
        for key, value in env.items():
            if not key.startswith(ENV_PREFIX) or not value:
                continue
            name = key.removeprefix(ENV_PREFIX).lower()
            raw[name] = [part.strip() for part in value.split(",") if part.strip()] if name == "not_started" else value
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = f"{ENV_PREFIX}{str(first['loc'][0]).upper()}" if first["loc"] else ENV_PREFIX
            if first["type"] == "extra_forbidden":
                known = ", ".join(f"{ENV_PREFIX}{field.upper()}" for field in cls.model_fields)
                raise FaultInvalid(f"{name}: unknown switch (known: {known})") from None
            raise FaultInvalid(f"{name}: {first['msg']} (got {first['input']!r})") from None
