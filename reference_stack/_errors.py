"""Errors of the reference stack that the user can fix (busy port, bad fault switch, no stack)."""

from __future__ import annotations

from stagegate_core.errors import StagegateError


class StackError(StagegateError):
    """Base of every user-fixable error raised by ``reference_stack``."""


class PortBusy(StackError):
    """A port the stack needs is already taken (or cannot be bound)."""


class FaultInvalid(StackError):
    """A fault switch is unknown, malformed, or does not apply to the service it names."""


class ContractUnknown(StackError):
    """``--contract`` names a contract the reference stack does not implement."""


class StackNotRunning(StackError):
    """``stack down``/``status`` found no stack in the state directory."""


class StackAlreadyRunning(StackError):
    """``stack up`` found a live stack in the state directory."""


class StackStartFailed(StackError):
    """A service exited or never answered its health check during ``stack up``."""


class ConfigInvalid(StackError):
    """A service's start-up configuration is unusable (e.g. a non-numeric INFLATION_RATE_MONTHLY)."""
