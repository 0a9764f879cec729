"""The one pydantic base for files and settings stagegate reads: frozen, and unknown keys refused.

A typo in a profile, plan, rules file, scenario file, manifest or token catalogue (``at_mots = 3``)
is an error naming the key, never a silently ignored setting; a loaded model never changes after
validation. The verdict's output models are not of this kind (they are built, not read) and keep
their own base in ``analysis/_verdict.py``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class FrozenModel(BaseModel):
    """``extra="forbid"``, ``frozen=True``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
