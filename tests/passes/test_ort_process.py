"""``runtime_estimate.process_peak_bytes``: a default-options ONNX Runtime process, by its rules."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgeprof
from edgeprof.passes import ort_process
from edgeprof.passes.ort_process import process_peak


def _conv_model() -> onnx.ModelProto:
    # x 1x4x8x8 (1,024 B) -> 1x1 Conv to 16 channels (filter 256 B) -> HardSwish -> GAP
    w = numpy_helper.from_array(np.ones((16, 4, 1, 1), np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("HardSwish", ["c"], ["h"]),
             helper.make_node("GlobalAveragePool", ["h"], ["g"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
                              [helper.make_tensor_value_info("g", TensorProto.FLOAT, [1, 16, 1, 1])], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_process_peak_is_filled_for_an_onnx_model_and_its_parts_add_up() -> None:
    mem = edgeprof.profile(_conv_model()).memory
    assert mem is not None and mem.predicted.runtime_estimate is not None
    est = mem.predicted.runtime_estimate
    # by hand: weights 256 B, all of them a Conv filter; ORT activation peak 13,312 B (HardSwish
    # with its temporary), of which the caller holds the 1,024 B input
    session = 11_600_000 + round(2.36 * 256)
    load = session + round(1.07 * 256)
    run = session + 7_700_000 + round(2.42 * (13_312 - 1_024))
    assert est.process_peak_bytes == max(load, run) == run == 19_330_341
    parts = process_peak(edgeprof.load(_conv_model()).graph, 256, 13_312, 1_024)
    assert (parts.conv_weight_bytes, parts.arena_activation_bytes) == (256, 12_288)
    assert (parts.session_bytes, parts.load_peak_bytes, parts.run_peak_bytes) == (session, load, run)
    assert parts.run_peak_bytes == parts.session_bytes + parts.run_fixed_bytes + parts.arena_bytes
    assert parts.peak_bytes == est.process_peak_bytes
    assert est.provenance.kind == "estimated"
    assert set(ort_process.PROCESS_RULES) <= set(est.provenance.sources)


def test_load_peak_wins_when_the_weights_dominate() -> None:
    # 40 MB of non-Conv weights and no activations: the load peak (session + 1.07 x weights)
    # is above the run (session + 7.7 MB fixed)
    graph = edgeprof.load(_conv_model()).graph
    p = process_peak(graph, 40_000_000, 0, 0)
    assert p.conv_weight_bytes == 256
    assert p.session_bytes == 11_600_000 + round(2.36 * 256 + 0.66 * (40_000_000 - 256))
    assert p.load_peak_bytes == p.session_bytes + round(1.07 * 40_000_000)
    assert p.peak_bytes == p.load_peak_bytes > p.run_peak_bytes


def test_process_peak_is_absent_for_other_formats() -> None:
    torch = pytest.importorskip("torch")
    p = edgeprof.profile(torch.nn.Conv2d(4, 16, 1), input_shapes=[(1, 4, 8, 8)])
    assert p.memory is not None and p.memory.predicted.runtime_estimate is None
    text = p.memory.to_json()
    assert "process_peak_bytes" not in text
