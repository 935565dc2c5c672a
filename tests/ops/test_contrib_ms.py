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
