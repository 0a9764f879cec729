"""The fast sketch decoder answers exactly what ddsketch's own decoder answers."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from ddsketch.pb.ddsketch_pb2 import DDSketch as DDSketchMessage

from analysis._sketches import merge_encoded, parse
from stagegate_core.histogram import decode, encode, new_sketch

QUANTILES = (0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0)


def test_merged_quantiles_equal_ddsketch() -> None:
    rng = np.random.default_rng(3)
    encoded, reference = [], new_sketch()
    for _ in range(30):
        one = new_sketch()
        for value in rng.lognormal(np.log(40), 0.9, 80):
            one.add(float(value))
            reference.add(float(value))
        one.add(0.0)
        reference.add(0.0)
        encoded.append(encode(one))
    merged = merge_encoded(encoded)
    assert merged.count == reference.count
    for q in QUANTILES:
        assert merged.get_quantile_value(q) == reference.get_quantile_value(q)
        assert merge_encoded([decode(e) and e for e in encoded]).get_quantile_value(q) == reference.get_quantile_value(q)


def test_sparse_bin_counts_are_read() -> None:
    one = new_sketch()
    for value in (5.0, 5.0, 80.0):
        one.add(value)
    message = DDSketchMessage()
    message.ParseFromString(base64.b64decode(encode(new_sketch())))
    key5, key80 = one._mapping.key(5.0), one._mapping.key(80.0)
    message.positiveValues.binCounts[key5] = 2.0
    message.positiveValues.binCounts[key80] = 1.0
    bins = parse(base64.b64encode(message.SerializeToString()).decode())
    assert bins.keys.tolist() == [key5, key80]
    assert bins.counts.tolist() == [2.0, 1.0]
    assert merge_encoded([bins]).get_quantile_value(0.5) == one.get_quantile_value(0.5)


@pytest.mark.parametrize(("text", "message"), [
    ("***", "not a DDSketch: Only base64 data is allowed"),
    (base64.b64encode(b"\xff\xff\xff").decode(), "not a DDSketch"),
])
def test_not_a_sketch(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse(text)
    assert str(caught.value).startswith(message)
