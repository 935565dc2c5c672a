"""A QOperator-format model written by onnxruntime's own quantisation tool: every com.microsoft
quantised op gets its shape and its count (nothing listed as not counted)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgeprof

quantization = pytest.importorskip("onnxruntime.quantization")


class _Reader(quantization.CalibrationDataReader):  # type: ignore[misc,name-defined]
    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self._batches = iter([{"x": rng.standard_normal((1, 3, 8, 8)).astype(np.float32)} for _ in range(4)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


def _float_model(path: Path) -> None:
    rng = np.random.default_rng(1)

    def init(name: str, *shape: int) -> onnx.TensorProto:
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Add", ["r", "c"], ["a"]),
        helper.make_node("Mul", ["a", "r"], ["m"]),
        helper.make_node("AveragePool", ["m"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["p"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "qop", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
        [init("w", 8, 3, 3, 3), init("b", 8), init("fw", 8, 4), init("fb", 4)],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def test_qoperator_model_from_onnxruntime_is_fully_counted(tmp_path: Path) -> None:
    src, dst = tmp_path / "f.onnx", tmp_path / "q.onnx"
    _float_model(src)
    logging.getLogger().setLevel(logging.ERROR)  # the tool warns about QOperator on x64
    quantization.quantize_static(str(src), str(dst), _Reader(), quant_format=quantization.QuantFormat.QOperator,
                                 activation_type=quantization.QuantType.QInt8,
                                 weight_type=quantization.QuantType.QInt8)
    ops = [n.op_type for n in onnx.load(str(dst)).graph.node]
    assert {"QLinearAdd", "QLinearMul", "QLinearAveragePool", "QLinearGlobalAveragePool", "QGemm"} <= set(ops)
    p = edgeprof.profile(dst)
    assert not p.not_counted and not p.totals.is_lower_bound
    by_op = {layer.op: layer for layer in p.layers}
    # 2x2 stride-2 windows over 8 channels of 8x8: 128 outputs of 3 adds + (1 + 4) each.
    assert by_op["com.microsoft::QLinearAveragePool"].int_ops == 128 * (3 + 5)
    # then 8 channels of 4x4 = 16: 8·(15 + 1 + 4) integer OPs.
    assert by_op["com.microsoft::QLinearGlobalAveragePool"].int_ops == 160
    # f (1, 8) · fw (8, 4): 4 dot products of 8 = 60 + zero points 8 + 32 + bias 4 + requantise 16.
    gemm = by_op["com.microsoft::QGemm"]
    assert (gemm.int_ops, gemm.macs, gemm.flops) == (120, 32, 0)
    # 8x8x8 = 512 outputs: zero points 512 + 512, (3 + 4)·512 for the add, (1 + 4)·512 for the multiply.
    assert by_op["com.microsoft::QLinearAdd"].int_ops == 1024 + 7 * 512
    assert by_op["com.microsoft::QLinearMul"].int_ops == 1024 + 5 * 512
    assert p.totals.macs == 8 * 27 * 64 + 32
