"""ONNX Runtime's CPU kernel temporaries added to the predicted peak, worked out by hand."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgeprof


def _model(nodes: list[onnx.NodeProto], inputs: list[onnx.ValueInfoProto], out: onnx.ValueInfoProto,
           inits: list[onnx.TensorProto]) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "g", inputs, [out], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_hard_swish_holds_one_temporary_of_its_output() -> None:
    # x 1x4x8x8 (1,024 B) -> 1x1 Conv to 16 channels c (4,096 B) -> HardSwish h (4,096 B) -> GAP g (64 B).
    # In use while HardSwish runs: x + c + h = 9,216 B (the prediction's peak); + its temporary 4,096 = 13,312.
    w = numpy_helper.from_array(np.ones((16, 4, 1, 1), np.float32), "w")
    m = _model([helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("HardSwish", ["c"], ["h"]),
                helper.make_node("GlobalAveragePool", ["h"], ["g"])],
               [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
               helper.make_tensor_value_info("g", TensorProto.FLOAT, [1, 16, 1, 1]), [w])
    mem = edgeprof.profile(m).memory
    assert mem is not None and mem.predicted.runtime_estimate is not None
    assert mem.predicted.peak_activation_bytes == 9_216
    est = mem.predicted.runtime_estimate
    assert (est.peak_activation_bytes, est.scratch_at_peak_bytes, est.peak_at) == (13_312, 4_096, mem.predicted.peak_at)
    assert est.peak_bytes == mem.predicted.weight_bytes + 13_312 == 256 + 13_312
    assert est.provenance.kind == "estimated"


def test_where_holds_two_temporaries_only_when_it_broadcasts() -> None:
    # cond (8,) bool broadcast against x 1x4x8x8: in use cond 8 + x 1,024 + y 1,024 = 2,056; + 2 x 1,024.
    zero = numpy_helper.from_array(np.zeros((), np.float32), "zero")
    inputs = [helper.make_tensor_value_info("cond", TensorProto.BOOL, [8]),
              helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])]
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])
    mem = edgeprof.profile(_model([helper.make_node("Where", ["cond", "x", "zero"], ["y"])], inputs, out, [zero])).memory
    assert mem is not None and mem.predicted.runtime_estimate is not None
    assert (mem.predicted.peak_activation_bytes, mem.predicted.runtime_estimate.peak_activation_bytes) == (2_056, 2_056 + 2_048)
    same = [helper.make_tensor_value_info("cond", TensorProto.BOOL, [1, 4, 8, 8]),
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8]),
            helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 4, 8, 8])]
    mem = edgeprof.profile(_model([helper.make_node("Where", ["cond", "x", "z"], ["y"])], same, out, [])).memory
    assert mem is not None and mem.predicted.runtime_estimate is not None
    assert mem.predicted.runtime_estimate.scratch_at_peak_bytes == 0
    assert mem.predicted.runtime_estimate.peak_bytes == mem.predicted.peak_bytes


def test_only_onnx_files_get_the_onnx_runtime_estimate() -> None:
    torch = pytest.importorskip("torch")
    p = edgeprof.profile(torch.nn.Hardswish(), input_shapes=[(1, 4, 8, 8)])
    assert p.memory is not None and p.memory.predicted.runtime_estimate is None
