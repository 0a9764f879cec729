"""Errors of the scenarios side: profiles, targets, chaos plans, checks."""

from __future__ import annotations

from stagegate_core.errors import StagegateError


class ScenarioError(StagegateError):
    """Base of every user-fixable error raised by ``scenarios``."""


class ProfileInvalid(ScenarioError):
    """A target profile is unknown, unreadable or fails validation."""


class TargetUnreachable(ScenarioError):
    """The target deployment does not answer (or the local stack is not running)."""


class PlanInvalid(ScenarioError):
    """A chaos plan or scenario file fails validation."""


class TargetNotAllowed(ScenarioError):
    """Chaos was asked to act on a target the profile and options do not allow."""
