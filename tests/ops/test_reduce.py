"""Closed-form tests of reductions, scans and TopK (keepdims, axes as attribute or input,
noop_with_empty_axes)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeprof.ops.registry import Uncountable
from tests.opcall import cost

X = (2, 3, 4)  # 24 elements
AXES = ((1,), "int64")


@pytest.mark.parametrize(
    ("op", "per_output"),
    [
        # reduce axis 1 (k = 3) into 8 outputs
        ("ReduceSum", 2),  # k-1 adds
        ("ReduceMean", 3),  # k-1 adds + divide
        ("ReduceProd", 2),  # k-1 multiplies
        ("ReduceMax", 2),  # k-1 comparisons
        ("ReduceMin", 2),
        ("ReduceSumSquare", 5),  # k squares + k-1 adds
        ("ReduceL1", 5),  # k abs + k-1 adds
        ("ReduceL2", 6),  # k squares + k-1 adds + sqrt
        ("ReduceLogSum", 3),  # k-1 adds + log
        ("ReduceLogSumExp", 12),  # max 2, subtract 3, exp 3, sum 2, log 1, add 1
    ],
)
def test_reduce_one_axis(op: str, per_output: int) -> None:
    # keepdims=1 (attribute axes, opset < 18) and keepdims=0 (axes input, opset 18) cost the same
    kept = cost(op, [X], [(2, 1, 4)], axes=(1,), keepdims=1)
    dropped = cost(op, [X, AXES], [(2, 4)], keepdims=0)
    assert kept.flops == dropped.flops == 8 * per_output
    assert kept.category.value == "reduction"
    assert kept.macs == 0


def test_reduce_all_axes_to_a_scalar() -> None:
    # ReduceMean over 24 elements: 23 adds + 1 divide
    assert cost("ReduceMean", [X], [()], keepdims=0).flops == 24
    assert cost("ReduceSum", [X], [(1, 1, 1)]).flops == 23


def test_reduce_two_axes_reads_k_from_the_shapes() -> None:
    # axes (0, 2): k = 8 into 3 outputs
    assert cost("ReduceSum", [X, ((2,), "int64")], [(1, 3, 1)]).flops == 3 * 7
    assert cost("ReduceL2", [X, ((2,), "int64")], [(3,)], keepdims=0).flops == 3 * 16


def test_noop_with_empty_axes_is_the_identity() -> None:
    assert cost("ReduceSum", [X], [X], noop_with_empty_axes=1).flops == 0
    assert cost("ReduceMean", [X, ((0,), "int64")], [X], noop_with_empty_axes=1).flops == 0
    # with axes given, noop_with_empty_axes does not apply
    assert cost("ReduceMean", [X, AXES], [(2, 1, 4)], noop_with_empty_axes=1).flops == 24


def test_reduce_over_size_one_axis() -> None:
    # k = 1: no adds, but the mean still divides
    assert cost("ReduceSum", [(4, 1)], [(4,)], keepdims=0, axes=(1,)).flops == 0
    assert cost("ReduceMean", [(4, 1)], [(4,)], keepdims=0, axes=(1,)).flops == 4


def test_reduce_empty_input() -> None:
    assert cost("ReduceSum", [(0, 3)], [(3,)], axes=(0,), keepdims=0).flops == 0


def test_reduce_mismatched_shapes_are_uncountable() -> None:
    with pytest.raises(Uncountable, match="evenly"):
        cost("ReduceSum", [(5,)], [(2,)])


def test_integer_reduce_is_int_ops() -> None:
    c = cost("ReduceMax", [((4, 6), "int8")], [((4, 1), "int8")], axes=(1,))
    assert (c.flops, c.int_ops) == (0, 20)


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
def test_arg_max_min(op: str) -> None:
    # axis 2 of (2, 3, 4): 6 outputs of 3 comparisons; the output is int64 but the compares are float
    c = cost(op, [X], [((2, 3, 1), "int64")], axis=2)
    assert (c.flops, c.int_ops) == (18, 0)
    assert cost(op, [X], [((3, 4), "int64")], axis=0, keepdims=0).flops == 12


# --- scans -----------------------------------------------------------------------------------


def test_cumsum_rank_one() -> None:
    axis = ((), "int64")
    assert cost("CumSum", [(10,), axis], [(10,)]).flops == 9
    assert cost("CumSum", [(10,), axis], [(10,)], exclusive=1).flops == 8
    assert cost("CumSum", [(10,), axis], [(10,)], reverse=1).flops == 9
    assert cost("CumProd", [(10,), axis], [(10,)]).flops == 9


def test_cumsum_square_matrix_any_axis() -> None:
    # (5, 5): 5 lines of 4 adds whichever axis
    assert cost("CumSum", [(5, 5), ((), "int64")], [(5, 5)]).flops == 20


def test_cumsum_ambiguous_axis_is_uncountable() -> None:
    with pytest.raises(Uncountable, match="axis"):
        cost("CumSum", [(2, 7), ((), "int64")], [(2, 7)])


def test_cumsum_axis_given_by_the_frontend() -> None:
    # the axis input's value passed as the attribute "axis": (2, 7) along 1 is 2 lines of 6 adds
    assert cost("CumSum", [(2, 7), ((), "int64")], [(2, 7)], axis=1).flops == 12
    assert cost("CumSum", [(2, 7), ((), "int64")], [(2, 7)], axis=-2).flops == 7
    assert cost("CumProd", [(2, 7), ((), "int64")], [(2, 7)], axis=1, exclusive=1).flops == 10
    with pytest.raises(Uncountable, match="out of range"):
        cost("CumSum", [(2, 7), ((), "int64")], [(2, 7)], axis=2)


def test_cumsum_int_is_int_ops() -> None:
    c = cost("CumSum", [((6,), "int64"), ((), "int64")], [((6,), "int64")])
    assert (c.flops, c.int_ops) == (0, 5)


# --- TopK ------------------------------------------------------------------------------------


def test_top_k_partial_selection() -> None:
    # n = 10, k = 3 along the last axis: passes of 9, 8, 7 comparisons = 24 per line; 4 lines
    k = ((1,), "int64")
    c = cost("TopK", [(4, 10), k], [(4, 3), ((4, 3), "int64")])
    assert c.flops == 96
    assert c.category.value == "reduction"


def test_top_k_other_axis_and_full_sort() -> None:
    k = ((1,), "int64")
    # axis 0 of (6, 2): n = 6, k = 1: 5 comparisons per line, 2 lines
    assert cost("TopK", [(6, 2), k], [(1, 2), ((1, 2), "int64")], axis=0).flops == 10
    # k = n = 5: a selection sort: 4 + 3 + 2 + 1 = 10 per line
    assert cost("TopK", [(3, 5), k], [(3, 5), ((3, 5), "int64")]).flops == 30


def test_top_k_bad_k_is_uncountable() -> None:
    with pytest.raises(Uncountable, match="larger"):
        cost("TopK", [(3, 5), ((1,), "int64")], [(3, 6), ((3, 6), "int64")])


@given(n=st.integers(1, 300), data=st.data())
def test_top_k_is_the_sum_of_the_selection_passes(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(1, n))
    expected = sum(n - i - 1 for i in range(k))
    assert cost("TopK", [(n,), ((1,), "int64")], [(k,), ((k,), "int64")]).flops == expected
