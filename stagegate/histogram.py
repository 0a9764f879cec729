"""Latency sketches: mergeable, with a bounded relative error, and their wire format.

DDSketch (DataDog's ``ddsketch`` package) is used rather than HdrHistogram because its error bound
is relative to the value (0.1 % here, what the recorder promises for p95), it merges exactly across
Locust workers and windows, and it has a maintained protobuf wire format: a window's sketch travels
as base64 of ``DDSketchProto``. Both sides of the stream use these three functions and nothing else.
"""

from __future__ import annotations

import base64

from ddsketch import DDSketch
from ddsketch.ddsketch import BaseDDSketch
from ddsketch.pb.ddsketch_pb2 import DDSketch as DDSketchMessage
from ddsketch.pb.proto import DDSketchProto

RELATIVE_ACCURACY = 0.001


def new_sketch() -> DDSketch:
    """An empty sketch with the stream's relative accuracy."""
    return DDSketch(relative_accuracy=RELATIVE_ACCURACY)


def encode(sketch: BaseDDSketch) -> str:
    """The sketch as the ``sketch`` field of a window record."""
    return base64.b64encode(DDSketchProto.to_proto(sketch).SerializeToString()).decode("ascii")


def decode(text: str) -> BaseDDSketch:
    """A sketch from a window record's ``sketch`` field; raises ``ValueError`` when it is not one."""
    message = DDSketchMessage()
    try:
        message.ParseFromString(base64.b64decode(text, validate=True))
    except Exception as exc:  # protobuf raises its own DecodeError; binascii raises Error
        raise ValueError(f"not a DDSketch: {exc}") from exc
    return DDSketchProto.from_proto(message)
