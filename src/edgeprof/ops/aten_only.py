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

from math import prod

from edgeprof.ops.registry import Arith, Category, OpCall, Uncountable, data_movement, formula


def adaptive_windows(n: int, m: int) -> list[int]:
    """The window lengths of adaptive pooling of a dim of ``n`` into ``m`` outputs."""
    if m <= 0:
        raise Uncountable(f"adaptive pooling to an output size of {m}")
    return [-((-(i + 1) * n) // m) - (i * n) // m for i in range(m)]


def _windows(call: OpCall) -> tuple[int, list[list[int]]]:
    """(leading elements (N·C), per spatial dim the window lengths)."""
    x, y = call.in_shape(0), call.out_shape(0)
    spatial = {
        "aten::adaptive_avg_pool1d": 1, "aten::adaptive_max_pool1d": 1,
        "aten::_adaptive_avg_pool2d": 2, "aten::adaptive_max_pool2d": 2,
        "aten::_adaptive_avg_pool3d": 3, "aten::adaptive_max_pool3d": 3,
    }[call.op]
    if len(x) != len(y) or len(x) < spatial:
        raise Uncountable(f"{call.op}: input {x} and output {y} do not fit {spatial} spatial dims")
    lead = prod(x[: len(x) - spatial])
    dims = [adaptive_windows(n, m) for n, m in zip(x[len(x) - spatial:], y[len(y) - spatial:], strict=True)]
    return lead, dims


def _window_sizes(dims: list[list[int]]) -> list[int]:
    sizes = [1]
    for lengths in dims:
        sizes = [s * k for s in sizes for k in lengths]
    return sizes


@formula("aten::adaptive_avg_pool1d", "aten::_adaptive_avg_pool2d", "aten::_adaptive_avg_pool3d",
         category=Category.POOLING)
def adaptive_avg_pool(call: OpCall) -> Arith:
    """N·C·Σ_windows (m-1 adds + 1 divide) = N·C·Σ m, m = each window's size (windows of torch's adaptive split)."""
    lead, dims = _windows(call)
    return Arith(ops=lead * sum(_window_sizes(dims)))


@formula("aten::adaptive_max_pool1d", "aten::adaptive_max_pool2d", "aten::adaptive_max_pool3d",
         category=Category.POOLING)
def adaptive_max_pool(call: OpCall) -> Arith:
    """N·C·Σ_windows (m-1) comparisons, m = each window's size (windows of torch's adaptive split)."""
    lead, dims = _windows(call)
    return Arith(ops=lead * sum(m - 1 for m in _window_sizes(dims)))


data_movement("aten::unfold", reason="a strided view of sliding windows (Tensor.unfold): no copy", view=True)
data_movement("aten::im2col", reason="copies the sliding windows into columns (F.unfold)")
