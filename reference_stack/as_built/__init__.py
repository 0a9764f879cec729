"""The as-built contract: a model of the real v0.10.0 code built from as-built.md, not the real system.

Each service module (``deposito``, ``negocio``, ``ml``, ``dashboard``) builds what the real code
at c2bc417 would serve, defects included (JWT 500s, ``/health`` behind a JWT, no login route,
the dashboard's 429 without security headers, no p95 metric...). ``AsBuiltSwitches`` pick the
documented states as-built.md leaves open (an agent that does not start, the unserved R3 file).
"""

from __future__ import annotations

from reference_stack.as_built._label import MODEL_LABEL
from reference_stack.as_built._switches import AsBuiltSwitches, parse_switch_args

__all__ = ["MODEL_LABEL", "AsBuiltSwitches", "parse_switch_args"]
