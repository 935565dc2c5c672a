"""Closed-form tests of ONNX Runtime's com.microsoft fused ops (each = the ops it fuses)."""

from __future__ import annotations

import pytest

from edgeprof.ops.registry import Uncountable
from tests.opcall import cost

MS = "com.microsoft::"


def test_fused_conv_is_conv_plus_activation() -> None:
    # 3x3, 2 -> 4 channels, 5x5 output: Kc = 18; conv (2·18-1)·100 + 100 bias = 3,600; Relu 100.
    ins = [(1, 2, 7, 7), (4, 2, 3, 3), (4,)]
    assert cost(MS + "FusedConv", ins, [(1, 4, 5, 5)], activation="Relu").flops == 3_600 + 100
    sig = cost(MS + "FusedConv", ins, [(1, 4, 5, 5)], activation="Sigmoid")
    assert (sig.flops, sig.macs) == (3_600 + 400, 1_800)
    assert cost(MS + "FusedConv", ins, [(1, 4, 5, 5)]).flops == 3_600
    with_z = cost(MS + "FusedConv", [*ins, (1, 4, 5, 5)], [(1, 4, 5, 5)], activation="Clip")
    assert with_z.flops == 3_600 + 100 + 200
    with pytest.raises(Uncountable, match="Gelu"):
        cost(MS + "FusedConv", ins, [(1, 4, 5, 5)], activation="Gelu")


def test_fused_matmul_trans_and_alpha() -> None:
    # A (2, 6, 3) with transA: K = 6; B (6, 5); Y (2, 3, 5) = 30 dot products of 6: 330 FLOPs, 180 MACs.
    c = cost(MS + "FusedMatMul", [(2, 6, 3), (6, 5)], [(2, 3, 5)], transA=1)
    assert (c.flops, c.macs) == (330, 180)
    assert cost(MS + "FusedMatMul", [(2, 6, 3), (6, 5)], [(2, 3, 5)], transA=1, alpha=0.125).flops == 360


def test_gelu_family() -> None:
    x = [(2, 8)]
    assert cost(MS + "Gelu", x, x).flops == 5 * 16
    assert cost(MS + "BiasGelu", [(2, 8), (8,)], x).flops == 6 * 16
    assert cost(MS + "FastGelu", x, x).flops == 13 * 16
    assert cost(MS + "FastGelu", [(2, 8), (8,)], x).flops == 14 * 16
    assert cost(MS + "QuickGelu", x, x).flops == 6 * 16


def test_skip_layer_normalization() -> None:
    # (2, 3, 8): 6 rows of n = 8. skip add 48 + bias add 48; LayerNorm 6·(6·8+3) = 306, + beta 48.
    x, h = (2, 3, 8), (8,)
    full = cost(MS + "SkipLayerNormalization", [x, x, h, h, h], [x])
    assert full.flops == 48 + 48 + 306 + 48
    assert full.category.value == "normalisation"
    assert cost(MS + "SkipLayerNormalization", [x, x, h], [x]).flops == 48 + 306
    # RMS: 6·(4·8+3) = 210
    assert cost(MS + "SkipSimplifiedLayerNormalization", [x, x, h], [x]).flops == 48 + 210
    assert cost(MS + "SimplifiedLayerNormalization", [x, h], [x], axis=-1).flops == 210


_F, _I8 = "float32", "int8"


def _q(shape: tuple[int, ...]) -> list[tuple[tuple[int, ...], str]]:
    """A quantised operand: the tensor, its scale and its zero point."""
    return [(shape, _I8), ((), _F), ((), _I8)]


def test_qlinear_add_and_mul() -> None:
    # A (2, 3) + B (3,) -> Y (2, 3): zero points 6 + 3; add: (3 + 4)·6; mul: (1 + 4)·6.
    ins = [*_q((2, 3)), *_q((3,)), ((), _F), ((), _I8)]
    add = cost(MS + "QLinearAdd", ins, [((2, 3), _I8)])
    assert (add.flops, add.int_ops, add.precision) == (0, 9 + 42, "int8")
    assert cost(MS + "QLinearMul", ins, [((2, 3), _I8)]).int_ops == 9 + 30
    no_zp = [((2, 3), _I8), ((), _F), None, ((3,), _I8), ((), _F), None, ((), _F), ((), _I8)]
    assert cost(MS + "QLinearAdd", no_zp, [((2, 3), _I8)]).int_ops == 42


def test_qgemm_int_and_float_outputs() -> None:
    # A (4, 8), B (8, 5) -> Y (4, 5): 20 dot products of 8 = 300 ops, 160 MACs; zero points 32 + 40;
    # bias 20; requantise 4·20 (int Y) or dequantise 20 (float Y).
    base = [*_q((4, 8)), *_q((8, 5)), ((5,), "int32")]
    c = cost(MS + "QGemm", [*base, ((), _F), ((), _I8)], [((4, 5), _I8)])
    assert (c.int_ops, c.macs) == (300 + 72 + 20 + 80, 160)
    f = cost(MS + "QGemm", base, [((4, 5), _F)])
    assert (f.int_ops, f.macs) == (300 + 72 + 20 + 20, 160)
    t = cost(MS + "QGemm", [*_q((8, 4)), *_q((8, 5))], [((4, 5), _F)], transA=1)
    assert t.macs == 160


def test_qlinear_global_average_pool_layouts() -> None:
    # N·C = 6 channels of m = 16: 6·(15 + 1 + 4) = 120.
    nchw = cost(MS + "QLinearGlobalAveragePool", [*_q((2, 3, 4, 4)), ((), _F), ((), _I8)], [((2, 3, 1, 1), _I8)])
    assert nchw.int_ops == 120
    nhwc = cost(MS + "QLinearGlobalAveragePool", [*_q((2, 4, 4, 3)), ((), _F), ((), _I8)], [((2, 1, 1, 3), _I8)],
                channels_last=1)
    assert nhwc.int_ops == 120


def test_qlinear_average_pool_is_average_pool_with_a_requantise_for_the_divide() -> None:
    # 2x2 windows, stride 2 over 4x4, 2 channels: 8 outputs of 4 taps: 3 adds each = 24, + (1 + 4)·8 = 64.
    x = [*_q((1, 2, 4, 4)), ((), _F), ((), _I8)]
    c = cost(MS + "QLinearAveragePool", x, [((1, 2, 2, 2), _I8)], kernel_shape=[2, 2], strides=[2, 2])
    assert c.int_ops == 24 + 40
    nhwc = cost(MS + "QLinearAveragePool", [*_q((1, 4, 4, 2)), ((), _F), ((), _I8)], [((1, 2, 2, 2), _I8)],
                kernel_shape=[2, 2], strides=[2, 2], channels_last=1)
    assert nhwc.int_ops == c.int_ops
