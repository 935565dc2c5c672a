"""A constant with no elements (shape [0], an empty buffer) is defined: RESHAPE's shape operand []
reshapes to a scalar (openWakeWord's exported classifiers do this)."""

from __future__ import annotations

from pathlib import Path

import edgeprof
from tests.frontends.tflite_files import builders


def test_reshape_to_a_scalar_through_an_empty_shape_constant(tmp_path: Path) -> None:
    m = builders()
    t = [
        m.Tensor("x", (1, 1)),  # 0
        m.Tensor("shape", (0,), m.INT32, data=b""),  # 1: an empty constant, its own (empty) buffer
        m.Tensor("scalar", ()),  # 2
        m.Tensor("y", ()),  # 3
    ]
    ops = [m.Op("RESHAPE", (0, 1), (2,)), m.Op("RELU", (2,), (3,))]
    path = tmp_path / "scalar.tflite"
    path.write_bytes(m.build([m.Subgraph(t, (0,), (3,), ops, "main")]))
    p = edgeprof.profile(path)
    assert [(x.op, x.state, x.output_shape) for x in p.layers] == [("Reshape", "zero", ()), ("Relu", "counted", ())]
    assert p.totals.flops == 1 and p.not_counted == () and p.totals.params == 0
