"""Errors of the generators."""

from __future__ import annotations

from stagegate.errors import StagegateError


class GeneratorError(StagegateError):
    """Base of every user-fixable error raised by ``generators``."""
