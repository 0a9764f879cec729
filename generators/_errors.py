"""Errors of the generators."""

from __future__ import annotations

from stagegate_core.errors import StagegateError


class GeneratorError(StagegateError):
    """Base of every user-fixable error raised by ``generators``."""


class InvoiceSpecInvalid(GeneratorError):
    """An invoice request that cannot be met: zero count, unknown kind, impossible size."""


class ManifestInvalid(GeneratorError):
    """A ``manifest.json`` that is missing, unreadable or not in the manifest format."""


class SecretMissing(GeneratorError):
    """An agent's JWT secret is not set; the message names the variable, never a value."""


class EnvFileUnreadable(GeneratorError):
    """The ``--env-file`` given for secrets cannot be read."""


class CatalogueInvalid(GeneratorError):
    """A token catalogue JSON file that is missing, unreadable or malformed."""
