"""Op family: pooling (AveragePool, MaxPool, LpPool, their Global forms, MaxUnpool, RoiAlign,
MaxRoiPool).

The output shape is taken as given (ceil_mode and auto_pad are already in it). Each output's
window is counted **exactly from the pads**: only the taps that fall inside the input are
arithmetic (padding is never added or compared, in either count_include_pad mode; the mode only
changes the divisor). With m real elements in a window:

* MaxPool: m-1 comparisons;
* AveragePool: m-1 adds + 1 divide;
* LpPool: |x| and ^p per element (2m), m-1 adds, one ^(1/p): 3m.

Windows are products of per-axis intervals, so every total is a product of per-axis sums.
``channels_last=1`` says X and Y are stored (N, spatial..., C) (TFLite's NHWC).
Computing MaxPool's ``Indices`` output is index arithmetic and is not counted.
"""

from __future__ import annotations

from math import prod

from edgeprof.ops.conv import resolve_pads, spatial_ints, taps_inside, windows_with_taps
from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, formula, not_countable


class _Windows:
    """The per-axis tap counts of one pooling call: totals over every output of a channel."""

    def __init__(self, call: OpCall) -> None:
        x, y = call.in_shape(0), call.out_shape()
        if call.attr_int("channels_last", 0) and len(x) >= 3 and len(y) >= 3:  # TFLite's NHWC
            x, y = (x[0], x[-1], *x[1:-1]), (y[0], y[-1], *y[1:-1])
        if len(x) < 3 or len(y) != len(x) or x[:2] != y[:2]:
            raise Uncountable(f"{call.op} shapes do not fit: X {x}, Y {y}")
        rank = len(x) - 2
        kernel = call.attr_ints("kernel_shape")
        if kernel is None or len(kernel) != rank:
            raise Uncountable(f"{call.op}: kernel_shape must have {rank} values, got {kernel}")
        strides = spatial_ints(call, "strides", rank, 1)
        dilations = spatial_ints(call, "dilations", rank, 1)
        begins = resolve_pads(call, x[2:], y[2:], kernel, strides, dilations)
        axes = list(zip(x[2:], y[2:], kernel, strides, dilations, begins, strict=True))
        self.channels = x[0] * x[1]
        self.outputs = prod(y[2:])  # per channel
        # real elements over all windows of a channel, and windows with no real element
        self.taps = prod(taps_inside(o, s, k, d, p, i) for i, o, k, s, d, p in axes)
        self.empty = self.outputs - prod(windows_with_taps(o, s, k, d, p, i) for i, o, k, s, d, p in axes)


@formula(
    "MaxPool", category=Category.POOLING,
    example=Example(((1, 2, 4, 4),), ((1, 2, 2, 2),), {"kernel_shape": (2, 2), "strides": (2, 2)}, ops=24),
)
def max_pool(call: OpCall) -> Arith:
    """N·C·Σ_windows (m-1) comparisons, m = the window's taps inside the input (exact at padded borders)."""
    w = _Windows(call)
    return Arith(ops=w.channels * (w.taps - w.outputs + w.empty))


@formula(
    "AveragePool", category=Category.POOLING,
    example=Example(((1, 2, 4, 4),), ((1, 2, 2, 2),), {"kernel_shape": (2, 2), "strides": (2, 2)}, ops=32),
)
def average_pool(call: OpCall) -> Arith:
    """N·C·Σ_windows (m-1 adds + 1 divide), m = the window's taps inside the input; padding is never added."""
    w = _Windows(call)
    return Arith(ops=w.channels * (w.taps + w.empty))


@formula(
    "LpPool", category=Category.POOLING,
    example=Example(((1, 2, 4, 4),), ((1, 2, 2, 2),), {"kernel_shape": (2, 2), "strides": (2, 2)}, ops=96),
)
def lp_pool(call: OpCall) -> Arith:
    """N·C·Σ_windows 3m: |x| and ^p per element (2m), m-1 adds, one ^(1/p); m = taps inside the input."""
    w = _Windows(call)
    return Arith(ops=w.channels * (3 * w.taps + w.empty))  # an empty window still takes its root


def _global(call: OpCall) -> tuple[int, int]:
    """(N·C, spatial elements per channel) of a global pooling call."""
    x = call.in_shape(0)
    if len(x) < 3:
        raise Uncountable(f"{call.op} needs an (N, C, ...) input, got {x}")
    return x[0] * x[1], prod(x[2:])


@formula("GlobalAveragePool", category=Category.POOLING, example=Example(((1, 2, 4, 4),), ((1, 2, 1, 1),), ops=32))
def global_average_pool(call: OpCall) -> Arith:
    """N·C·(m-1 adds + 1 divide) = numel(X), m = prod(spatial)."""
    channels, m = _global(call)
    return Arith(ops=channels * m)


@formula("GlobalMaxPool", category=Category.POOLING, example=Example(((1, 2, 4, 4),), ((1, 2, 1, 1),), ops=30))
def global_max_pool(call: OpCall) -> Arith:
    """N·C·(m-1) comparisons, m = prod(spatial)."""
    channels, m = _global(call)
    return Arith(ops=channels * max(m - 1, 0))


@formula("GlobalLpPool", category=Category.POOLING, example=Example(((1, 2, 4, 4),), ((1, 2, 1, 1),), ops=96))
def global_lp_pool(call: OpCall) -> Arith:
    """N·C·3m = 3·numel(X): |x| and ^p per element, m-1 adds, one ^(1/p) per channel."""
    channels, m = _global(call)
    return Arith(ops=channels * 3 * m)


@formula(
    "MaxUnpool", category=Category.POOLING, meta_inputs=(1, 2),
    example=Example(
        ((1, 2, 2, 2), ((1, 2, 2, 2), "int64")), ((1, 2, 4, 4),), {"kernel_shape": (2, 2), "strides": (2, 2)}, ops=0,
    ),
)
def max_unpool(call: OpCall) -> Arith:
    """0 ops: scatters X into a zero-filled output at the indices I (a copy, no arithmetic); its bytes are counted."""
    call.in_shape(0)
    call.out_shape()
    return Arith(ops=0)


# --- RoI pooling --------------------------------------------------------------------------

ROI_ALIGN_PER_ROI_OPS = {"half_pixel": 12, "output_half_pixel": 10}
"""Per RoI: 4 multiplies by spatial_scale, 2 subtracts for its height/width, 2 divides for the bin
size, plus 4 subtracts of the half-pixel offset (half_pixel) or 2 max(·, 1) clamps of the size
(output_half_pixel)."""
ROI_ALIGN_PER_POINT_OPS = 14
"""Per sampling point, shared by all channels: its y and x (a multiply and an add each), then the
bilinear weights: 2 floors, 2 fraction subtracts, 2 (1 - f) subtracts, 4 corner-weight multiplies."""
ROI_ALIGN_PER_SAMPLE_OPS = 7
"""Per sampling point and channel: 4 corner multiplies and 3 adds (avg) or 3 maxes (max)."""


@formula(
    "RoiAlign", category=Category.POOLING, meta_inputs=(2,),
    example=Example(((1, 2, 8, 8), (3, 4), ((3,), "int64")), ((3, 2, 2, 2),), {"sampling_ratio": 2}, ops=1476),
)
def roi_align(call: OpCall) -> Arith:
    """R·(12 or 10) + R·oh·ow·s²·14 + R·C·oh·ow·(7·s² + s² (avg: s²-1 adds + 1 divide) or s²-1 (max)); s = sampling_ratio > 0."""
    x, y = call.in_shape(0), call.out_shape()
    if len(x) != 4 or len(y) != 4 or y[1] != x[1]:
        raise Uncountable(f"RoiAlign shapes do not fit: X {x}, Y {y}")
    ratio = call.attr_int("sampling_ratio", 0)
    if ratio <= 0:
        raise Uncountable("RoiAlign with sampling_ratio=0 samples ceil(roi_size/output_size) points: depends on RoI values")
    mode = call.attr_str("mode", "avg")
    coords = call.attr_str("coordinate_transformation_mode", "half_pixel")
    if mode not in ("avg", "max") or coords not in ROI_ALIGN_PER_ROI_OPS:
        raise Uncountable(f"RoiAlign: unknown mode {mode!r} or coordinate_transformation_mode {coords!r}")
    rois, channels, bins = y[0], y[1], y[2] * y[3]
    points = ratio * ratio
    reduce_ops = points if mode == "avg" else points - 1
    ops = (
        rois * ROI_ALIGN_PER_ROI_OPS[coords]
        + rois * bins * points * ROI_ALIGN_PER_POINT_OPS
        + rois * channels * bins * (ROI_ALIGN_PER_SAMPLE_OPS * points + reduce_ops)
    )
    return Arith(ops=ops)


not_countable(
    "MaxRoiPool",
    reason="MaxRoiPool's window sizes come from the RoI coordinates (data), not from shapes",
    category=Category.POOLING,
)
