"""The one pydantic base for files and settings stagegate reads: frozen, and unknown keys refused.

A typo in a profile, plan, rules file, scenario file, manifest or token catalogue (``at_mots = 3``)
is an error naming the key, never a silently ignored setting; a loaded model never changes after
validation. The verdict's output models are not of this kind (they are built, not read) and keep
their own base in ``analysis/_verdict.py``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    """``extra="forbid"``, ``frozen=True``, ``allow_inf_nan=False`` (no ``inf`` or ``nan`` in a file we read)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


MAX_DURATION_S = 86_400.0
"""The longest duration, start offset or timeout a file may set (one day): a plan step at ``1e300`` s or a
stage of a year is a typo, refused up front rather than overflowing a timer later."""
MAX_COUNT = 1_000_000
"""The largest count (users, weights, products) a file may set."""
