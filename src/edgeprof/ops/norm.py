"""Op family: normalisation (BatchNormalization, InstanceNormalization, LayerNormalization,
GroupNormalization, RMSNormalization, LpNormalization, MeanVarianceNormalization, LRN).

One rule for the whole family, for a row (the elements one statistic is taken over) of n:

* mean: n-1 adds + 1 divide = n;
* variance: centre (x - mean) n, square n, n-1 adds + 1 divide: 3n in all (the centred values
  are reused by the normalisation, so "centre" is counted once);
* inverse standard deviation, once per row: add epsilon, sqrt, reciprocal = 3;
* per element: normalise = 1 multiply by the inverse std; scale = 1 multiply; bias = 1 add.

So a full standardisation with scale and bias is 7n + 3 per row; a norm without its scale or bias
input (torch's ``affine=False``, ONNX LayerNormalization without B) is not charged for it. This is op for op the ONNX
function body of LayerNormalization (ReduceMean, Sub, Mul, ReduceMean, Add, Sqrt, Reciprocal,
Mul, then Scale and B); the other ops are counted by the same rule (RMSNormalization's body
divides by the RMS instead: ours is one more op per row). Scalar arithmetic on attributes only
(alpha/size, 1 - momentum) is not counted.
"""

from __future__ import annotations

from math import prod

from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, formula

INV_STD_OPS = 3
"""Per row: add epsilon, square root, reciprocal."""


def _axis(call: OpCall, rank: int, default: int) -> int:
    axis = call.attr_int("axis", default)
    if not -rank <= axis < rank:
        raise Uncountable(f"{call.op}: axis {axis} is out of range for rank {rank}")
    return axis % rank


def _channels_first(call: OpCall) -> tuple[int, int, int]:
    """(N, C, spatial elements) of an (N, C, ...) input."""
    x = call.in_shape(0)
    if len(x) < 2:
        raise Uncountable(f"{call.op} needs an (N, C, ...) input, got {x}")
    return x[0], x[1], prod(x[2:])


def _affine(call: OpCall, scale: int = 1, bias: int = 2) -> int:
    """Per-element ops of the affine step: 1 multiply if the scale input is given, 1 add if the
    bias is (ONNX always gives both to BatchNormalization/InstanceNormalization/GroupNormalization;
    torch's ``affine=False``/``elementwise_affine=False``/``bias=False`` omit them)."""
    return int(call.has_input(scale)) + int(call.has_input(bias))


@formula(
    "BatchNormalization", category=Category.NORMALISATION, buffer_inputs=(3, 4),
    example=Example(((2, 3, 4, 4), (3,), (3,), (3,), (3,)), ((2, 3, 4, 4),), ops=393),
)
def batch_normalization(call: OpCall) -> Arith:
    """Inference: (2 + a)·numel(X) + 3·C (centre, ·1/std, a = ·scale and +B when given; eps, sqrt, 1/x per channel); training_mode=1: (5 + a)·numel(X) + 3·C, +3·C per running-stat output when mean/var are inputs."""
    n, c, spatial = _channels_first(call)
    numel = n * c * spatial
    affine = _affine(call)
    if not call.attr_int("training_mode", 0):
        return Arith(ops=(2 + affine) * numel + INV_STD_OPS * c)
    # Statistics over N·spatial per channel: mean (numel) and variance (square + sum/divide:
    # 2·numel; its centring is the normalisation's subtract).
    running_inputs = call.has_input(3) and call.has_input(4)
    running_outputs = min(max(len(call.outputs) - 1, 0), 2) if running_inputs else 0
    # running = input·momentum + current·(1 - momentum): 2 multiplies + 1 add per channel.
    return Arith(ops=(5 + affine) * numel + INV_STD_OPS * c + running_outputs * 3 * c)


@formula(
    "InstanceNormalization", category=Category.NORMALISATION,
    example=Example(((2, 3, 4, 4), (3,), (3,)), ((2, 3, 4, 4),), ops=690),
)
def instance_normalization(call: OpCall) -> Arith:
    """(5 + a)·numel(X) + 3·N·C: per (n, c) row of m = prod(spatial): mean m, variance 3m, eps/sqrt/1/x 3, normalise m, a = scale m + bias m when given."""
    n, c, spatial = _channels_first(call)
    return Arith(ops=(5 + _affine(call)) * n * c * spatial + INV_STD_OPS * n * c)


@formula(
    "GroupNormalization", category=Category.NORMALISATION,
    example=Example(((2, 4, 3, 3), (4,), (4,)), ((2, 4, 3, 3),), {"num_groups": 2}, ops=516),
)
def group_normalization(call: OpCall) -> Arith:
    """(5 + a)·numel(X) + 3·N·G: per (n, group) row of (C/G)·prod(spatial): mean, variance 3/elem, eps/sqrt/1/x 3, normalise, a = scale + bias when given."""
    n, c, spatial = _channels_first(call)
    groups = call.attr_int("num_groups", 0)
    if groups < 1 or c % groups:
        raise Uncountable(f"GroupNormalization: num_groups={groups} does not divide C={c}")
    return Arith(ops=(5 + _affine(call)) * n * c * spatial + INV_STD_OPS * n * groups)


@formula(
    "LayerNormalization", category=Category.NORMALISATION,
    example=Example(((2, 3, 4), (4,), (4,)), ((2, 3, 4),), ops=186),
)
def layer_normalization(call: OpCall) -> Arith:
    """rows·(5n+3) + rows·n per Scale and per B given, n = prod(shape[axis:]): mean n, centre n, square n, variance n, eps/sqrt/1/x 3, normalise n (+scale n, +bias n)."""
    x = call.in_shape(0)
    axis = _axis(call, len(x), -1)
    rows, n = prod(x[:axis]), prod(x[axis:])
    if n == 0:
        return Arith(ops=0)
    return Arith(ops=rows * (5 * n + INV_STD_OPS) + rows * n * _affine(call))


@formula("RMSNormalization", category=Category.NORMALISATION, example=Example(((2, 3, 4), (4,)), ((2, 3, 4),), ops=114))
def rms_normalization(call: OpCall) -> Arith:
    """rows·(3n+3) + rows·n with Scale, n = prod(shape[axis:]): square n, mean n, eps/sqrt/1/x 3, normalise n (+scale n)."""
    x = call.in_shape(0)
    axis = _axis(call, len(x), -1)
    rows, n = prod(x[:axis]), prod(x[axis:])
    if n == 0:
        return Arith(ops=0)
    return Arith(ops=rows * (3 * n + INV_STD_OPS) + rows * n * int(call.has_input(1)))


@formula("LpNormalization", category=Category.NORMALISATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=78))
def lp_normalization(call: OpCall) -> Arith:
    """Per row of n along axis: p=2: n squares, n-1 adds, sqrt, 1/x, n multiplies = 3n+1; p=1: n abs, n-1 adds, 1/x, n multiplies = 3n."""
    x = call.in_shape(0)
    if not x:
        raise Uncountable("LpNormalization of a scalar")
    axis = _axis(call, len(x), -1)
    n = x[axis]
    rows = prod(x) // n if n else 0
    p = call.attr_int("p", 2)
    if p not in (1, 2):
        raise Uncountable(f"LpNormalization supports p=1 or p=2, got p={p}")
    if n == 0:
        return Arith(ops=0)
    return Arith(ops=rows * (3 * n + (1 if p == 2 else 0)))


@formula(
    "MeanVarianceNormalization", category=Category.NORMALISATION,
    example=Example(((2, 3, 4, 4),), ((2, 3, 4, 4),), ops=495),
)
def mean_variance_normalization(call: OpCall) -> Arith:
    """Per group of n (the reduced axes, default 0,2,3): 5n + 5 = E[X] n, X² n, E[X²] n, E[X]² 1, minus 1, sqrt 1, +eps 1, 1/x 1, centre n, multiply n."""
    x = call.in_shape(0)
    axes = call.attr_ints("axes") or (0, 2, 3)
    rank = len(x)
    if any(not -rank <= a < rank for a in axes):
        raise Uncountable(f"MeanVarianceNormalization: axes {axes} out of range for rank {rank}")
    n = prod(x[a % rank] for a in set(a % rank for a in axes))
    if n == 0:
        return Arith(ops=0)
    groups = prod(x) // n
    return Arith(ops=groups * (5 * n + 5))


def _window_adds(c: int, reach: int) -> int:
    """Σ over the C channels of how many channels 1..reach away on one side exist:
    Σ_{δ=1..t} (C - δ) with t = min(reach, C - 1) (closed form: a dim of 2**40 costs nothing)."""
    t = max(0, min(reach, c - 1))
    return t * c - t * (t + 1) // 2


@formula(
    "LRN", category=Category.NORMALISATION,
    example=Example(((1, 4, 2, 2),), ((1, 4, 2, 2),), {"size": 3}, ops=104),
)
def lrn(call: OpCall) -> Arith:
    """5·numel(X) + N·spatial·Σ_c (w_c - 1): x² per element, window sums of w_c channels (clipped at C), ·alpha/size, +bias, ^beta, x/that."""
    n, c, spatial = _channels_first(call)
    size = call.attr_int("size", 0)
    if size < 1:
        raise Uncountable(f"LRN: size must be a positive int, got {size}")
    before, after = (size - 1) // 2, size // 2  # floor((size-1)/2) and ceil((size-1)/2)
    window_adds = _window_adds(c, before) + _window_adds(c, after)  # Σ_c (w_c - 1), in closed form
    return Arith(ops=5 * n * c * spatial + n * spatial * window_adds)
