"""Merging many encoded window sketches into one, the hot loop of a long run's analysis."""

from __future__ import annotations

from collections.abc import Iterable

from ddsketch.ddsketch import BaseDDSketch

from stagegate.histogram import decode, new_sketch


def merge_encoded(encoded: Iterable[str]) -> BaseDDSketch:
    """One sketch holding every sketch of ``encoded`` (an empty one when there is none)."""
    merged = new_sketch()
    for text in encoded:
        merged.merge(decode(text))
    return merged
