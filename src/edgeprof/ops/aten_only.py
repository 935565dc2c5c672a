"""Op family: aten ops with no ONNX equivalent at all, registered as ``aten::<name>``.

The torch frontend maps every aten op it can onto ONNX ops; these are the ones ONNX cannot
express, so their nodes keep their aten name:

* adaptive pooling whose windows are not all the same size (the input is not a multiple of the
  output: torch's windows along a dim of n -> m run from floor(i·n/m) to ceil((i+1)·n/m));
  an even split is mapped to AveragePool/MaxPool and never reaches here;
* ``unfold`` (``Tensor.unfold``, a strided view) and ``im2col`` (``F.unfold``, a copy): data
  movement only.
"""

from __future__ import annotations

from math import gcd, prod

from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, data_movement, formula


def adaptive_windows(n: int, m: int) -> list[int]:
    """The window lengths of adaptive pooling of a dim of ``n`` into ``m`` outputs."""
    if m <= 0:
        raise Uncountable(f"adaptive pooling to an output size of {m}")
    return [-((-(i + 1) * n) // m) - (i * n) // m for i in range(m)]


def adaptive_length_sum(n: int, m: int) -> int:
    """Σ of the ``m`` adaptive window lengths over a dim of ``n``: n + m - gcd(n, m) (closed form
    of Σ_i ceil((i+1)n/m) - floor(i·n/m); equal to ``sum(adaptive_windows(n, m))``)."""
    if m <= 0:
        raise Uncountable(f"adaptive pooling to an output size of {m}")
    return n + m - gcd(n, m)


def _axes(call: OpCall) -> tuple[int, list[tuple[int, int]]]:
    """(leading elements (N·C), per spatial dim (input length, output length))."""
    x, y = call.in_shape(0), call.out_shape(0)
    spatial = {
        "aten::adaptive_avg_pool1d": 1, "aten::adaptive_max_pool1d": 1,
        "aten::_adaptive_avg_pool2d": 2, "aten::adaptive_max_pool2d": 2,
        "aten::_adaptive_avg_pool3d": 3, "aten::adaptive_max_pool3d": 3,
    }[call.op]
    if len(x) != len(y) or len(x) < spatial:
        raise Uncountable(f"{call.op}: input {x} and output {y} do not fit {spatial} spatial dims")
    lead = prod(x[: len(x) - spatial])
    return lead, list(zip(x[len(x) - spatial:], y[len(y) - spatial:], strict=True))


@formula(
    "aten::adaptive_avg_pool1d", "aten::_adaptive_avg_pool2d", "aten::_adaptive_avg_pool3d", category=Category.POOLING,
    example={
        "aten::adaptive_avg_pool1d": Example(((2, 3, 5),), ((2, 3, 3),), ops=42),
        "aten::_adaptive_avg_pool2d": Example(((1, 2, 5, 5),), ((1, 2, 3, 3),), ops=98),
        "aten::_adaptive_avg_pool3d": Example(((1, 2, 5, 5, 5),), ((1, 2, 3, 3, 3),), ops=686),
    },
)
def adaptive_avg_pool(call: OpCall) -> Arith:
    """N·C·Σ_windows (m-1 adds + 1 divide) = N·C·Σ m, m = each window's size (windows of torch's adaptive split)."""
    lead, axes = _axes(call)
    # a window's size is the product of its per-axis lengths, so Σ over windows = Π over axes of Σ lengths
    return Arith(ops=lead * prod(adaptive_length_sum(n, m) for n, m in axes))


@formula(
    "aten::adaptive_max_pool1d", "aten::adaptive_max_pool2d", "aten::adaptive_max_pool3d", category=Category.POOLING,
    example={
        "aten::adaptive_max_pool1d": Example(((2, 3, 5),), ((2, 3, 3),), ops=24),
        "aten::adaptive_max_pool2d": Example(((1, 2, 5, 5),), ((1, 2, 3, 3),), ops=80),
        "aten::adaptive_max_pool3d": Example(((1, 2, 5, 5, 5),), ((1, 2, 3, 3, 3),), ops=632),
    },
)
def adaptive_max_pool(call: OpCall) -> Arith:
    """N·C·Σ_windows (m-1) comparisons, m = each window's size (windows of torch's adaptive split)."""
    lead, axes = _axes(call)
    sizes = prod(adaptive_length_sum(n, m) for n, m in axes)
    return Arith(ops=lead * (sizes - prod(m for _, m in axes)))


data_movement("aten::unfold", reason="a strided view of sliding windows (Tensor.unfold): no copy", view=True)
data_movement("aten::im2col", reason="copies the sliding windows into columns (F.unfold)")
