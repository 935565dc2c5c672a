"""End to end through the ONNX frontend: one small model per op family, built in code, with
totals worked out by hand (the formulas are unit-tested in tests/ops; these check that shapes,
attributes, weights and roles arrive right)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import edgeprof
from edgeprof.report.model import Profile

F = TensorProto.FLOAT


def _model(nodes: list[onnx.NodeProto], inputs: Sequence[tuple[str, int, Sequence[int]]],
           outputs: Sequence[str], inits: Sequence[onnx.TensorProto] = (), opset: int = 21) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info(n, t, list(s)) for n, t, s in inputs],
        [helper.make_tensor_value_info(o, TensorProto.UNDEFINED, None) for o in outputs], list(inits),
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _w(name: str, shape: Sequence[int], dtype: type = np.float32, fill: float = 0.5) -> onnx.TensorProto:
    return numpy_helper.from_array(np.full(shape, fill, dtype=dtype), name)


def _profile(model: onnx.ModelProto) -> Profile:
    p = edgeprof.profile(model)
    assert p.not_counted == (), p.not_counted
    return p


def test_depthwise_conv_and_conv_transpose() -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w_dw"], ["d"], group=8, pads=[1, 1, 1, 1], kernel_shape=[3, 3]),
        helper.make_node("ConvTranspose", ["d", "w_t"], ["y"], strides=[2, 2], kernel_shape=[2, 2]),
    ]
    p = _profile(_model(nodes, [("x", F, (1, 8, 10, 10))], ["y"], [_w("w_dw", (8, 1, 3, 3)), _w("w_t", (8, 4, 2, 2))]))
    # depthwise: 800 outputs x 9 taps = 7,200 MACs, (2*9-1)*800 = 13,600 FLOPs
    # transpose: 8 ch x 100 px x 4 taps x 4 out ch = 12,800 MACs; each of the 1,600 outputs gets
    # 8 products (stride = kernel): 15 FLOPs each = 24,000
    assert (p.totals.macs, p.totals.flops) == (7_200 + 12_800, 13_600 + 24_000)
    assert p.layers[1].output_shape == (1, 4, 20, 20)
    assert p.totals.params == 72 + 128


def test_gemm_with_bias_and_einsum() -> None:
    nodes = [
        helper.make_node("Gemm", ["x", "w", "b"], ["y"]),
        helper.make_node("Einsum", ["a", "c"], ["z"], equation="bij,bjk->bik"),
    ]
    inputs = [("x", F, (2, 16)), ("a", F, (3, 4, 5)), ("c", F, (3, 5, 6))]
    p = _profile(_model(nodes, inputs, ["y", "z"], [_w("w", (16, 8)), _w("b", (8,))], opset=17))
    # FC 16 -> 8 with bias on 2 rows: 2 x 2ij = 512 FLOPs, 256 MACs (the seed's 2ij)
    # einsum: 72 outputs, dot products of 5: 72 x 9 = 648 FLOPs, 360 MACs
    assert (p.totals.flops, p.totals.macs) == (512 + 648, 256 + 360)
    assert p.totals.params == 16 * 8 + 8


def test_norms_activations_softmax() -> None:
    nodes = [
        helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["bn"]),
        helper.make_node("LayerNormalization", ["t", "g", "beta"], ["ln"], axis=-1),
        helper.make_node("Softmax", ["ln"], ["sm"], axis=-1),
        helper.make_node("Sigmoid", ["sm"], ["sg"]),
        helper.make_node("Relu", ["sg"], ["r"]),
    ]
    inits = [_w("s", (4,)), _w("b", (4,)), _w("m", (4,)), _w("v", (4,)), _w("g", (8,)), _w("beta", (8,))]
    p = _profile(_model(nodes, [("x", F, (1, 4, 6, 6)), ("t", F, (2, 5, 8))], ["bn", "r"], inits))
    # BN (inference): 4 per element + 3 per channel = 4*144 + 12 = 588
    # LayerNorm: 10 rows of 8: 10*(6*8+3) + 80 (bias) = 590; Softmax 10*(5*8-2) = 380;
    # Sigmoid 4*80 = 320; Relu 80
    assert p.totals.flops == 588 + 590 + 380 + 320 + 80
    assert p.totals.macs == 0
    # BN's running mean and variance are buffers: params = scale, bias, gamma, beta
    assert p.totals.params == 4 + 4 + 8 + 8
    assert p.totals.weight_bytes == 4 * (16 + 16)


def test_resize_reduce_and_data_movement() -> None:
    nodes = [
        helper.make_node("Resize", ["x", "", "scales"], ["up"], mode="linear"),
        helper.make_node("ReduceMean", ["t", "axes"], ["mean"], keepdims=0),
        helper.make_node("Transpose", ["u"], ["ut"], perm=[2, 1, 0]),
        helper.make_node("Reshape", ["ut", "shape"], ["flat"]),
    ]
    inits = [
        numpy_helper.from_array(np.array([1, 1, 2, 2], dtype=np.float32), "scales"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axes"),
        numpy_helper.from_array(np.array([24], dtype=np.int64), "shape"),
    ]
    inputs = [("x", F, (1, 1, 4, 4)), ("t", F, (2, 6)), ("u", F, (2, 3, 4))]
    p = _profile(_model(nodes, inputs, ["up", "mean", "flat"], inits))
    by_name = {layer.op: layer for layer in p.layers}
    # bilinear upsampling to 8x8: 9 per output element x 64 = 576; mean of 6: 6 per output x 2 = 12
    assert by_name["Resize"].flops == 576
    assert by_name["Resize"].output_shape == (1, 1, 8, 8)
    assert by_name["ReduceMean"].flops == 12
    # a transpose moves 96 bytes in and out; a reshape is a view
    assert (by_name["Transpose"].bytes_read, by_name["Transpose"].bytes_written) == (96, 96)
    assert (by_name["Reshape"].state, by_name["Reshape"].bytes_read) == ("zero", 0)
    assert p.totals.params == 0  # scales, axes and a shape are constants


def test_attention_opset_23() -> None:
    nodes = [helper.make_node("Attention", ["q", "k", "v"], ["y"])]
    shape = (1, 2, 4, 8)
    p = _profile(_model(nodes, [("q", F, shape), ("k", F, shape), ("v", F, shape)], ["y"], opset=23))
    # 32 scores: QK^T 32 x 15 = 480; scale 32; softmax 8 rows of 4: 8 x 18 = 144;
    # probs@V: 64 outputs, dot products of 4: 64 x 7 = 448. MACs 32 x 8 + 64 x 4 = 512.
    assert (p.totals.flops, p.totals.macs) == (480 + 32 + 144 + 448, 512)
    assert p.categories[0].category == "attention"


def test_lstm_counts_every_step() -> None:
    nodes = [helper.make_node("LSTM", ["x", "W", "R", "B"], ["y", "yh"], hidden_size=5)]
    inits = [_w("W", (1, 20, 4)), _w("R", (1, 20, 5)), _w("B", (1, 40))]
    p = _profile(_model(nodes, [("x", F, (3, 1, 4))], ["y", "yh"], inits))
    # 3 steps x 4 gates x 5 hidden x (4 inputs + 5 recurrent) = 540 MACs
    assert p.totals.macs == 540
    assert p.totals.params == 80 + 100 + 40


def test_quantised_graph_counts_integer_ops_by_precision() -> None:
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
        helper.make_node("QLinearConv", ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["yq"]),
        helper.make_node("DequantizeLinear", ["yq", "ys", "yz"], ["y"]),
    ]
    inits = [
        _w("xs", (), fill=0.1), numpy_helper.from_array(np.array(128, dtype=np.uint8), "xz"),
        numpy_helper.from_array(np.ones((3, 2, 3, 3), dtype=np.int8), "w"),
        _w("ws", (), fill=0.1), numpy_helper.from_array(np.array(0, dtype=np.int8), "wz"),
        _w("ys", (), fill=0.2), numpy_helper.from_array(np.array(128, dtype=np.uint8), "yz"),
    ]
    p = _profile(_model(nodes, [("x", F, (1, 2, 5, 5))], ["y"], inits, opset=13))
    assert [layer.output_shape for layer in p.layers] == [(1, 2, 5, 5), (1, 3, 3, 3), (1, 3, 3, 3)]
    # QuantizeLinear 5 FLOPs x 50 inputs; DequantizeLinear 2 FLOPs x 27 outputs (float precision)
    assert p.totals.flops == 250 + 54
    # QLinearConv in uint8: Kc = 18, 27 outputs: (2*18-1)*27 = 945, zero points 50 + 54,
    # requantise 4 x 27 = 108 -> 1,157 integer OPs; 486 MACs
    assert (p.totals.int_ops, p.totals.macs) == (945 + 50 + 54 + 108, 486)
    assert p.layers[1].precision == "uint8"
    # the int8 weights are the parameters; scales and zero points are quantisation constants
    assert p.totals.params == 54
    assert {g.dtype: g.params for g in p.weights_by_dtype}["int8"] == 54
