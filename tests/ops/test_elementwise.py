"""Closed-form tests of the elementwise family: one op per output element, broadcasting
included; variadic ops; integer precisions reported as integer OPs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeprof.ops.elementwise import BINARY_OPS, UNARY_OPS
from edgeprof.ops.registry import Uncountable
from tests.opcall import cost


@pytest.mark.parametrize("op", BINARY_OPS)
def test_binary_ops_count_the_broadcast_output(op: str) -> None:
    # (4, 1) with (1, 5) -> (4, 5): 20 ops, although each input has fewer elements
    dtype = "int32" if op.startswith("Bit") else ("bool" if op in ("And", "Or", "Xor") else "float32")
    c = cost(op, [((4, 1), dtype), ((1, 5), dtype)], [((4, 5), dtype)])
    assert c.flops + c.int_ops == 20
    assert c.macs == 0
    assert c.category.value == "elementwise"


def test_add_float_bytes_and_scalar_broadcast() -> None:
    # (2, 3, 8) + scalar: 48 adds; reads 48 + 1 floats, writes 48
    c = cost("Add", [(2, 3, 8), ()], [(2, 3, 8)])
    assert (c.flops, c.int_ops, c.bytes_read, c.bytes_written) == (48, 0, 4 * 49, 4 * 48)


def test_integer_add_is_int_ops_not_flops() -> None:
    c = cost("Add", [((10,), "int64"), ((10,), "int64")], [((10,), "int64")])
    assert (c.flops, c.int_ops, c.precision) == (0, 10, "int64")


def test_comparisons_take_the_operand_precision() -> None:
    # float compares are FLOPs even though the output is bool
    c = cost("Greater", [(6,), (6,)], [((6,), "bool")])
    assert (c.flops, c.int_ops) == (6, 0)
    c = cost("LessOrEqual", [((6,), "int8"), ((6,), "int8")], [((6,), "bool")])
    assert (c.flops, c.int_ops) == (0, 6)


def test_logical_ops_on_bool_are_int_ops() -> None:
    c = cost("And", [((3, 3), "bool"), ((3, 3), "bool")], [((3, 3), "bool")])
    assert (c.flops, c.int_ops, c.precision) == (0, 9, "bool")
    c = cost("Not", [((3, 3), "bool")], [((3, 3), "bool")])
    assert (c.flops, c.int_ops) == (0, 9)


@pytest.mark.parametrize("op", UNARY_OPS)
def test_unary_ops_one_per_element(op: str) -> None:
    dtype = "int16" if op == "BitwiseNot" else ("bool" if op == "Not" else "float32")
    c = cost(op, [((5, 7), dtype)], [((5, 7), dtype)])
    assert c.flops + c.int_ops == 35


@pytest.mark.parametrize(
    ("op", "per_output"), [("Max", 2), ("Min", 2), ("Sum", 2), ("Mean", 3)]
)
def test_variadic_three_inputs_broadcast(op: str, per_output: int) -> None:
    # (2, 1, 4), (3, 1), (4,) -> (2, 3, 4) = 24 outputs; k = 3: 2 ops each (+1 divide for Mean)
    c = cost(op, [(2, 1, 4), (3, 1), (4,)], [(2, 3, 4)])
    assert c.flops == 24 * per_output


def test_variadic_single_input() -> None:
    assert cost("Sum", [(8,)], [(8,)]).flops == 0  # a copy
    assert cost("Max", [(8,)], [(8,)]).flops == 0
    assert cost("Mean", [(8,)], [(8,)]).flops == 8  # divide by 1


def test_variadic_with_no_input_is_uncountable() -> None:
    with pytest.raises(Uncountable):
        cost("Sum", [], [(8,)])


def test_mod_is_four_ops_per_output() -> None:
    # divide, floor, multiply, subtract
    assert cost("Mod", [(3, 4), (4,)], [(3, 4)]).flops == 48
    c = cost("Mod", [((3, 4), "int32"), ((3, 4), "int32")], [((3, 4), "int32")], fmod=0)
    assert (c.flops, c.int_ops) == (0, 48)


def test_pow_is_one_op_per_element() -> None:
    assert cost("Pow", [(2, 5), ()], [(2, 5)]).flops == 10


def test_is_inf_depends_on_the_signs_detected() -> None:
    out = ((4, 5), "bool")
    assert cost("IsInf", [(4, 5)], [out]).flops == 40  # abs + compare
    assert cost("IsInf", [(4, 5)], [out], detect_negative=0).flops == 20
    assert cost("IsInf", [(4, 5)], [out], detect_positive=0).flops == 20
    assert cost("IsInf", [(4, 5)], [out], detect_positive=0, detect_negative=0).flops == 0


def test_symbolic_output_is_uncountable() -> None:
    with pytest.raises(Uncountable, match="batch"):
        cost("Mul", [("batch", 4), (4,)], [("batch", 4)])


@given(
    a=st.lists(st.integers(1, 5), min_size=0, max_size=4),
    b=st.lists(st.integers(1, 5), min_size=0, max_size=4),
)
def test_binary_is_the_numpy_broadcast_size(a: list[int], b: list[int]) -> None:
    # build a compatible pair: where both have a dim, make one of them 1 or equal
    rank = max(len(a), len(b))
    pa = [1] * (rank - len(a)) + a
    pb = [1] * (rank - len(b)) + b
    pb = [y if x == 1 or y == 1 else x for x, y in zip(pa, pb, strict=True)]
    out = [max(x, y) for x, y in zip(pa, pb, strict=True)]
    numel = 1
    for d in out:
        numel *= d
    b_shape = tuple(pb[rank - len(b):]) if b else ()
    assert cost("Sub", [tuple(a), b_shape], [tuple(out)]).flops == numel
