"""Op family: reductions (Reduce*, ArgMax/ArgMin), scans (CumSum, CumProd) and TopK.

The reduced length k (elements per output) is read from the shapes, never from the axes:
k = numel(X) / numel(Y). That holds whatever the opset spells the axes as (attribute or
input, possibly a constant the formula cannot see), for keepdims 0 or 1, and for
``noop_with_empty_axes`` (k = 1). Per output element, over k inputs:

* ReduceSum k-1 adds; ReduceMean k-1 adds + 1 divide; ReduceProd k-1 multiplies;
  ReduceMax/ReduceMin and ArgMax/ArgMin k-1 comparisons;
* ReduceSumSquare k multiplies + k-1 adds; ReduceL1 k abs + k-1 adds; ReduceL2 k multiplies +
  k-1 adds + 1 sqrt; ReduceLogSum k-1 adds + 1 log;
* ReduceLogSumExp in its stable form (as runtimes compute it, and as our softmax does):
  max k-1, subtract k, exp k, sum k-1, log 1, add the max back 1 = 4k.

``noop_with_empty_axes=1`` with no axes is the identity: 0 ops.

CumSum/CumProd scan lines of length n along an axis that is an input *value*: a frontend that
knows it passes it as the attribute ``axis``; otherwise it is resolved from the shapes when every
axis it could be gives the same count (rank 1, or equal dims), and the call is not counted when
they differ. Per line: n-1 ops (inclusive), n-2 (exclusive).

TopK is a direct partial selection: k passes, pass i finds the extreme of the n-i remaining
elements (n-i-1 comparisons): k·(2n-k-1)/2 comparisons per line (n-1 for k = 1, n(n-1)/2
for a full sort). Its output is already sorted, so ``sorted`` does not change the count.
"""

from __future__ import annotations

from collections.abc import Callable

from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, formula

_REDUCE_META = (1,)  # opset 18+: the axes input


def _reduced_length(call: OpCall) -> tuple[int, int]:
    """(outputs, k): the number of output elements and the elements reduced into each."""
    if _is_noop(call):
        return call.out_numel(), 1
    n_in, n_out = call.in_numel(0), call.out_numel()
    if n_out == 0 or n_in == 0:
        return n_out, 0
    if n_in % n_out:
        raise Uncountable(f"{call.op}: {n_in} input elements do not reduce evenly into {n_out} outputs")
    return n_out, n_in // n_out


def _is_noop(call: OpCall) -> bool:
    """noop_with_empty_axes=1 and no axes (no attribute, no input or an empty one): the identity."""
    if not call.attr_int("noop_with_empty_axes", 0):
        return False
    if call.attr_ints("axes"):
        return False
    return not call.has_input(1) or call.in_numel(1) == 0


def _reduce(per_output: Callable[[int], int]) -> Callable[[OpCall], Arith]:
    def fn(call: OpCall) -> Arith:
        if _is_noop(call):
            return Arith(ops=0)
        outputs, k = _reduced_length(call)
        if k == 0:
            return Arith(ops=0)
        return Arith(ops=outputs * per_output(k))

    return fn


_sum = _reduce(lambda k: k - 1)
_mean = _reduce(lambda k: k)
_sum_square = _reduce(lambda k: 2 * k - 1)
_l2 = _reduce(lambda k: 2 * k)
_log_sum = _reduce(lambda k: k)
_log_sum_exp = _reduce(lambda k: 4 * k)


@formula(
    "ReduceSum", category=Category.REDUCTION, meta_inputs=_REDUCE_META,
    example=Example(((2, 3, 4),), ((2, 3, 1),), {"axes": (2,)}, ops=18),
)
def reduce_sum(call: OpCall) -> Arith:
    """numel(Y)·(k-1) adds, k = numel(X)/numel(Y)."""
    return _sum(call)


@formula(
    "ReduceMean", category=Category.REDUCTION, meta_inputs=_REDUCE_META,
    example=Example(((2, 3, 4),), ((2, 3, 1),), {"axes": (2,)}, ops=24),
)
def reduce_mean(call: OpCall) -> Arith:
    """numel(Y)·k: k-1 adds + 1 divide per output, k = numel(X)/numel(Y)."""
    return _mean(call)


@formula(
    "ReduceProd", category=Category.REDUCTION, meta_inputs=_REDUCE_META,
    example=Example(((2, 3, 4),), ((2, 3, 1),), {"axes": (2,)}, ops=18),
)
def reduce_prod(call: OpCall) -> Arith:
    """numel(Y)·(k-1) multiplies, k = numel(X)/numel(Y)."""
    return _sum(call)


@formula(
    "ReduceMax", "ReduceMin", category=Category.REDUCTION, meta_inputs=_REDUCE_META,
    example=Example(((2, 3, 4),), ((2, 3, 1),), {"axes": (2,)}, ops=18),
)
def reduce_max_min(call: OpCall) -> Arith:
    """numel(Y)·(k-1) comparisons, k = numel(X)/numel(Y)."""
    return _sum(call)


@formula(
    "ReduceSumSquare", "ReduceL1", category=Category.REDUCTION, meta_inputs=_REDUCE_META,
    example=Example(((2, 3, 4),), ((2, 3, 1),), {"axes": (2,)}, ops=42),
)
def reduce_sum_square_l1(call: OpCall) -> Arith:
    """numel(Y)·(2k-1): k squares (L1: k abs) + k-1 adds per output, k = numel(X)/numel(Y)."""
    return _sum_square(call)


@formula(
    "ReduceL2", category=Category.REDUCTION, meta_inputs=_REDUCE_META,
    example=Example(((2, 3, 4),), ((2, 3, 1),), {"axes": (2,)}, ops=48),
)
def reduce_l2(call: OpCall) -> Arith:
    """numel(Y)·2k: k squares + k-1 adds + 1 sqrt per output, k = numel(X)/numel(Y)."""
    return _l2(call)


@formula(
    "ReduceLogSum", category=Category.REDUCTION, meta_inputs=_REDUCE_META,
    example=Example(((2, 3, 4),), ((2, 3, 1),), {"axes": (2,)}, ops=24),
)
def reduce_log_sum(call: OpCall) -> Arith:
    """numel(Y)·k: k-1 adds + 1 log per output, k = numel(X)/numel(Y)."""
    return _log_sum(call)


@formula(
    "ReduceLogSumExp", category=Category.REDUCTION, meta_inputs=_REDUCE_META,
    example=Example(((2, 3, 4),), ((2, 3, 1),), {"axes": (2,)}, ops=96),
)
def reduce_log_sum_exp(call: OpCall) -> Arith:
    """numel(Y)·4k, stable form: max k-1, subtract k, exp k, sum k-1, log 1, add max 1."""
    return _log_sum_exp(call)


@formula(
    "ArgMax", "ArgMin", category=Category.REDUCTION,
    example=Example(((2, 3, 4),), (((2, 3, 1), "int64"),), {"axis": -1}, ops=18),
)
def arg_max_min(call: OpCall) -> Arith:
    """numel(Y)·(k-1) comparisons, k = numel(X)/numel(Y) (the length of the reduced axis)."""
    outputs, k = _reduced_length(call)
    return Arith(ops=outputs * max(k - 1, 0))


# --- scans ----------------------------------------------------------------------------------


def _scan_ops(call: OpCall) -> int:
    """Ops of a cumulative scan, resolving its axis (an input value) from the shapes."""
    x = call.in_shape(0)
    if not x:
        raise Uncountable(f"{call.op} needs an input of rank >= 1")
    numel = call.in_numel(0)
    if numel == 0:
        return 0
    exclusive = bool(call.attr_int("exclusive", 0))

    def ops(n: int) -> int:
        per_line = max(n - 2, 0) if exclusive else n - 1
        return numel // n * per_line

    if call.attrs.get("axis") is not None:  # the axis input's value, when the frontend knows it
        axis = call.attr_int("axis", 0)
        if not -len(x) <= axis < len(x):
            raise Uncountable(f"{call.op}: axis {axis} is out of range for rank {len(x)}")
        return ops(x[axis])
    counts = {ops(n) for n in x}
    if len(counts) > 1:
        raise Uncountable(
            f"{call.op}: the count depends on the scan axis, an input value the formula cannot see (shape {x})"
        )
    return counts.pop()


@formula(
    "CumSum", category=Category.REDUCTION, meta_inputs=(1,),
    example=Example(((2, 3, 4), ((), "int64")), ((2, 3, 4),), {"axis": 2}, ops=18),
)
def cum_sum(call: OpCall) -> Arith:
    """Per scan line of n along axis: n-1 adds (exclusive: n-2); numel(X)/n lines."""
    return Arith(ops=_scan_ops(call))


@formula(
    "CumProd", category=Category.REDUCTION, meta_inputs=(1,),
    example=Example(((2, 3, 4), ((), "int64")), ((2, 3, 4),), {"axis": 2}, ops=18),
)
def cum_prod(call: OpCall) -> Arith:
    """Per scan line of n along axis: n-1 multiplies (exclusive: n-2); numel(X)/n lines."""
    return Arith(ops=_scan_ops(call))


# --- TopK -----------------------------------------------------------------------------------


def top_k_comparisons(n: int, k: int) -> int:
    """Comparisons of a direct partial selection of k of n: sum over passes i < k of n-i-1."""
    return k * (2 * n - k - 1) // 2


@formula(
    "TopK", category=Category.REDUCTION, meta_inputs=(1,),
    example=Example(((2, 3, 4), ((1,), "int64")), ((2, 3, 2), ((2, 3, 2), "int64")), ops=30),
)
def top_k(call: OpCall) -> Arith:
    """Per line of n along axis, k = Y's length there: k·(2n-k-1)/2 comparisons (k selection passes)."""
    x, y = call.in_shape(0), call.out_shape(0)
    if not x or len(y) != len(x):
        raise Uncountable(f"TopK: input {x} and output {y} do not fit")
    rank = len(x)
    axis = call.attr_int("axis", -1)
    if not -rank <= axis < rank:
        raise Uncountable(f"TopK: axis {axis} is out of range for rank {rank}")
    n, k = x[axis % rank], y[axis % rank]
    if k > n:
        raise Uncountable(f"TopK: k = {k} is larger than the axis length {n}")
    if n == 0:
        return Arith(ops=0)
    return Arith(ops=call.in_numel(0) // n * top_k_comparisons(n, k))
