"""Op family: elementwise arithmetic, comparisons, logic and unary math.

Every op here is counted per **output** element, so broadcasting is already in the count
(``(4, 1) + (1, 5)`` is 20 adds):

* binary arithmetic, comparisons, logical and bitwise ops: 1 op per output element. ``Pow``
  is counted as one op per element whatever the exponent (a direct implementation calls pow);
* variadic ``Max``/``Min``/``Sum`` of k inputs: k-1 per output element; ``Mean``: k-1 adds + 1
  divide;
* ``Mod``: the ONNX definition A - floor(A/B)·B (``fmod=1``: trunc): divide, floor, multiply,
  subtract = 4 per output element, for every dtype;
* unary math (Exp, Log, Sqrt, Abs, Neg, Reciprocal, trigonometric and hyperbolic functions,
  Erf, Floor, Ceil, Round, Sign, IsNaN, Not, BitwiseNot): 1 op per element (a transcendental
  function is one op, as exp is in the Sigmoid of docs/counting.md); ``IsInf``: |x| == inf is 2 with both
  signs detected, 1 comparison with one sign, 0 with neither (the output is all false).

Integer and boolean operands are reported as integer OPs automatically (their precision).
"""

from __future__ import annotations

from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, formula

MOD_OPS = 4
"""A - floor(A/B)·B: divide, floor (or trunc), multiply, subtract."""

UNARY_OPS = (
    "Abs", "Neg", "Reciprocal", "Sqrt", "Exp", "Log", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh",
    "Cosh", "Asinh", "Acosh", "Atanh", "Erf", "Floor", "Ceil", "Round", "Sign", "IsNaN", "Not", "BitwiseNot",
)
BINARY_OPS = (
    "Add", "Sub", "Mul", "Div", "Pow", "Equal", "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "And", "Or",
    "Xor", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "BitShift",
)
VARIADIC_OPS = ("Max", "Min", "Sum")


def _present_inputs(call: OpCall) -> int:
    return sum(1 for v in call.inputs if v is not None)


@formula(*UNARY_OPS, category=Category.ELEMENTWISE, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=24))
def unary(call: OpCall) -> Arith:
    """1 op per element: one unary function (exp, log, sqrt, abs, trig, erf, rounding, sign, isnan, not, ...) is 1 op."""
    return Arith(ops=call.out_numel())


@formula(*BINARY_OPS, category=Category.ELEMENTWISE, example=Example(((2, 3, 4), (4,)), ((2, 3, 4),), ops=24))
def binary(call: OpCall) -> Arith:
    """1 op per output element (broadcast): one add, sub, mul, div, pow, comparison, logical or bitwise op."""
    return Arith(ops=call.out_numel())


@formula(*VARIADIC_OPS, category=Category.ELEMENTWISE, example=Example(((2, 3, 4), (4,), (3, 4)), ((2, 3, 4),), ops=48))
def variadic(call: OpCall) -> Arith:
    """k-1 ops per output element for k inputs (broadcast); one input is a copy (0 ops)."""
    k = _present_inputs(call)
    if k == 0:
        raise Uncountable(f"{call.op} has no inputs")
    return Arith(ops=(k - 1) * call.out_numel())


@formula("Mean", category=Category.ELEMENTWISE, example=Example(((2, 3, 4), (4,), (3, 4)), ((2, 3, 4),), ops=72))
def mean(call: OpCall) -> Arith:
    """k-1 adds + 1 divide = k ops per output element for k inputs (broadcast)."""
    k = _present_inputs(call)
    if k == 0:
        raise Uncountable("Mean has no inputs")
    return Arith(ops=k * call.out_numel())


@formula("Mod", category=Category.ELEMENTWISE, example=Example(((2, 3, 4), (4,)), ((2, 3, 4),), ops=96))
def mod(call: OpCall) -> Arith:
    """4 per output element: A - floor(A/B)·B (fmod=1: trunc): divide, floor, multiply, subtract."""
    return Arith(ops=MOD_OPS * call.out_numel())


@formula("IsInf", category=Category.ELEMENTWISE, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=48))
def is_inf(call: OpCall) -> Arith:
    """Per element: both signs |x| == inf (abs, comparison) = 2; one sign 1 comparison; neither 0."""
    signs = int(bool(call.attr_int("detect_positive", 1))) + int(bool(call.attr_int("detect_negative", 1)))
    return Arith(ops=signs * call.out_numel())
