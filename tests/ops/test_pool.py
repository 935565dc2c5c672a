"""Closed-form tests of the pooling family (windows counted exactly at padded borders)."""

from __future__ import annotations

import itertools
from math import ceil, prod

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeprof.ops.registry import OpCall, Uncountable, cost_of, lookup
from tests.opcall import cost, make_call


def test_max_pool_2x2_stride_2() -> None:
    # 4 elements per window: 3 comparisons; 3 channels · 16 windows
    c = cost("MaxPool", [(1, 3, 8, 8)], [(1, 3, 4, 4)], kernel_shape=(2, 2), strides=(2, 2))
    assert (c.flops, c.macs) == (3 * 48, 0)
    assert c.category.value == "pooling"


def test_resnet_max_pool_3x3_stride_2_pad_1_counts_border_windows_exactly() -> None:
    # 112 -> 56. Per axis: window 0 starts at -1 (2 real taps), windows 1..55 have 3: 167 taps.
    # Per channel 167² = 27,889 real elements in 3,136 windows: 24,753 comparisons; ·64.
    c = cost(
        "MaxPool", [(1, 64, 112, 112)], [(1, 64, 56, 56)], kernel_shape=(3, 3), strides=(2, 2), pads=(1, 1, 1, 1)
    )
    assert c.flops == 1_584_192


def test_average_pool_padding_excluded_from_adds() -> None:
    # 4x4, 3x3 window, stride 1, pad 1: corner windows 4 real elements, edge 6, centre 9:
    # 4·4 + 8·6 + 4·9 = 100 elements; each window m-1 adds + 1 divide = m ops -> 100.
    for include in (0, 1):  # the divisor changes, the arithmetic does not
        c = cost(
            "AveragePool", [(1, 1, 4, 4)], [(1, 1, 4, 4)], kernel_shape=(3, 3), pads=(1, 1, 1, 1),
            count_include_pad=include,
        )
        assert c.flops == 100


def test_pool_ceil_mode_last_window_is_partial() -> None:
    # 5 -> ceil((5-2)/2 + 1) = 3: per axis windows of 2, 2, 1 real taps = 5; 2-D 25 in 9 windows.
    attrs = {"kernel_shape": (2, 2), "strides": (2, 2), "ceil_mode": 1}
    assert cost("MaxPool", [(1, 1, 5, 5)], [(1, 1, 3, 3)], **attrs).flops == 25 - 9
    assert cost("AveragePool", [(1, 1, 5, 5)], [(1, 1, 3, 3)], **attrs).flops == 25


def test_pool_same_upper_padding() -> None:
    # 5, kernel 3, stride 2 -> 3; total pad 2 -> 1 each side: windows 2, 3, 2 = 7; 49 in 9 windows.
    c = cost("MaxPool", [(1, 1, 5, 5)], [(1, 1, 3, 3)], kernel_shape=(3, 3), strides=(2, 2), auto_pad="SAME_UPPER")
    assert c.flops == 49 - 9


def test_pool_same_lower_puts_the_odd_pad_first() -> None:
    # 1-D: 4, kernel 3, stride 2 -> 2 windows; total pad (2-1)·2 + 3 - 4 = 1.
    # SAME_UPPER pads the end: windows [0..2], [2..4]: 3 + 2 real taps.
    # SAME_LOWER pads the start: windows [-1..1], [1..3]: 2 + 3 real taps.
    # Average: m per window -> 5 both ways; max: m - 1 -> 3 both ways.
    attrs = {"kernel_shape": (3,), "strides": (2,)}
    for auto in ("SAME_UPPER", "SAME_LOWER"):
        assert cost("AveragePool", [(1, 1, 4)], [(1, 1, 2)], auto_pad=auto, **attrs).flops == 5
        assert cost("MaxPool", [(1, 1, 4)], [(1, 1, 2)], auto_pad=auto, **attrs).flops == 3
    # 8, kernel 2, stride 3 -> 3; total pad (3-1)·3 + 2 - 8 = 0: three full windows, 1 comparison each
    assert cost("MaxPool", [(1, 1, 8)], [(1, 1, 3)], kernel_shape=(2,), strides=(3,), auto_pad="SAME_LOWER").flops == 3


def test_pool_dilation() -> None:
    # 7, kernel 3, dilation 2 -> 3 windows of 3 taps: 6 comparisons
    assert cost("MaxPool", [(1, 1, 7)], [(1, 1, 3)], kernel_shape=(3,), dilations=(2,)).flops == 6


def test_lp_pool_three_ops_per_element() -> None:
    # |x|, ^p per element, m-1 adds, one root per window: 3m. 4 windows of 4 per channel, 2 channels.
    c = cost("LpPool", [(1, 2, 4, 4)], [(1, 2, 2, 2)], kernel_shape=(2, 2), strides=(2, 2), p=3)
    assert c.flops == 3 * 16 * 2


def test_global_pools() -> None:
    x, y = (2, 8, 7, 7), (2, 8, 1, 1)
    assert cost("GlobalAveragePool", [x], [y]).flops == 784  # 16 channels · (48 adds + 1 divide)
    assert cost("GlobalMaxPool", [x], [y]).flops == 16 * 48
    assert cost("GlobalLpPool", [x], [y], p=2).flops == 3 * 784


def test_max_unpool_is_a_scatter_with_zero_ops_but_bytes() -> None:
    c = cost("MaxUnpool", [(1, 1, 2, 2), ((1, 1, 2, 2), "int64")], [(1, 1, 4, 4)], kernel_shape=(2, 2), strides=(2, 2))
    assert (c.flops, c.macs) == (0, 0)
    assert (c.bytes_read, c.bytes_written) == (4 * 4 + 8 * 4, 4 * 16)


def test_pool_without_kernel_shape_is_uncountable() -> None:
    with pytest.raises(Uncountable, match="kernel_shape"):
        cost("MaxPool", [(1, 1, 4, 4)], [(1, 1, 2, 2)])


# --- RoI pooling ------------------------------------------------------------------------------


def test_roi_align_avg_and_max() -> None:
    # 5 RoIs, 256 channels, 7x7 bins, sampling_ratio 2 -> 4 points per bin.
    # per RoI 12 (half_pixel) = 60; per point 14: 5·49·4·14 = 13,720;
    # per channel·bin: 4 points · 7 + (3 adds + 1 divide) = 32: 5·256·49·32 = 2,007,040.
    ins = [(1, 256, 14, 14), (5, 4), ((5,), "int64")]
    c = cost("RoiAlign", ins, [(5, 256, 7, 7)], output_height=7, output_width=7, sampling_ratio=2)
    assert c.flops == 60 + 13_720 + 2_007_040
    m = cost("RoiAlign", ins, [(5, 256, 7, 7)], output_height=7, output_width=7, sampling_ratio=2, mode="max")
    assert m.flops == 60 + 13_720 + 5 * 256 * 49 * 31  # 3 maxes instead of 3 adds + 1 divide
    o = cost(
        "RoiAlign", ins, [(5, 256, 7, 7)], output_height=7, output_width=7, sampling_ratio=2,
        coordinate_transformation_mode="output_half_pixel",
    )
    assert o.flops == 50 + 13_720 + 2_007_040


def test_roi_align_adaptive_sampling_is_uncountable() -> None:
    with pytest.raises(Uncountable, match="RoI values"):
        cost("RoiAlign", [(1, 8, 14, 14), (5, 4), ((5,), "int64")], [(5, 8, 7, 7)], output_height=7, output_width=7)


def test_max_roi_pool_is_listed_not_counted() -> None:
    entry = lookup("MaxRoiPool")
    assert entry is not None and entry.state == "not_countable"
    with pytest.raises(Uncountable, match="RoI"):
        cost_of(entry, make_call("MaxRoiPool", [(1, 8, 14, 14), (5, 5)], [(5, 8, 7, 7)], pooled_shape=(7, 7)))


# --- exactness against brute force -----------------------------------------------------------


def _brute_force(
    in_sp: tuple[int, ...], out_sp: tuple[int, ...], k: tuple[int, ...], s: tuple[int, ...],
    d: tuple[int, ...], begin: tuple[int, ...],
) -> list[int]:
    """The real-element count of every window, by enumerating every tap."""
    counts = []
    for o in itertools.product(*(range(n) for n in out_sp)):
        m = 0
        for j in itertools.product(*(range(n) for n in k)):
            pos = [o[a] * s[a] - begin[a] + j[a] * d[a] for a in range(len(o))]
            m += all(0 <= p < n for p, n in zip(pos, in_sp, strict=True))
        counts.append(m)
    return counts


@st.composite
def _pool_case(draw: st.DrawFn) -> tuple[OpCall, list[int]]:
    rank = draw(st.integers(1, 2))
    k = tuple(draw(st.integers(1, 4)) for _ in range(rank))
    s = tuple(draw(st.integers(1, 3)) for _ in range(rank))
    d = tuple(draw(st.integers(1, 2)) for _ in range(rank))
    span = tuple((k[a] - 1) * d[a] + 1 for a in range(rank))
    auto = draw(st.sampled_from(["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]))
    attrs: dict[str, object] = {"kernel_shape": k, "strides": s, "dilations": d, "auto_pad": auto}
    if auto == "NOTSET":
        pads = tuple(draw(st.integers(0, k[a] - 1)) for a in range(rank) for _ in (0, 1))
        pads = pads[0::2] + pads[1::2]  # begins then ends
        ceil_mode = draw(st.integers(0, 1))
        in_sp = tuple(draw(st.integers(max(1, span[a] - pads[a] - pads[a + rank]), 9)) for a in range(rank))
        out_sp = []
        for a in range(rank):
            total = in_sp[a] + pads[a] + pads[a + rank] - span[a]
            o = (ceil(total / s[a]) if ceil_mode else total // s[a]) + 1
            if ceil_mode and (o - 1) * s[a] >= in_sp[a] + pads[a]:
                o -= 1  # a window may not start in the end padding
            out_sp.append(o)
        begin = pads[:rank]
        attrs.update(pads=pads, ceil_mode=ceil_mode)
    else:
        in_sp = tuple(draw(st.integers(span[a], 9)) for a in range(rank))
        if auto == "VALID":
            out_sp = [(in_sp[a] - span[a]) // s[a] + 1 for a in range(rank)]
            begin = (0,) * rank
        else:
            out_sp = [ceil(in_sp[a] / s[a]) for a in range(rank)]
            totals = [max(0, (out_sp[a] - 1) * s[a] + span[a] - in_sp[a]) for a in range(rank)]
            begin = tuple(t // 2 if auto == "SAME_UPPER" else t - t // 2 for t in totals)
    op = draw(st.sampled_from(["MaxPool", "AveragePool", "LpPool"]))
    call = make_call(op, [(1, 2, *in_sp)], [(1, 2, *out_sp)], **attrs)
    return call, _brute_force(in_sp, tuple(out_sp), k, s, d, begin)


@given(case=_pool_case())
def test_pool_counts_match_brute_force_windows(case: tuple[OpCall, list[int]]) -> None:
    call, windows = case
    entry = lookup(call.op)
    assert entry is not None
    per_channel = {
        "MaxPool": sum(max(m - 1, 0) for m in windows),
        "AveragePool": sum(max(m - 1, 0) + 1 for m in windows),
        "LpPool": sum(3 * m if m else 1 for m in windows),
    }[call.op]
    assert cost_of(entry, call).flops == 2 * per_channel
    assert prod(call.out_shape()) == 2 * len(windows)
