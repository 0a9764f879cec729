"""Errors of the analysis package: things the user can fix (exit 2)."""

from __future__ import annotations

from stagegate_core.errors import StagegateError


class AnalysisError(StagegateError):
    """Base class of everything ``analysis`` refuses to judge."""


class RulesInvalid(AnalysisError):
    """A rules file is unreadable, not TOML, or has a bad key: ``rules.toml: rules.x.value: ...``."""


class ResultsDirInvalid(AnalysisError):
    """A results directory is missing, unreadable, or holds no stream file at all."""
