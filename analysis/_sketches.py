"""Window sketches decoded fast and kept small, and merged per request name.

A window's ``sketch`` is base64 of the DDSketch protobuf message. ``stagegate_core.histogram.encode``
writes its stores sparse (``binCounts``); ddsketch's own writer, and older streams, write them dense
(``contiguousBinCounts``: every bin between the lowest and highest latency, zeros included).
``ddsketch``'s decoder adds bins one by one in Python, which for a one-hour run (72,000 windows) is
most of a minute; so the loader parses the protobuf wire format here with numpy and keeps only the
non-empty bins as ``Bins``; merging is then a ``bincount``. Both layouts are read.
"""

from __future__ import annotations

import binascii
import struct
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from ddsketch import DDSketch
from ddsketch.ddsketch import BaseDDSketch
from ddsketch.pb.ddsketch_pb2 import Store as StoreMessage
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from stagegate_core.histogram import decode, encode, new_sketch

_REFERENCE = new_sketch()
_MAPPING = _REFERENCE._mapping
_GAMMA: float = _MAPPING.gamma
_EMPTY_KEYS = np.empty(0, dtype=np.int64)
_EMPTY_COUNTS = np.empty(0, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Bins:
    """The non-empty bins of a latency sketch: ``keys`` (sorted) with their ``counts``, and zeros."""

    keys: np.ndarray
    counts: np.ndarray
    zero: float = 0.0

    @property
    def count(self) -> float:
        return float(self.counts.sum()) + self.zero

    def values_ms(self) -> np.ndarray:
        """The representative latency of each bin (what a quantile query answers)."""
        return np.array([_MAPPING.value(int(k)) for k in self.keys], dtype=np.float64)


EMPTY = Bins(_EMPTY_KEYS, _EMPTY_COUNTS)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes, start: int = 0, end: int | None = None) -> Iterable[tuple[int, int, int, int]]:
    """``(field number, wire type, value or payload start, payload end)`` of each field of a message."""
    pos, end = start, len(buf) if end is None else end
    while pos < end:
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield number, wire, value, pos
        elif wire == 1:
            yield number, wire, pos, pos + 8
            pos += 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            yield number, wire, pos, pos + length
            pos += length
        elif wire == 5:
            yield number, wire, pos, pos + 4
            pos += 4
        else:
            raise ValueError(f"not a DDSketch: wire type {wire}")
        if pos > end:
            raise ValueError("not a DDSketch: message cut short")


def _zigzag(n: int) -> int:
    return (n >> 1) ^ -(n & 1)


def _store(buf: bytes, start: int, end: int) -> Bins:
    dense: np.ndarray = _EMPTY_COUNTS
    offset = 0
    for number, wire, a, b in _fields(buf, start, end):
        if number == 2 and wire == 2:
            dense = np.frombuffer(buf, dtype="<f8", count=(b - a) // 8, offset=a)
        elif number == 3 and wire == 0:
            offset = _zigzag(a)
        elif number == 1 and wire == 2:
            return _store_with_map(buf[start:end])
        else:
            raise ValueError(f"not a DDSketch store: field {number} (wire type {wire})")
    nonzero = dense.nonzero()[0]
    return Bins(nonzero + offset, dense[nonzero])  # fancy indexing copies: nothing keeps ``buf`` alive


def _store_with_map(raw: bytes) -> Bins:
    """A store with sparse ``binCounts`` (as other DDSketch writers send): protobuf's C parser reads it."""
    try:
        store = StoreMessage.FromString(raw)
    except DecodeError as exc:
        raise ValueError(f"not a DDSketch store: {exc}") from None
    mapped = store.binCounts
    dense = np.array(store.contiguousBinCounts, dtype=np.float64)
    nonzero = dense.nonzero()[0]
    return _merge([
        Bins(nonzero + store.contiguousBinIndexOffset, dense[nonzero]),
        Bins(np.fromiter(mapped.keys(), dtype=np.int64, count=len(mapped)),
             np.fromiter(mapped.values(), dtype=np.float64, count=len(mapped))),
    ])


def parse(text: str) -> Bins:
    """A window's ``sketch`` field as ``Bins``; ``ValueError`` when it is not one of ours."""
    try:
        buf = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not a DDSketch: {exc}") from None
    positive, zero = EMPTY, 0.0
    try:
        for number, wire, a, b in _fields(buf):
            if number == 1 and wire == 2:
                if buf[a:b] != _MAPPING_BYTES:
                    _check_mapping(buf, a, b)
            elif number == 2 and wire == 2:
                positive = _store(buf, a, b)
            elif number == 3 and wire == 2:
                if b > a and _store(buf, a, b).counts.size:
                    raise ValueError("not a latency sketch: negative values")
            elif number == 4 and wire == 1:
                zero = struct.unpack_from("<d", buf, a)[0]
            else:
                raise ValueError(f"not a DDSketch: field {number} (wire type {wire})")
    except (IndexError, struct.error) as exc:
        raise ValueError(f"not a DDSketch: {exc}") from None
    return positive if not zero else Bins(positive.keys, positive.counts, zero)


def _check_mapping(buf: bytes, start: int, end: int) -> None:
    gamma, interpolation, offset = 0.0, 0, 0.0
    for number, wire, a, _ in _fields(buf, start, end):
        if number == 1 and wire == 1:
            gamma = struct.unpack_from("<d", buf, a)[0]
        elif number == 2 and wire == 1:
            offset = struct.unpack_from("<d", buf, a)[0]
        elif number == 3 and wire == 0:
            interpolation = a
    if abs(gamma - _GAMMA) > 1e-12 or interpolation != 0 or offset != 0.0:
        raise ValueError(f"sketch mapping differs from stagegate's (gamma {gamma}, interpolation {interpolation})")


def _merge(parts: list[Bins]) -> Bins:
    parts = [p for p in parts if p.keys.size or p.zero]
    if not parts:
        return EMPTY
    keys = np.concatenate([p.keys for p in parts])
    counts = np.concatenate([p.counts for p in parts])
    zero = sum(p.zero for p in parts)
    if not keys.size:
        return Bins(_EMPTY_KEYS, _EMPTY_COUNTS, zero)
    low = int(keys.min())
    summed = np.bincount(keys - low, weights=counts)
    nonzero = np.flatnonzero(summed)
    return Bins(nonzero.astype(np.int64) + low, summed[nonzero], zero)


def _mapping_bytes() -> bytes:
    buf = binascii.a2b_base64(encode(_REFERENCE))
    return next(buf[a:b] for number, wire, a, b in _fields(buf) if number == 1 and wire == 2)


_MAPPING_BYTES = _mapping_bytes()
"""The wire form of stagegate's mapping: a window sketch carrying exactly these bytes needs no check."""


def merge_bins(items: Iterable[str | Bins]) -> Bins:
    """The sum of several sketches (encoded text or ``Bins``)."""
    return _merge([item if isinstance(item, Bins) else parse(item) for item in items])


def to_sketch(bins: Bins) -> BaseDDSketch:
    """``Bins`` as a ddsketch object answering ``get_quantile_value`` like the recorder's own."""
    sketch: DDSketch = new_sketch()
    if bins.keys.size:
        low, high = int(bins.keys[0]), int(bins.keys[-1])
        dense = np.zeros(high - low + 1)
        dense[bins.keys - low] = bins.counts
        store = sketch._store
        store.offset, store.bins = low, dense.tolist()
        store.count, store.min_key, store.max_key = float(bins.counts.sum()), low, high
    sketch._zero_count = bins.zero
    sketch._count = sketch._store.count + bins.zero
    return sketch


def quantile_ms(sketch: BaseDDSketch | None, q: float) -> float | None:
    """The ``q`` quantile of a sketch, None when there is no sketch or it is empty."""
    if sketch is None or not sketch.count:
        return None
    value = sketch.get_quantile_value(q)
    return None if value is None else float(value)


def merge_encoded(items: Iterable[str | Bins]) -> BaseDDSketch:
    """One sketch holding every sketch of ``items`` (encoded text or ``Bins``; empty when none)."""
    return to_sketch(merge_bins(items))


__all__ = ["EMPTY", "Bins", "decode", "merge_bins", "merge_encoded", "parse", "quantile_ms", "to_sketch"]
