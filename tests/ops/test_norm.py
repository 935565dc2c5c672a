"""Closed-form tests of the normalisation family (one rule: mean n, variance 3n, 1/std 3 per
row, normalise, scale and bias 1 op per element each)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeprof.ops.registry import Uncountable, lookup
from tests.opcall import cost

BN_INPUTS = [(2, 3, 4, 4), (3,), (3,), (3,), (3,)]


def test_batch_norm_inference() -> None:
    # numel 96, C 3: per element subtract, ·1/std, ·scale, +B = 4·96; per channel eps, sqrt, 1/x = 9
    c = cost("BatchNormalization", BN_INPUTS, [(2, 3, 4, 4)])
    assert (c.flops, c.macs) == (4 * 96 + 9, 0)
    assert c.category.value == "normalisation"


def test_batch_norm_training_computes_statistics() -> None:
    # + mean 96, square 96, variance sum/divide 96 -> 7·96 + 9 = 681;
    # each running statistic output: 2 multiplies + 1 add per channel = 9
    y = [(2, 3, 4, 4)]
    assert cost("BatchNormalization", BN_INPUTS, y, training_mode=1).flops == 681
    assert cost("BatchNormalization", BN_INPUTS, [*y, (3,), (3,)], training_mode=1).flops == 681 + 18


def test_batch_norm_running_stats_are_buffers() -> None:
    entry = lookup("BatchNormalization")
    assert entry is not None and entry.buffer_inputs == frozenset({3, 4})


def test_instance_norm() -> None:
    # rows N·C = 6 of 16: 7·16 + 3 per row = 115 -> 690
    assert cost("InstanceNormalization", [(2, 3, 4, 4), (3,), (3,)], [(2, 3, 4, 4)]).flops == 690


def test_group_norm() -> None:
    # 2·6·4·4 = 192 elements in N·G = 6 rows of 32: 7·192 + 3·6 = 1362
    c = cost("GroupNormalization", [(2, 6, 4, 4), (6,), (6,)], [(2, 6, 4, 4)], num_groups=3)
    assert c.flops == 1362
    with pytest.raises(Uncountable, match="num_groups"):
        cost("GroupNormalization", [(2, 6, 4, 4), (6,), (6,)], [(2, 6, 4, 4)], num_groups=4)


def test_layer_norm() -> None:
    # rows 10 of 8: 6·8 + 3 = 51 per row = 510; + bias 80
    x = (2, 5, 8)
    assert cost("LayerNormalization", [x, (8,)], [x]).flops == 510
    assert cost("LayerNormalization", [x, (8,), (8,)], [x]).flops == 590
    # axis 1: rows 2 of 40: 2·(240 + 3) = 486; + bias 80
    assert cost("LayerNormalization", [x, (5, 8), (5, 8)], [x], axis=1).flops == 566
    with pytest.raises(Uncountable, match="axis"):
        cost("LayerNormalization", [x, (8,)], [x], axis=3)


@given(n=st.integers(1, 3), groups=st.integers(1, 4), per_group=st.integers(1, 4), spatial=st.integers(1, 10))
def test_group_norm_is_instance_norm_and_layer_norm_at_the_extremes(
    n: int, groups: int, per_group: int, spatial: int
) -> None:
    c = groups * per_group
    x = (n, c, spatial)
    gn_c = cost("GroupNormalization", [x, (c,), (c,)], [x], num_groups=c).flops
    assert gn_c == cost("InstanceNormalization", [x, (c,), (c,)], [x]).flops == 7 * n * c * spatial + 3 * n * c
    gn_1 = cost("GroupNormalization", [x, (c,), (c,)], [x], num_groups=1).flops
    ln = cost("LayerNormalization", [x, (c, spatial), (c, spatial)], [x], axis=1).flops
    assert gn_1 == ln == 7 * n * c * spatial + 3 * n


def test_rms_norm() -> None:
    # rows 10 of 8: square 8, mean 8, eps/sqrt/1/x 3, normalise 8, scale 8 = 35 -> 350
    assert cost("RMSNormalization", [(2, 5, 8), (8,)], [(2, 5, 8)]).flops == 350


def test_lp_norm() -> None:
    x = (4, 10)
    assert cost("LpNormalization", [x], [x]).flops == 4 * 31  # p=2: 10 + 9 + 1 + 1 + 10
    assert cost("LpNormalization", [x], [x], p=1).flops == 4 * 30  # p=1: 10 + 9 + 1 + 10
    assert cost("LpNormalization", [x], [x], axis=0).flops == 10 * 13  # rows of 4
    with pytest.raises(Uncountable, match="p=3"):
        cost("LpNormalization", [x], [x], p=3)


def test_mean_variance_norm() -> None:
    # default axes (0, 2, 3): 3 groups of 2·16 = 32: 5·32 + 5 = 165 -> 495
    x = (2, 3, 4, 4)
    assert cost("MeanVarianceNormalization", [x], [x]).flops == 495
    # axes (2, 3): 6 groups of 16: 85 -> 510
    assert cost("MeanVarianceNormalization", [x], [x], axes=(2, 3)).flops == 510


def test_lrn_window_clipped_at_channel_edges() -> None:
    # C=5, size 3: windows c-1..c+1 clipped: 2,3,3,3,2 channels -> 8 adds per pixel.
    # 5 ops per element (square, ·alpha/size, +bias, ^beta, divide): 5·20 + 4·8 = 132
    x = (1, 5, 2, 2)
    assert cost("LRN", [x], [x], size=3).flops == 132
    # size 4: c-1..c+2: 3,4,4,3,2 -> 11 adds per pixel: 100 + 44
    assert cost("LRN", [x], [x], size=4).flops == 144
    with pytest.raises(Uncountable, match="size"):
        cost("LRN", [x], [x])
