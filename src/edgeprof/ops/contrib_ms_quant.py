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

The ops of dynamic quantisation (``quantize_dynamic``) take float activations, quantise them at
run time and give float results. One call has one precision: the integer type of the operand its
dot products run on (the weight's, or A's for MatMulIntegerToFloat); the float arithmetic around
the dot products is in the same count. MACs are the dot products' (those of the float op it replaces):

* ``DynamicQuantizeMatMul`` (A float, B int, b_scale, b_zp, bias) = DynamicQuantizeLinear of A
  (7·numel(A)+7) + MatMulInteger (dot products, A's zero point numel(A), B's when given) + the
  combined scale (numel(b_scale)) + one dequantise multiply per output (+ numel(Y) bias), exactly
  the decomposed graph ``quantize_dynamic`` writes without the fusion;
* ``MatMulIntegerToFloat`` (A, B, a_scale, b_scale, a_zp, b_zp, bias) = MatMulInteger + the
  combined scale + one multiply per output (+ numel(Y) bias);
* ``DynamicQuantizeLSTM`` (W (D, I, 4H), R (D, H, 4H), transposed from LSTM's) = LSTM's count
  (its gate dot products as integer OPs) + DynamicQuantizeLinear of X once and of h_{t-1} per step
  and direction + one dequantise multiply per gate-matmul output (2·4H per step, batch, direction);
* ``QLinearConcat``: every element is requantised to Y's scale: subtract its zero point +
  requantise 4 = 5·numel(Y);
* ``QLinearSigmoid``/``QLinearLeakyRelu``/``QLinearSoftmax`` = dequantise (x - zp)·scale (2, 1
  without X's zero point) + the float op (Sigmoid 4, LeakyRelu 2, softmax 5n-2 per row) + quantise
  (divide, round, + Y's zero point when given, saturate 2: 5, 4 without) per element;
* ``QAttention`` = com.microsoft Attention with its QKV projection as integer dot products + the
  zero points (numel(input), numel(weight) when given) + the combined scale (1) + one dequantise
  multiply per projected element.
"""

from __future__ import annotations

from dataclasses import replace
from math import prod

from edgeprof.ir import Shape
from edgeprof.ops.contrib_ms import packed_attention
from edgeprof.ops.linear import matmul_dot_products, zero_point_ops
from edgeprof.ops.pool import average_pool
from edgeprof.ops.primitives import LEAKY_RELU_OPS, REQUANT_OPS, SIGMOID_OPS, dot_products, softmax_ops
from edgeprof.ops.quant import QUANTIZE_CORE_OPS, SATURATE_OPS, dynamic_quantize_ops
from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, ValueSpec, formula
from edgeprof.ops.rnn import lstm

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


# ---- dynamic quantisation (quantize_dynamic) ------------------------------------------------


def _scale_ops(call: OpCall, *scales: int) -> int:
    """Combining the scales given at ``scales`` into one (a_scale·b_scale): one multiply per element of the larger."""
    return max((call.in_numel(i) for i in scales if call.has_input(i)), default=0)


@formula(
    MS + "DynamicQuantizeMatMul", category=Category.LINEAR,
    example=Example(((2, 8), ((8, 3), "int8"), ((3,), "float32"), ((3,), "int8"), ((3,), "float32")), ((2, 3),), ops=264, macs=48),
)
def dynamic_quantize_matmul(call: OpCall) -> Arith:
    """(7·numel(A)+7) + numel(Y)·(2K-1) + numel(A) + numel(B) if b_zp + numel(b_scale) + numel(Y) (+ numel(Y) bias); numel(Y)·K MACs."""
    core = matmul_dot_products(call, 0, 1)
    quantise = dynamic_quantize_ops(call.in_numel(0)) + call.in_numel(0)  # A's zero point is always there
    b_zero = call.in_numel(1) if call.has_input(3) else 0
    numel_y = call.out_numel()
    bias = numel_y if call.has_input(4) else 0
    ops = quantise + core.ops + b_zero + _scale_ops(call, 2) + numel_y + bias
    return Arith(ops=ops, macs=core.macs, precision=call.in_dtype(1))


@formula(
    MS + "MatMulIntegerToFloat", category=Category.LINEAR,
    example=Example(
        (((2, 8), "uint8"), ((8, 3), "int8"), ((), "float32"), ((3,), "float32"), ((), "uint8"), ((3,), "int8")), ((2, 3),),
        ops=139, macs=48,
    ),
)
def matmul_integer_to_float(call: OpCall) -> Arith:
    """numel(Y)·(2K-1) + numel(A) if a_zp + numel(B) if b_zp + max numel(scale) + numel(Y) (+ numel(Y) bias); numel(Y)·K MACs."""
    core = matmul_dot_products(call, 0, 1)
    numel_y = call.out_numel()
    bias = numel_y if call.has_input(6) else 0
    ops = core.ops + zero_point_ops(call, (0, 4), (1, 5)) + _scale_ops(call, 2, 3) + numel_y + bias
    return Arith(ops=ops, macs=core.macs)


@formula(
    MS + "DynamicQuantizeLSTM", category=Category.RECURRENT, meta_inputs=(4,),
    example=Example(
        ((3, 2, 4), ((1, 4, 20), "int8"), ((1, 5, 20), "int8"), (1, 40), None, None, None, None,
         ((), "float32"), ((), "int8"), ((), "float32"), ((), "int8")),
        ((3, 1, 2, 5),), {"hidden_size": 5}, ops=3706, macs=1080,
    ),
)
def dynamic_quantize_lstm(call: OpCall) -> Arith:
    """LSTM (W, R transposed) + (7·numel(X)+7) + per step·direction (7·B·H+7) + 8H per step·batch·direction; MACs 4H(I+H) per step·batch·direction."""
    x, w, r = call.in_shape(0), call.in_shape(1), call.in_shape(2)
    if len(x) != 3 or len(w) != 3 or len(r) != 3:
        raise Uncountable(f"DynamicQuantizeLSTM needs rank-3 X, W, R; got {x}, {w}, {r}")
    w_in, r_in = call.inputs[1], call.inputs[2]
    assert w_in is not None and r_in is not None  # in_shape checked them
    inputs = (
        call.inputs[0],
        replace(w_in, shape=Shape((w[0], w[2], w[1]))),
        replace(r_in, shape=Shape((r[0], r[2], r[1]))),
        *call.inputs[3:8],
    )
    core = lstm(replace(call, op="LSTM", inputs=inputs))
    dirs, hidden = w[0], r[1]
    seq, batch = (x[1], x[0]) if call.attr_int("layout", 0) else (x[0], x[1])
    quantise = dynamic_quantize_ops(prod(x)) + dirs * seq * dynamic_quantize_ops(batch * hidden)
    dequantise = dirs * seq * batch * 2 * 4 * hidden
    return Arith(ops=core.ops + quantise + dequantise, macs=core.macs, precision=call.in_dtype(1))


@formula(
    MS + "QLinearConcat", category=Category.DATA_MOVEMENT,
    example=Example((((), "float32"), ((), "int8"), *_q((2, 3)), *_q((2, 1))), (((2, 4), "int8"),), {"axis": 1}, ops=40),
)
def qlinear_concat(call: OpCall) -> Arith:
    """Integer OPs: every element requantised to Y's scale: (1 zero point + 4 requantise)·numel(Y)."""
    return Arith(ops=(1 + REQUANT_OPS) * call.out_numel(), precision=call.in_dtype(2))


def _lookup_ops(call: OpCall) -> int:
    """Per element: dequantise (x - zp)·scale, and quantise to Y (divide, round, + zp, saturate)."""
    dequantise = 1 + (1 if call.has_input(2) else 0)
    quantise = QUANTIZE_CORE_OPS + (1 if call.has_input(4) else 0) + SATURATE_OPS
    return dequantise + quantise


@formula(MS + "QLinearSigmoid", category=Category.ACTIVATION,
         example=Example((*_q((2, 3)), ((), "float32"), ((), "int8")), (((2, 3), "int8"),), ops=66))
def qlinear_sigmoid(call: OpCall) -> Arith:
    """Integer OPs: (dequantise 2 + sigmoid 4 + quantise 5)·n (one less per missing zero point)."""
    return Arith(ops=(_lookup_ops(call) + SIGMOID_OPS) * call.in_numel(0))


@formula(MS + "QLinearLeakyRelu", category=Category.ACTIVATION,
         example=Example((*_q((2, 3)), ((), "float32"), ((), "int8")), (((2, 3), "int8"),), {"alpha": 0.1}, ops=54))
def qlinear_leaky_relu(call: OpCall) -> Arith:
    """Integer OPs: (dequantise 2 + LeakyRelu 2 + quantise 5)·n (one less per missing zero point)."""
    return Arith(ops=(_lookup_ops(call) + LEAKY_RELU_OPS) * call.in_numel(0))


@formula(MS + "QLinearSoftmax", category=Category.ACTIVATION,
         example=Example((*_q((2, 3)), ((), "float32"), ((), "int8")), (((2, 3), "int8"),), {"axis": -1, "opset": 13}, ops=68))
def qlinear_softmax(call: OpCall) -> Arith:
    """Integer OPs: (dequantise 2 + quantise 5)·n + rows·(5L-2), L = dim axis (opset ≥ 13) or prod(dims from axis)."""
    x = call.in_shape(0)
    if not x:
        raise Uncountable("QLinearSoftmax of a scalar")
    axis = call.attr_int("axis", -1)
    axis = axis + len(x) if axis < 0 else axis
    if not 0 <= axis < len(x):
        raise Uncountable(f"QLinearSoftmax: axis {axis} out of range for {x}")
    length = x[axis] if call.attr_int("opset", 13) >= 13 else prod(x[axis:])
    n = prod(x)
    rows = n // length if length else 0
    return Arith(ops=_lookup_ops(call) * n + softmax_ops(rows, length))


@formula(
    MS + "QAttention", category=Category.ATTENTION, meta_inputs=(5,),
    example=Example(
        (((1, 2, 4), "uint8"), ((4, 12), "int8"), (12,), ((), "float32"), ((), "float32"), None, ((), "uint8"), ((), "int8")),
        ((1, 2, 4),), {"num_heads": 2}, ops=361, macs=128,
    ),
)
def qattention(call: OpCall) -> Arith:
    """com.microsoft Attention with the QKV projection as integer dot products + numel(input)/numel(weight) zero points + 1 + one dequantise per projected element."""
    if not (call.has_input(0) and call.has_input(1)):
        raise Uncountable("QAttention needs its input and its weight")
    if len(call.in_shape(0)) != 3 or len(call.in_shape(1)) != 2:
        raise Uncountable(f"QAttention takes a 3-D input and a 2-D weight, got {call.in_shape(0)} and {call.in_shape(1)}")
    inputs = (call.inputs[0], call.inputs[1], call.inputs[2] if call.has_input(2) else None,
              call.inputs[5] if call.has_input(5) else None, call.inputs[8] if call.has_input(8) else None)
    projection, rest = packed_attention(replace(call, inputs=inputs))
    x, w = call.in_shape(0), call.in_shape(1)
    projected = x[0] * x[1] * w[1]
    quant = zero_point_ops(call, (0, 6), (1, 7)) + 1 + projected
    return Arith(ops=projection.ops + quant + rest.ops, macs=projection.macs + rest.macs)
