"""Op family: convolutions (Conv, ConvTranspose, ConvInteger, QLinearConv, DeformConv, Col2Im,
CausalConvWithState).

Conv follows docs/counting.md exactly: it is counted from the **output** map, so stride, dilation and
padding are already reflected. Every output element is one dot product of length
Kc = (Cin/group)·prod(kernel): Kc MACs and 2·Kc-1 FLOPs, plus one add for the bias. Padded
taps are counted like any other (a direct implementation multiplies the zeros).
:func:`conv_macs` is the one MAC formula; ConvInteger, QLinearConv and DeformConv reuse it.

ConvTranspose is counted from the **input** side (the scatter form): every input element
meets prod(kernel)·(Cout/group) weights. Products that land in the region later cropped by
``pads`` are computed too, so they are counted. Each output element that receives m products
costs m multiplies and m-1 adds (the dot-product rule of docs/counting.md: no add into a zero), so
FLOPs = 2·MACs - (elements of the uncropped output that receive at least one product).

The window helpers here (:func:`taps_inside`, :func:`windows_with_taps`, :func:`covered_positions`,
:func:`resolve_pads`) are shared with the pooling family; they loop over the kernel's taps, never
over the windows or the positions of an axis, so a dim of 2**40 costs nothing extra.

Layouts: the formulas read ONNX's layouts (X and Y channels-first, Conv weights (O, I/group,
k...), ConvTranspose weights (I, O/group, k...)). A frontend whose tensors are stored otherwise
says so with attributes, and the shapes are permuted before the same formula runs:
``channels_last=1`` (X and Y are (N, spatial..., C), TFLite's NHWC) and ``kernel_layout``, a
permutation of ``"OIS"`` naming the stored weight axes (O output channels, I input channels per
group, S the spatial block): TFLite's CONV_2D ``"OSI"``, DEPTHWISE_CONV_2D ``"ISO"``,
TRANSPOSE_CONV ``"OSI"``, CONV_3D ``"SIO"`` (see :func:`to_channels_first`).
"""

from __future__ import annotations

from math import isqrt, prod

from edgeprof.ops.linear import zero_point_ops
from edgeprof.ops.primitives import REQUANT_OPS, dot_products, swish_ops
from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, formula

# --- shared window arithmetic (also used by pool.py) --------------------------------------


def spatial_ints(call: OpCall, name: str, rank: int, default: int) -> tuple[int, ...]:
    """A per-spatial-axis int attribute (strides, dilations, kernel_shape), ``default`` when absent."""
    v = call.attr_ints(name)
    if v is None or len(v) == 0:
        return (default,) * rank
    if len(v) != rank:
        raise Uncountable(f"{call.op}: attribute {name} has {len(v)} values for {rank} spatial axes")
    if any(x < 1 for x in v):
        raise Uncountable(f"{call.op}: attribute {name} {list(v)} has a value below 1")
    return v


def resolve_pads(
    call: OpCall,
    in_spatial: tuple[int, ...],
    out_spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    dilations: tuple[int, ...],
) -> tuple[int, ...]:
    """The begin pad of each spatial axis: from ``pads`` (NOTSET), 0 (VALID), or split from the
    total SAME padding (the extra pixel at the end for SAME_UPPER, at the start for SAME_LOWER)."""
    rank = len(in_spatial)
    auto_pad = call.attr_str("auto_pad", "NOTSET")
    if auto_pad in ("NOTSET", ""):
        pads = call.attr_ints("pads")
        if pads is None or len(pads) == 0:
            return (0,) * rank
        if len(pads) != 2 * rank:
            raise Uncountable(f"{call.op}: pads has {len(pads)} values for {rank} spatial axes")
        return pads[:rank]
    if auto_pad == "VALID":
        return (0,) * rank
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        raise Uncountable(f"{call.op}: unknown auto_pad {auto_pad!r}")
    begins = []
    for i, o, k, s, d in zip(in_spatial, out_spatial, kernel, strides, dilations, strict=True):
        total = max(0, (o - 1) * s + (k - 1) * d + 1 - i)
        begins.append(total // 2 if auto_pad == "SAME_UPPER" else total - total // 2)
    return tuple(begins)


WINDOW_LOOP_LIMIT = 1 << 20  # taps per axis the window helpers iterate over (dims themselves may be huge)


def tap_ranges(count: int, stride: int, kernel: int, dilation: int, offset: int, length: int) -> list[tuple[int, int]]:
    """For each tap j of ``kernel`` along one axis, the windows ``lo..hi`` (of ``count``) whose
    tap j falls inside the data: tap j of window i sits at i·stride + j·dilation - offset, valid
    in [0, length); taps no window reaches are left out. O(kernel), whatever the dims: a dim
    of 2**40 costs no more than a dim of 8."""
    return [r for _, r in _ranges_by_tap(count, stride, kernel, dilation, offset, length)]


def _union_size(intervals: list[tuple[int, int]]) -> int:
    """Integers covered by closed intervals."""
    total, reach = 0, None
    for lo, hi in sorted(intervals):
        if reach is None or lo > reach:
            total += hi - lo + 1
            reach = hi
        elif hi > reach:
            total += hi - reach
            reach = hi
    return total


def taps_inside(count: int, stride: int, kernel: int, dilation: int, offset: int, length: int) -> int:
    """Taps of all ``count`` windows along one axis that fall inside [0, length)."""
    return sum(hi - lo + 1 for lo, hi in tap_ranges(count, stride, kernel, dilation, offset, length))


def windows_with_taps(count: int, stride: int, kernel: int, dilation: int, offset: int, length: int) -> int:
    """How many of the ``count`` windows have at least one tap inside [0, length)."""
    return _union_size(tap_ranges(count, stride, kernel, dilation, offset, length))


def window_taps(count: int, stride: int, kernel: int, dilation: int, offset: int, length: int) -> list[int]:
    """For each of ``count`` windows along one axis, how many of its ``kernel`` taps fall inside
    the data (a list of ``count`` items: for small axes and tests; the formulas use
    :func:`taps_inside` and :func:`windows_with_taps`, which do not iterate over the windows)."""
    taps = [0] * count
    for lo, hi in tap_ranges(count, stride, kernel, dilation, offset, length):
        for i in range(lo, hi + 1):
            taps[i] += 1
    return taps


def covered_positions(count: int, stride: int, kernel: int, dilation: int, offset: int, length: int) -> int:
    """How many distinct positions in [0, length) some tap i·stride + j·dilation - offset hits.
    The taps j hit arithmetic progressions of step ``stride``; progressions in the same residue
    class mod ``stride`` are intervals of one index line, whose union is counted (O(kernel))."""
    by_residue: dict[int, list[tuple[int, int]]] = {}
    for j, (lo, hi) in _ranges_by_tap(count, stride, kernel, dilation, offset, length):
        first = lo * stride + j * dilation - offset
        by_residue.setdefault(first % stride, []).append((first // stride, first // stride + hi - lo))
    return sum(_union_size(v) for v in by_residue.values())


def _ranges_by_tap(count: int, stride: int, kernel: int, dilation: int, offset: int,
                   length: int) -> list[tuple[int, tuple[int, int]]]:
    if stride < 1 or dilation < 1:
        raise Uncountable(f"window stride {stride} / dilation {dilation} must be at least 1")
    if kernel > WINDOW_LOOP_LIMIT:
        raise Uncountable(f"a window of {kernel:,} taps along one axis is beyond the {WINDOW_LOOP_LIMIT:,} edgeprof "
                          "iterates over")
    out = []
    for j in range(max(kernel, 0)):
        start = j * dilation - offset
        i_lo = max(0, -(start // stride))
        i_hi = min(count - 1, (length - 1 - start) // stride)
        if i_hi >= i_lo:
            out.append((j, (i_lo, i_hi)))
    return out


# --- layouts ------------------------------------------------------------------------------


def _regroup(shape: tuple[int, ...], stored: str, wanted: str) -> tuple[int, ...]:
    """``shape`` stored with axes ``stored`` (a permutation of O, I, S; S = the spatial block)
    re-ordered as ``wanted``."""
    spatial = len(shape) - 2
    if sorted(stored) != ["I", "O", "S"] or spatial < 0:
        raise Uncountable(f"kernel_layout {stored!r} is not a permutation of 'OIS' for a rank-{len(shape)} weight")
    parts: dict[str, tuple[int, ...]] = {}
    pos = 0
    for axis in stored:
        width = spatial if axis == "S" else 1
        parts[axis] = shape[pos : pos + width]
        pos += width
    return tuple(d for axis in wanted for d in parts[axis])


def to_channels_first(
    call: OpCall, x: tuple[int, ...], w: tuple[int, ...], y: tuple[int, ...], weight_layout: str = "OIS"
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """X, W, Y of a conv-like call in the layouts the formulas read (X/Y channels-first, W as
    ``weight_layout``), from the stored ones the attributes ``channels_last`` and
    ``kernel_layout`` name (defaults: ONNX's own layouts, returned unchanged)."""
    if call.attr_int("channels_last", 0):
        if len(x) < 3 or len(y) < 3:
            raise Uncountable(f"{call.op}: a channels-last X {x} / Y {y} needs a spatial dim")
        x = (x[0], x[-1], *x[1:-1])
        y = (y[0], y[-1], *y[1:-1])
    stored = call.attr_str("kernel_layout", weight_layout)
    if stored != weight_layout:
        w = _regroup(w, stored, weight_layout)
    return x, w, y


# --- Conv ---------------------------------------------------------------------------------


def conv_macs(x_shape: tuple[int, ...], w_shape: tuple[int, ...], y_shape: tuple[int, ...], group: int) -> int:
    """The MACs of a (grouped) convolution: numel(Y)·(Cin/group)·prod(kernel). Raises
    :class:`Uncountable` when the shapes do not fit together (channels, group, rank)."""
    if len(x_shape) < 3 or len(w_shape) != len(x_shape) or len(y_shape) != len(x_shape):
        raise Uncountable(f"conv shapes do not fit: X {x_shape}, W {w_shape}, Y {y_shape}")
    if group < 1 or x_shape[1] != w_shape[1] * group or y_shape[1] != w_shape[0] or w_shape[0] % group:
        raise Uncountable(f"conv channels do not fit group={group}: X {x_shape}, W {w_shape}, Y {y_shape}")
    return prod(y_shape) * prod(w_shape[1:])


def _conv_core(call: OpCall, x: int, w: int) -> tuple[Arith, int]:
    """The dot products of a conv reading inputs ``x`` and ``w``; returns them and numel(Y)."""
    x_shape, w_shape, y_shape = to_channels_first(call, call.in_shape(x), call.in_shape(w), call.out_shape())
    macs = conv_macs(x_shape, w_shape, y_shape, call.attr_int("group", 1))
    numel_y = prod(y_shape)
    if numel_y == 0:
        return Arith(ops=0, macs=0), 0
    return dot_products(numel_y, macs // numel_y), numel_y


@formula(
    "Conv", category=Category.CONV,
    example=Example(((1, 3, 5, 5), (4, 3, 3, 3), (4,)), ((1, 4, 3, 3),), ops=1944, macs=972),
)
def conv(call: OpCall) -> Arith:
    """(2·Kc-1)·numel(Y) FLOPs, Kc·numel(Y) MACs with Kc = (Cin/group)·prod(kernel); +numel(Y) with bias B."""
    core, numel_y = _conv_core(call, 0, 1)
    bias = numel_y if call.has_input(2) else 0
    return Arith(ops=core.ops + bias, macs=core.macs)


@formula(
    "ConvInteger", category=Category.CONV,
    example=Example(
        (((1, 3, 8, 8), "uint8"), ((4, 3, 3, 3), "uint8"), ((), "uint8")), (((1, 4, 6, 6), "int32"),), ops=7824, macs=3888,
    ),
)
def conv_integer(call: OpCall) -> Arith:
    """Integer OPs: (2·Kc-1)·numel(Y) + numel(x) if x_zero_point + numel(w) if w_zero_point; Kc·numel(Y) MACs."""
    core, _ = _conv_core(call, 0, 1)
    return Arith(ops=core.ops + zero_point_ops(call, (0, 2), (1, 3)), macs=core.macs)


@formula(
    "QLinearConv", category=Category.CONV,
    example=Example(
        (((1, 3, 8, 8), "uint8"), ((), "float32"), ((), "uint8"), ((4, 3, 3, 3), "int8"), ((4,), "float32"), ((4,), "int8"), ((), "float32"), ((), "uint8"), ((4,), "int32")), (((1, 4, 6, 6), "uint8"),), ops=8652, macs=3888,
    ),
)
def qlinear_conv(call: OpCall) -> Arith:
    """Integer OPs: (2·Kc-1)·numel(Y) + numel(x) + numel(w) (zero points) + numel(Y) if B + 4·numel(Y) (requantise); Kc·numel(Y) MACs."""
    core, numel_y = _conv_core(call, 0, 3)
    bias = numel_y if call.has_input(8) else 0
    ops = core.ops + zero_point_ops(call, (0, 2), (3, 5)) + bias + REQUANT_OPS * numel_y
    return Arith(ops=ops, macs=core.macs)


# --- ConvTranspose ------------------------------------------------------------------------


def conv_transpose_macs(x_shape: tuple[int, ...], w_shape: tuple[int, ...], group: int) -> int:
    """MACs of a transposed conv, counted from the input: numel(X)·(Cout/group)·prod(kernel)."""
    if len(x_shape) < 3 or len(w_shape) != len(x_shape):
        raise Uncountable(f"ConvTranspose shapes do not fit: X {x_shape}, W {w_shape}")
    if group < 1 or x_shape[1] != w_shape[0] or x_shape[1] % group:
        raise Uncountable(f"ConvTranspose channels do not fit group={group}: X {x_shape}, W {w_shape}")
    return prod(x_shape) * prod(w_shape[1:])


@formula(
    "ConvTranspose", category=Category.CONV,
    example=Example(((1, 4, 5, 5), (4, 6, 3, 3)), ((1, 6, 11, 11),), {"strides": (2, 2)}, ops=10074, macs=5400),
)
def conv_transpose(call: OpCall) -> Arith:
    """MACs = numel(X)·(Cout/group)·prod(kernel); FLOPs = 2·MACs - N·Cout·(uncropped output positions hit), +numel(Y) with bias."""
    x, w, y = to_channels_first(call, call.in_shape(0), call.in_shape(1), call.out_shape(), "IOS")
    group = call.attr_int("group", 1)
    macs = conv_transpose_macs(x, w, group)
    cout = w[1] * group
    if len(y) != len(x) or y[1] != cout:
        raise Uncountable(f"ConvTranspose output {y} does not have {cout} channels")
    rank = len(x) - 2
    kernel = w[2:]
    strides = spatial_ints(call, "strides", rank, 1)
    dilations = spatial_ints(call, "dilations", rank, 1)
    covered = prod(
        covered_positions(n, s, k, d, 0, (n - 1) * s + (k - 1) * d + 1) if n and k else 0
        for n, s, k, d in zip(x[2:], strides, kernel, dilations, strict=True)
    )
    sums = x[0] * cout * covered if macs else 0
    bias = prod(y) if call.has_input(2) else 0
    return Arith(ops=2 * macs - sums + bias, macs=macs)


# --- DeformConv ---------------------------------------------------------------------------


def bilinear_sample_ops(rank: int) -> int:
    """Ops to sample one value at a fractional position in ``rank`` dims (multilinear
    interpolation): rank offset adds, rank floors, rank fraction subtracts, rank (1 - f)
    subtracts, 2^rank corner weights of rank-1 multiplies each, 2^rank multiplies and
    2^rank-1 adds to combine: 4·rank + 2^rank·(rank+1) - 1 (19 in 2-D)."""
    corners: int = 1 << rank
    return 4 * rank + corners * (rank - 1) + corners + (corners - 1)


@formula(
    "DeformConv", category=Category.CONV,
    example=Example(((1, 2, 10), (3, 2, 3), (1, 3, 8)), ((1, 3, 8),), ops=600, macs=144),
)
def deform_conv(call: OpCall) -> Arith:
    """Conv on sampled inputs: N·C·prod(out)·prod(k) samples × (bilinear 19 ops in 2-D, +1 with mask) + the Conv count; MACs as Conv."""
    core, numel_y = _conv_core(call, 0, 1)
    x, w, y = call.in_shape(0), call.in_shape(1), call.out_shape()
    rank = len(x) - 2
    samples = x[0] * x[1] * prod(y[2:]) * prod(w[2:])
    per_sample = bilinear_sample_ops(rank) + (1 if call.has_input(4) else 0)
    bias = numel_y if call.has_input(3) else 0
    return Arith(ops=core.ops + bias + samples * per_sample, macs=core.macs)


# --- Col2Im -------------------------------------------------------------------------------


def _col2im_axis(
    image: int, block: int, stride: int, dilation: int, pad_begin: int, pad_end: int
) -> tuple[int, int, int] | None:
    """(blocks along the axis, in-image contributions, covered pixels), None if no block fits."""
    span = (block - 1) * dilation + 1
    if image + pad_begin + pad_end < span:
        return None
    count = (image + pad_begin + pad_end - span) // stride + 1
    contributions = taps_inside(count, stride, block, dilation, pad_begin, image)
    return count, contributions, covered_positions(count, stride, block, dilation, pad_begin, image)


COL2IM_BLOCK_LIMIT = 1 << 40  # prod(block_shape) whose factorisations Col2Im tries (sqrt: 2**20 steps)


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, isqrt(n) + 1) if n % d == 0]
    return sorted(set(small + [n // d for d in small]))


def _factorisations(n: int, parts: int) -> list[tuple[int, ...]]:
    """Every ordered way to write ``n`` as a product of ``parts`` positive ints."""
    if n < 1 or n > COL2IM_BLOCK_LIMIT:
        raise Uncountable(f"Col2Im: a block of {n:,} elements is outside 1..2**40, the block shapes edgeprof tries")
    divisors = _divisors(n)

    def split(m: int, k: int) -> list[tuple[int, ...]]:
        if k == 1:
            return [(m,)]
        return [(d, *rest) for d in divisors if d <= m and m % d == 0 for rest in split(m // d, k - 1)]

    return split(n, parts)


@formula(
    "Col2Im", category=Category.CONV, meta_inputs=(1, 2),
    example=Example(((2, 12, 9), ((2,), "int64"), ((2,), "int64")), ((2, 3, 4, 4),), ops=120),
)
def col2im(call: OpCall) -> Arith:
    """Adds only: N·C·(in-image column elements - image pixels they cover); overlapping patches are summed, nothing else is arithmetic."""
    x, y = call.in_shape(0), call.out_shape()
    if len(x) != 3 or len(y) < 3 or x[0] != y[0] or y[1] == 0 or x[1] % y[1]:
        raise Uncountable(f"Col2Im shapes do not fit: input {x}, output {y}")
    image = y[2:]
    rank = len(image)
    strides = spatial_ints(call, "strides", rank, 1)
    dilations = spatial_ints(call, "dilations", rank, 1)
    pads = call.attr_ints("pads") or (0,) * (2 * rank)
    if len(pads) != 2 * rank:
        raise Uncountable(f"Col2Im: pads has {len(pads)} values for {rank} spatial axes")
    # block_shape is an input tensor whose values a shape count cannot see: take every block
    # shape with the right product whose block count matches L, and require one answer.
    answers = set()
    for block in _factorisations(x[1] // y[1], rank):
        axes = [
            _col2im_axis(image[a], block[a], strides[a], dilations[a], pads[a], pads[a + rank]) for a in range(rank)
        ]
        if any(ax is None for ax in axes):
            continue
        fitted = [ax for ax in axes if ax is not None]
        if prod(ax[0] for ax in fitted) != x[2]:
            continue
        contributions = prod(ax[1] for ax in fitted)
        covered = prod(ax[2] for ax in fitted)
        answers.add(x[0] * y[1] * (contributions - covered))
    if len(answers) != 1:
        why = "no block shape fits" if not answers else "the block shape is ambiguous from the shapes"
        raise Uncountable(f"Col2Im: {why} (input {x}, output {y})")
    return Arith(ops=answers.pop())


# --- CausalConvWithState ------------------------------------------------------------------

_FUSED_ACTIVATION_OPS = {"none": 0, "silu": swish_ops(), "swish": swish_ops()}


@formula(
    "CausalConvWithState", category=Category.CONV,
    example=Example(((2, 8, 10), (8, 1, 4), (8,)), ((2, 8, 10), (2, 8, 3)), {"activation": "silu"}, ops=2080, macs=640),
)
def causal_conv_with_state(call: OpCall) -> Arith:
    """Depthwise causal conv, kernel k: (2k-1)·numel(Y) FLOPs, k·numel(Y) MACs; +numel(Y) with bias, +5·numel(Y) for silu/swish."""
    x, w, y = call.in_shape(0), call.in_shape(1), call.out_shape()
    if len(x) != 3 or len(w) != 3 or w[0] != x[1] or w[1] != 1:
        raise Uncountable(f"CausalConvWithState shapes do not fit: input {x}, weight {w}")
    activation = call.attr_str("activation", "none").lower()
    if activation not in _FUSED_ACTIVATION_OPS:
        raise Uncountable(f"CausalConvWithState: unknown activation {activation!r}")
    numel_y = prod(y)
    core = dot_products(numel_y, w[2])
    bias = numel_y if call.has_input(2) else 0
    return Arith(ops=core.ops + bias + _FUSED_ACTIVATION_OPS[activation] * numel_y, macs=core.macs)
