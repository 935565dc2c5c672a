"""Op family: quantisation (QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear).

The quantised compute ops (QLinearConv, QLinearMatMul, MatMulInteger, ConvInteger) live with
their float forms in conv.py and linear.py. The ops here convert between float and integer
tensors; their arithmetic is float arithmetic and is reported as FLOPs:

* QuantizeLinear, y = saturate(round(x / scale) + zero_point): divide, round, add the zero
  point (when the input is present), saturate = a min and a max (none for a float8 output
  with ``saturate=0``): 5 ops per element (4 without a zero point). Precision: x's.
* DequantizeLinear, y = (x - zero_point)·scale: subtract (when the zero point is present),
  multiply: 2 ops per element (1 without). Precision: the float output's.
* DynamicQuantizeLinear over n elements: min and max of x (2(n-1) comparisons); scale =
  (max(0, xmax) - min(0, xmin)) / (qmax - qmin) = 4; zero point = saturate(round(qmin -
  xmin/scale)) = divide, subtract, min, max, round = 5; then QuantizeLinear's 5 per element:
  7n + 7.

Per-tensor, per-axis and blocked granularities (``axis``, ``block_size``) broadcast the scale
and zero point: they change which scale an element uses, not the arithmetic per element.
"""

from __future__ import annotations

from edgeprof.ops.registry import Arith, Category, Example, OpCall, formula

QUANTIZE_CORE_OPS = 2
"""Divide by the scale, round to nearest even."""
SATURATE_OPS = 2
"""Clamp to the output type's range: a min and a max."""
SCALE_OPS = 4
"""DynamicQuantizeLinear: max(0, xmax), min(0, xmin), subtract, divide by (qmax - qmin)."""
ZERO_POINT_OPS = 5
"""DynamicQuantizeLinear: xmin / scale, qmin - that, saturate (min, max), round."""


def _output_is_float(call: OpCall) -> bool:
    return bool(call.outputs) and call.outputs[0].dtype.is_float


@formula(
    "QuantizeLinear", category=Category.QUANTISATION,
    example=Example(((2, 3, 4), ((), "float32"), ((), "uint8")), (((2, 3, 4), "uint8"),), ops=120),
)
def quantize_linear(call: OpCall) -> Arith:
    """Per element: divide, round, + zero point (if given), saturate min+max: 5n (4n without zero point; float8 saturate=0: no clamp)."""
    saturate = SATURATE_OPS
    if _output_is_float(call) and not call.attr_int("saturate", 1):
        saturate = 0
    per_element = QUANTIZE_CORE_OPS + (1 if call.has_input(2) else 0) + saturate
    return Arith(ops=per_element * call.in_numel(0))


@formula(
    "DequantizeLinear", category=Category.QUANTISATION,
    example=Example((((2, 3, 4), "int8"), ((), "float32"), ((), "int8")), ((2, 3, 4),), ops=48),
)
def dequantize_linear(call: OpCall) -> Arith:
    """Per element: (x - zero_point)·scale = 2n (n without a zero point); FLOPs at the float output's precision."""
    per_element = 1 + (1 if call.has_input(2) else 0)
    precision = call.outputs[0].dtype if call.outputs else call.in_dtype(1)
    return Arith(ops=per_element * call.in_numel(0), precision=precision)


@formula(
    "DynamicQuantizeLinear", category=Category.QUANTISATION,
    example=Example(((2, 3, 4),), (((2, 3, 4), "uint8"), ((), "float32"), ((), "uint8")), ops=175),
)
def dynamic_quantize_linear(call: OpCall) -> Arith:
    """7n + 7: min and max 2(n-1) comparisons, scale 4, zero point 5, quantise 5n (divide, round, add, min, max)."""
    return Arith(ops=dynamic_quantize_ops(call.in_numel(0)))


def dynamic_quantize_ops(n: int) -> int:
    """DynamicQuantizeLinear over n elements: 7n + 7 (min/max 2(n-1), scale 4, zero point 5, quantise 5n)."""
    comparisons = 2 * max(n - 1, 0)
    quantise = (QUANTIZE_CORE_OPS + 1 + SATURATE_OPS) * n
    return comparisons + SCALE_OPS + ZERO_POINT_OPS + quantise
