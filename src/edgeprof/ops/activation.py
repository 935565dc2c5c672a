"""Op family: activations, counted per element from their defining formula, and the softmax
family (Softmax, LogSoftmax, Hardmax) per row along their axis.

docs/counting.md fixes ReLU at n and Sigmoid at 4n (negate, exp, add, divide); Tanh is 5n (exp(2x)
as a multiply and an exp, then (e - 1)/(e + 1): subtract, add, divide). Every compound
activation is the sum of the ops of its formula as ONNX writes it, each one stated in its
docstring; a select (the branch of a piecewise function) is not arithmetic, its comparison is.
Multiplications by an attribute that equals 1 (Swish's alpha) are not counted, as for Gemm.
The per-element costs are defined once, in :mod:`edgeprof.ops.primitives`.

Softmax follows the project's convention (:func:`edgeprof.ops.primitives.softmax_ops`): a row
of n costs max n-1 comparisons, subtract n, exp n, sum n-1, divide n = 5n-2. The axis is the
opset-13 one (a single axis, default -1).
"""

from __future__ import annotations

from math import prod

from edgeprof.ops.primitives import (
    CELU_OPS,
    ELU_OPS,
    GELU_OPS,
    GELU_TANH_OPS,
    HARD_SIGMOID_OPS,
    HARD_SWISH_OPS,
    LEAKY_RELU_OPS,
    MISH_OPS,
    RELU_OPS,
    SELU_OPS,
    SHRINK_OPS,
    SIGMOID_OPS,
    SOFTPLUS_OPS,
    SOFTSIGN_OPS,
    TANH_OPS,
    THRESHOLDED_RELU_OPS,
    softmax_ops,
    swish_ops,
)
from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, formula


def _per_element(call: OpCall, ops: int) -> Arith:
    return Arith(ops=ops * call.out_numel())


@formula("Relu", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=24))
def relu(call: OpCall) -> Arith:
    """n comparisons, y = max(0, x) (docs/counting.md: ReLU is n)."""
    return _per_element(call, RELU_OPS)


@formula("Sigmoid", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=96))
def sigmoid(call: OpCall) -> Arith:
    """4n: negate, exp, add, divide per element (docs/counting.md: Sigmoid is 4n)."""
    return _per_element(call, SIGMOID_OPS)


@formula("Tanh", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=120))
def tanh(call: OpCall) -> Arith:
    """5n: e = exp(2x) (multiply, exp), then (e-1)/(e+1) (subtract, add, divide)."""
    return _per_element(call, TANH_OPS)


@formula("LeakyRelu", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), {"alpha": 0.1}, ops=48))
def leaky_relu(call: OpCall) -> Arith:
    """2n: max(x, alpha·x) is a multiply and a comparison per element."""
    return _per_element(call, LEAKY_RELU_OPS)


@formula("PRelu", category=Category.ACTIVATION, example=Example(((2, 3, 4), (4,)), ((2, 3, 4),), ops=48))
def prelu(call: OpCall) -> Arith:
    """2 per output element: max(x, slope·x) (slope broadcast to X): a multiply and a comparison."""
    return _per_element(call, LEAKY_RELU_OPS)


@formula("ThresholdedRelu", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=24))
def thresholded_relu(call: OpCall) -> Arith:
    """n comparisons: y = x if x > alpha else 0."""
    return _per_element(call, THRESHOLDED_RELU_OPS)


@formula("HardSigmoid", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=96))
def hard_sigmoid(call: OpCall) -> Arith:
    """4n: max(0, min(1, alpha·x + beta)) is a multiply, an add, a min and a max."""
    return _per_element(call, HARD_SIGMOID_OPS)


@formula("HardSwish", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=120))
def hard_swish(call: OpCall) -> Arith:
    """5n: x·HardSigmoid(x) (alpha 1/6, beta 0.5; = x·relu6(x+3)/6): multiply, add, min, max, multiply."""
    return _per_element(call, HARD_SWISH_OPS)


@formula("Elu", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=96))
def elu(call: OpCall) -> Arith:
    """4n: x < 0 ? alpha·(exp(x) - 1) : x is a comparison, exp, subtract, multiply."""
    return _per_element(call, ELU_OPS)


@formula("Selu", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=120))
def selu(call: OpCall) -> Arith:
    """5n: gamma·(x > 0 ? x : alpha·(exp(x) - 1)): comparison, exp, subtract, 2 multiplies."""
    return _per_element(call, SELU_OPS)


@formula("Celu", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=168))
def celu(call: OpCall) -> Arith:
    """7n: max(0,x) + min(0, alpha·(exp(x/alpha) - 1)): max, divide, exp, subtract, multiply, min, add."""
    return _per_element(call, CELU_OPS)


@formula("Softplus", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=72))
def softplus(call: OpCall) -> Arith:
    """3n: log(exp(x) + 1) is an exp, an add and a log."""
    return _per_element(call, SOFTPLUS_OPS)


@formula("Softsign", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=72))
def softsign(call: OpCall) -> Arith:
    """3n: x / (1 + |x|) is an abs, an add and a divide."""
    return _per_element(call, SOFTSIGN_OPS)


@formula("Mish", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=216))
def mish(call: OpCall) -> Arith:
    """9n: x·tanh(softplus(x)): softplus 3, tanh 5, multiply 1."""
    return _per_element(call, MISH_OPS)


@formula("Swish", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=120))
def swish(call: OpCall) -> Arith:
    """x·sigmoid(alpha·x): 5n (alpha = 1), 6n otherwise (+1 multiply by alpha)."""
    return _per_element(call, swish_ops(call.attr_float("alpha", 1.0)))


@formula("SwiGLU", category=Category.ACTIVATION, example=Example(((2, 3, 4), (2, 3, 4)), ((2, 3, 4),), ops=144))
def swiglu(call: OpCall) -> Arith:
    """Swish_alpha(A)·B: Swish (5 per element, 6 with alpha ≠ 1) + 1 multiply: 6n (7n with alpha ≠ 1)."""
    return _per_element(call, swish_ops(call.attr_float("alpha", 1.0)) + 1)


@formula("Gelu", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=120))
def gelu(call: OpCall) -> Arith:
    """approximate="none": 0.5·x·(1 + erf(x/√2)) = 5n; "tanh": 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) = 13n."""
    approximate = call.attr_str("approximate", "none")
    if approximate == "none":
        return _per_element(call, GELU_OPS)
    if approximate == "tanh":
        return _per_element(call, GELU_TANH_OPS)
    raise Uncountable(f"Gelu: unknown approximate={approximate!r}")


@formula("Shrink", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=72))
def shrink(call: OpCall) -> Arith:
    """3n: two comparisons with ±lambd, then one add or subtract of bias (0 otherwise)."""
    return _per_element(call, SHRINK_OPS)


@formula(
    "Clip", category=Category.ACTIVATION,
    example=Example(((2, 3, 4), ((), "float32"), ((), "float32")), ((2, 3, 4),), ops=48),
)
def clip(call: OpCall) -> Arith:
    """One comparison per element per bound given (min, max: inputs, or attributes before opset 11): 2n, n or 0."""
    bounds = sum(1 for i, name in ((1, "min"), (2, "max")) if call.has_input(i) or call.attrs.get(name) is not None)
    return _per_element(call, bounds)


# --- the softmax family ----------------------------------------------------------------------


def _rows(call: OpCall) -> tuple[int, int]:
    """(rows, length) of an op applied along its ``axis`` (default -1). With ``coerce_2d`` (the
    pre-opset-13 semantics, set by the ONNX frontend) a row is every dim from ``axis`` on."""
    x = call.in_shape(0)
    if not x:
        return 1, 1
    rank = len(x)
    axis = call.attr_int("axis", -1)
    if not -rank <= axis < rank:
        raise Uncountable(f"{call.op}: axis {axis} is out of range for rank {rank}")
    length = prod(x[axis % rank:]) if call.attr_int("coerce_2d", 0) else x[axis % rank]
    if length == 0:
        return 0, 0
    numel = call.in_numel(0)
    return numel // length, length


@formula("Softmax", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=108))
def softmax(call: OpCall) -> Arith:
    """Per row of n along axis: max n-1, subtract n, exp n, sum n-1, divide n = 5n-2."""
    rows, length = _rows(call)
    return Arith(ops=softmax_ops(rows, length))


@formula("LogSoftmax", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=114))
def log_softmax(call: OpCall) -> Arith:
    """Per row of n: max n-1, subtract n, exp n, sum n-1, log 1, subtract n = 5n-1 (softmax's divides become subtracts, +1 log)."""
    rows, length = _rows(call)
    return Arith(ops=softmax_ops(rows, length) + rows)


@formula("Hardmax", category=Category.ACTIVATION, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=18))
def hardmax(call: OpCall) -> Arith:
    """Per row of n: n-1 comparisons to find the first maximum (writing the one-hot row is not arithmetic)."""
    rows, length = _rows(call)
    return Arith(ops=rows * max(length - 1, 0))
