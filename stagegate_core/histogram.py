"""Latency sketches: mergeable, with a bounded relative error, and their wire format.

DDSketch (DataDog's ``ddsketch`` package) is used rather than HdrHistogram because its error bound
is relative to the value (0.1 % here, what the recorder promises for p95), it merges exactly across
Locust workers and windows, and it has a maintained protobuf wire format: a window's sketch travels
as base64 of the ``DDSketch`` protobuf message. Both sides of the stream use these functions.

The stores are written sparse (the message's ``binCounts`` map, non-empty bins only) rather than
as ddsketch's dense ``contiguousBinCounts``: at 0.1 % accuracy a window spanning 1 ms to 1 s holds
~3,500 bins of which a few dozen are used, and the dense form made streams ten times larger and
their analysis ten times slower. Both layouts are read.
"""

from __future__ import annotations

import base64

from ddsketch import DDSketch
from ddsketch.ddsketch import BaseDDSketch
from ddsketch.pb import ddsketch_pb2 as pb
from ddsketch.pb.proto import KeyMappingProto
from ddsketch.store import DenseStore

RELATIVE_ACCURACY = 0.001


def new_sketch() -> DDSketch:
    """An empty sketch with the stream's relative accuracy."""
    return DDSketch(relative_accuracy=RELATIVE_ACCURACY)


def _store_message(store: DenseStore) -> pb.Store:
    message = pb.Store()
    for position, count in enumerate(store.bins):
        if count:
            message.binCounts[store.offset + position] = count
    return message


def _store_from(message: pb.Store) -> DenseStore:
    store = DenseStore()
    for key, count in message.binCounts.items():
        store.add(key, count)
    for position, count in enumerate(message.contiguousBinCounts):
        if count:
            store.add(message.contiguousBinIndexOffset + position, count)
    return store


def encode(sketch: BaseDDSketch) -> str:
    """The sketch as the ``sketch`` field of a window record."""
    message = pb.DDSketch(
        mapping=KeyMappingProto.to_proto(sketch._mapping),  # type: ignore[no-untyped-call]
        positiveValues=_store_message(sketch._store),
        negativeValues=_store_message(sketch._negative_store),
        zeroCount=sketch._zero_count,
    )
    return base64.b64encode(message.SerializeToString()).decode("ascii")


def decode(text: str) -> BaseDDSketch:
    """A sketch from a window record's ``sketch`` field; raises ``ValueError`` when it is not one."""
    message = pb.DDSketch()
    try:
        message.ParseFromString(base64.b64decode(text, validate=True))
    except Exception as exc:  # protobuf raises its own DecodeError; binascii raises Error
        raise ValueError(f"not a DDSketch: {exc}") from exc
    return BaseDDSketch(
        mapping=KeyMappingProto.from_proto(message.mapping),  # type: ignore[no-untyped-call]
        store=_store_from(message.positiveValues),
        negative_store=_store_from(message.negativeValues),
        zero_count=message.zeroCount,
    )
