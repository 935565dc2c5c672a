"""One model, two formats: the float CNN of scripts/make_tflite_models.py written again as ONNX
(NCHW, the same layers and weight counts) gives the same conv/matmul MACs, the same FLOPs per
layer and the same parameters through both frontends and the one op registry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import edgeprof
from tests.frontends.tflite_files import write


def _onnx_twin(path: Path) -> Path:
    rng = np.random.default_rng(0)

    def init(name: str, *shape: int) -> TensorProto:
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["input", "conv_w", "conv_b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Conv", ["r", "dw_w", "dw_b"], ["d"], kernel_shape=[3, 3], strides=[2, 2], group=4,
                         auto_pad="SAME_UPPER"),
        helper.make_node("AveragePool", ["d"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Reshape", ["p", "shape"], ["flat"]),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["probs"], axis=-1),
    ]
    inits = [
        init("conv_w", 4, 3, 3, 3), init("conv_b", 4), init("dw_w", 8, 1, 3, 3), init("dw_b", 8),
        numpy_helper.from_array(np.array([1, 32], dtype=np.int64), "shape"), init("fc_w", 10, 32), init("fc_b", 10),
    ]
    graph = helper.make_graph(
        nodes, "twin", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 10])], inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save(model, str(path))
    return path


def test_tflite_and_onnx_agree_on_macs_flops_and_params(tmp_path: Path) -> None:
    tfl = edgeprof.profile(write(tmp_path, "float_cnn"))
    onx = edgeprof.profile(_onnx_twin(tmp_path / "twin.onnx"))

    def cores(p: edgeprof.Profile) -> list[tuple[str, int, int, int]]:
        return [(layer.op, layer.macs, layer.flops, layer.params) for layer in p.layers
                if layer.op in ("Conv", "Gemm", "MatMul")]

    assert cores(tfl) == cores(onx) == [
        ("Conv", 6912, 13824, 112), ("Conv", 1152, 2304, 80), ("Gemm", 320, 640, 330),
    ]
    assert tfl.totals.macs == onx.totals.macs
    assert tfl.totals.params == onx.totals.params == 522
    # every other layer too: the fused RELU costs what ONNX's separate Relu costs
    def ops(p: edgeprof.Profile) -> list[tuple[str, int]]:
        return [(layer.op, layer.flops) for layer in p.layers]

    assert ops(tfl) == ops(onx)
    assert tfl.totals.flops == onx.totals.flops
