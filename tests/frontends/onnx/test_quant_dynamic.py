"""Models written by ONNX Runtime's quantisers (issue #15, item 3): ``quantize_dynamic`` on an
LSTM + MatMul model and on a com.microsoft Attention model, then ORT's own graph optimiser (which
fuses DynamicQuantizeMatMul), and ``quantize_static`` (QOperator) on a small conv net with
Sigmoid, LeakyRelu, Concat and Softmax. Every op gets a shape (without onnxruntime's symbolic
shape inference: the frontend's own rules) and a count, and the MACs equal the float model's."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgeprof
from edgeprof.frontends.onnx import _shapes

quantization = pytest.importorskip("onnxruntime.quantization")
ort = pytest.importorskip("onnxruntime")

S, B, IN, H = 5, 1, 16, 32


@pytest.fixture(autouse=True)
def _own_rules_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The frontend's own shape rules, not onnxruntime's symbolic inference, must know these ops."""
    monkeypatch.setattr(_shapes, "ort_symbolic_shapes", lambda _model: {})
    logging.getLogger().setLevel(logging.ERROR)


def _init(rng: np.random.Generator, name: str, *shape: int) -> onnx.TensorProto:
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def _save(nodes: list[onnx.NodeProto], x: list[int], inits: list[onnx.TensorProto], path: Path, ms: bool = False) -> Path:
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, x)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid("com.microsoft", 1)] if ms else [])
    onnx.save(helper.make_model(graph, opset_imports=opsets), path)
    return path


def _lstm_model(path: Path) -> Path:
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("LSTM", ["x", "W", "R", "Bb"], ["Y", "Yh", "Yc"], hidden_size=H),
        helper.make_node("Squeeze", ["Y", "ax"], ["ys"]),
        helper.make_node("MatMul", ["ys", "fw"], ["m"]),
        helper.make_node("Relu", ["m"], ["y"]),
    ]
    inits = [_init(rng, "W", 1, 4 * H, IN), _init(rng, "R", 1, 4 * H, H), _init(rng, "Bb", 1, 8 * H),
             numpy_helper.from_array(np.array([1], np.int64), "ax"), _init(rng, "fw", H, 64)]
    return _save(nodes, [S, B, IN], inits, path)


def _optimised(src: Path, dst: Path) -> Path:
    """ORT's extended graph optimisations fuse the quantised MatMul pattern into DynamicQuantizeMatMul."""
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    so.optimized_model_filepath = str(dst)
    ort.InferenceSession(str(src), so, providers=["CPUExecutionProvider"])
    return dst


def _ops(path: Path) -> set[str]:
    return {n.op_type for n in onnx.load(str(path)).graph.node}


def _fully_counted(path: Path) -> edgeprof.Profile:
    p = edgeprof.profile(path)
    assert not p.not_counted, p.not_counted
    assert not p.totals.is_lower_bound
    return p


def test_dynamic_quantized_lstm_and_matmul_are_counted_in_full(tmp_path: Path) -> None:
    src = _lstm_model(tmp_path / "f.onnx")
    q = tmp_path / "q.onnx"
    quantization.quantize_dynamic(str(src), str(q), weight_type=quantization.QuantType.QInt8)
    assert {"DynamicQuantizeLSTM", "MatMulInteger", "DynamicQuantizeLinear"} <= _ops(q)
    fused = _optimised(q, tmp_path / "fused.onnx")
    assert {"DynamicQuantizeLSTM", "DynamicQuantizeMatMul"} <= _ops(fused)
    fp32 = _fully_counted(src)
    decomposed, fused_p = _fully_counted(q), _fully_counted(fused)
    lstm_macs = S * B * 4 * H * (IN + H)
    assert fp32.totals.macs == lstm_macs + S * B * H * 64
    assert decomposed.totals.macs == fused_p.totals.macs == fp32.totals.macs
    by_op = {layer.op: layer for layer in fused_p.layers}
    lstm = by_op["com.microsoft::DynamicQuantizeLSTM"]
    assert lstm.macs == lstm_macs
    # the float LSTM's count + DynamicQuantizeLinear of X (7n+7) and of h each step (7·B·H+7) +
    # 2·4H dequantise multiplies per step.
    float_lstm = next(layer for layer in fp32.layers if layer.op == "LSTM")
    assert lstm.int_ops == float_lstm.flops + (7 * S * B * IN + 7) + S * (7 * B * H + 7) + S * B * 8 * H
    # The fused DynamicQuantizeMatMul costs exactly what the decomposed pattern costs.
    pattern = {"DynamicQuantizeLinear", "Mul", "MatMulInteger", "Cast"}
    parts = sum(layer.flops + layer.int_ops for layer in decomposed.layers if layer.op in pattern)
    dqmm = by_op["com.microsoft::DynamicQuantizeMatMul"]
    assert dqmm.int_ops == parts and dqmm.macs == S * B * H * 64


def test_dynamic_quantized_attention_is_counted_in_full(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    hidden, seq, heads = 16, 6, 2
    nodes = [helper.make_node("Attention", ["x", "aw", "ab"], ["a"], domain="com.microsoft", num_heads=heads),
             helper.make_node("MatMul", ["a", "fw"], ["y"])]
    src = _save(nodes, [1, seq, hidden], [_init(rng, "aw", hidden, 3 * hidden), _init(rng, "ab", 3 * hidden),
                                          _init(rng, "fw", hidden, 8)], tmp_path / "f.onnx", ms=True)
    q = tmp_path / "q.onnx"
    quantization.quantize_dynamic(str(src), str(q), weight_type=quantization.QuantType.QInt8,
                                  extra_options={"DefaultTensorType": TensorProto.FLOAT})
    assert "QAttention" in _ops(q)
    fp32, quant = _fully_counted(src), _fully_counted(q)
    projection = seq * 3 * hidden * hidden
    core = 2 * heads * seq * seq * (hidden // heads)
    assert fp32.totals.macs == quant.totals.macs == projection + core + seq * hidden * 8
    qatt = next(layer for layer in quant.layers if layer.op == "com.microsoft::QAttention")
    att = next(layer for layer in fp32.layers if layer.op == "com.microsoft::Attention")
    # the float count + zero points (input and weight) + the combined scale + one dequantise per projected value
    assert qatt.int_ops == att.flops + seq * hidden + 3 * hidden * hidden + 1 + seq * 3 * hidden


class _Reader(quantization.CalibrationDataReader):  # type: ignore[misc,name-defined]
    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self._batches = iter([{"x": rng.standard_normal((1, 3, 8, 8)).astype(np.float32)} for _ in range(4)])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._batches, None)


def test_static_qoperator_activations_and_concat_are_counted(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Sigmoid", ["c"], ["s"]),
        helper.make_node("LeakyRelu", ["c"], ["l"], alpha=0.1),
        helper.make_node("Concat", ["s", "l"], ["cat"], axis=1),
        helper.make_node("Conv", ["cat", "w2", "b2"], ["c2"]),
        helper.make_node("Softmax", ["c2"], ["y"], axis=1),
    ]
    src = _save(nodes, [1, 3, 8, 8], [_init(rng, "w", 8, 3, 3, 3), _init(rng, "b", 8), _init(rng, "w2", 4, 16, 1, 1),
                                      _init(rng, "b2", 4)], tmp_path / "f.onnx")
    q = tmp_path / "q.onnx"
    quantization.quantize_static(str(src), str(q), _Reader(), quant_format=quantization.QuantFormat.QOperator,
                                 activation_type=quantization.QuantType.QUInt8, weight_type=quantization.QuantType.QInt8)
    assert {"QLinearSigmoid", "QLinearLeakyRelu", "QLinearConcat", "QLinearSoftmax"} <= _ops(q)
    fp32, quant = _fully_counted(src), _fully_counted(q)
    assert quant.totals.macs == fp32.totals.macs == 8 * 27 * 64 + 4 * 16 * 64
    by_op = {layer.op: layer.int_ops for layer in quant.layers}
    n = 8 * 64  # elements of c
    assert by_op["com.microsoft::QLinearSigmoid"] == n * (2 + 4 + 5)
    assert by_op["com.microsoft::QLinearLeakyRelu"] == n * (2 + 2 + 5)
    assert by_op["com.microsoft::QLinearConcat"] == 2 * n * 5
    # softmax over the 4 channels at each of 64 positions: 64·(5·4-2) + 256·(2 + 5)
    assert by_op["com.microsoft::QLinearSoftmax"] == 64 * 18 + 256 * 7
