"""Op family: ONNX Runtime's quantised ``com.microsoft`` ops (written by its quantisation tool
into QOperator-format models). Integer arithmetic, reported as integer OPs, with the conventions
of the standard quantised ops (QLinearConv, QLinearMatMul in conv.py / linear.py):

* a zero-point subtract per element of each operand whose zero point is given;
* :data:`~edgeprof.ops.primitives.REQUANT_OPS` (multiply by the combined scale, round, add the
  output zero point, saturate) per output element written as an integer;
* ``QLinearAdd``: the two operands are on different scales, so each is rescaled to the output's
  (one multiply per output element each) before the add: 3 + 4 per output element;
* ``QLinearMul``: the product of the scales is one constant: multiply 1 + requantise 4 per output element;
* ``QGemm``: op(A)·op(B) dot products (numel(Y)·(2K-1), numel(Y)·K MACs) + zero points + the bias add
  (numel(Y) with C) + requantise (with ``y_scale``) or one dequantise multiply per output (float Y);
* ``QLinearGlobalAveragePool``: the sum over each channel's m elements (m-1 adds), the zero point
  once per channel (m·zp), and a requantise whose scale folds the divide by m: N·C·(m-1 + 1 + 4);
* ``QLinearAveragePool``: AveragePool's windows (m-1 adds over the taps inside the input, exactly
  as pool.py counts them), then per output the zero point (m·zp) and a requantise that folds the
  divide: AveragePool's count - numel(Y) (its divides) + 5·numel(Y).
"""

from __future__ import annotations

from math import prod

from edgeprof.ops.linear import zero_point_ops
from edgeprof.ops.pool import average_pool
from edgeprof.ops.primitives import REQUANT_OPS, dot_products
from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, ValueSpec, formula

MS = "com.microsoft::"
RESCALE_ADD_OPS = 3
"""QLinearAdd per output element: rescale A, rescale B, add (before requantising)."""


def _q(shape: tuple[int, ...]) -> tuple[ValueSpec, ...]:
    """An int8 operand of an example call: the tensor, its scale and its zero point."""
    return (shape, "int8"), ((), "float32"), ((), "int8")


@formula(
    MS + "QLinearAdd", category=Category.ELEMENTWISE,
    example=Example((*_q((2, 3)), *_q((3,)), ((), "float32"), ((), "int8")), (((2, 3), "int8"),), ops=51),
)
def qlinear_add(call: OpCall) -> Arith:
    """Integer OPs: numel(A) + numel(B) (zero points, when given) + (3 + 4)·numel(Y) (rescale both, add, requantise)."""
    zero_points = zero_point_ops(call, (0, 2), (3, 5))
    return Arith(ops=zero_points + (RESCALE_ADD_OPS + REQUANT_OPS) * call.out_numel())


@formula(
    MS + "QLinearMul", category=Category.ELEMENTWISE,
    example=Example((*_q((2, 3)), *_q((3,)), ((), "float32"), ((), "int8")), (((2, 3), "int8"),), ops=39),
)
def qlinear_mul(call: OpCall) -> Arith:
    """Integer OPs: numel(A) + numel(B) (zero points, when given) + (1 + 4)·numel(Y) (multiply, requantise)."""
    zero_points = zero_point_ops(call, (0, 2), (3, 5))
    return Arith(ops=zero_points + (1 + REQUANT_OPS) * call.out_numel())


@formula(
    MS + "QGemm", category=Category.LINEAR,
    example=Example(
        (*_q((4, 8)), *_q((8, 5)), ((5,), "int32"), ((), "float32"), ((), "int8")), (((4, 5), "int8"),), ops=472, macs=160,
    ),
)
def qgemm(call: OpCall) -> Arith:
    """Integer OPs: numel(Y)·(2K-1) + zero points + numel(Y) with C + 4·numel(Y) (int Y) or numel(Y) (float Y); numel(Y)·K MACs."""
    a = call.in_shape(0)
    if len(a) != 2:
        raise Uncountable(f"QGemm needs a 2-D A, got {a}")
    k = a[0] if call.attr_int("transA", 0) else a[1]
    numel_y = call.out_numel()
    core = dot_products(numel_y, k)
    bias = numel_y if call.has_input(6) else 0
    output = REQUANT_OPS * numel_y if call.has_input(7) else numel_y
    ops = core.ops + zero_point_ops(call, (0, 2), (3, 5)) + bias + output
    return Arith(ops=ops, macs=core.macs)


@formula(
    MS + "QLinearGlobalAveragePool", category=Category.POOLING,
    example=Example((*_q((2, 3, 4, 4)), ((), "float32"), ((), "int8")), (((2, 3, 1, 1), "int8"),), ops=120),
)
def qlinear_global_average_pool(call: OpCall) -> Arith:
    """Integer OPs: N·C·(m-1 adds + 1 zero point + 4 requantise), m = spatial elements (NCHW, or NHWC with channels_last=1)."""
    x = call.in_shape(0)
    if len(x) < 3:
        raise Uncountable(f"QLinearGlobalAveragePool needs an (N, C, ...) input, got {x}")
    if call.attr_int("channels_last", 0):
        channels, m = x[0] * x[-1], prod(x[1:-1])
    else:
        channels, m = x[0] * x[1], prod(x[2:])
    return Arith(ops=channels * (max(m - 1, 0) + 1 + REQUANT_OPS))


@formula(
    MS + "QLinearAveragePool", category=Category.POOLING,
    example=Example(
        (*_q((1, 2, 4, 4)), ((), "float32"), ((), "int8")), (((1, 2, 2, 2), "int8"),), {"kernel_shape": (2, 2), "strides": (2, 2)}, ops=64,
    ),
)
def qlinear_average_pool(call: OpCall) -> Arith:
    """Integer OPs: AveragePool's Σ(m-1) adds over the taps inside the input + numel(Y)·(1 zero point + 4 requantise)."""
    pooled = average_pool(call)  # Σ(m-1) adds + one divide per output
    numel_y = call.out_numel()
    return Arith(ops=pooled.ops - numel_y + (1 + REQUANT_OPS) * numel_y)
