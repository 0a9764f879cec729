"""The label every surface of the as-built model carries, so nobody mistakes it for the real system."""

from __future__ import annotations

import logging

MODEL_LABEL = "a model of the real code built from its description (docs/as-built.md), not the real system"
"""Put in the start-up banner, in every ``/health`` body and in docs/reference-stack.md."""

log = logging.getLogger("reference_stack.as_built")


def log_banner(service: str, models: str) -> None:
    """Log the banner first, before the real code's own start-up lines, so ``grep`` finds both."""
    log.warning("AS-BUILT MODEL %s: %s; models %s", service, MODEL_LABEL, models)
