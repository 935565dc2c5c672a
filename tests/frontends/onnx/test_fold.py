"""The constant evaluator's rules follow the ONNX operator spec (hand-worked expectations)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from edgeprof.frontends.onnx._fold import fold, range_length, reshape_dims, slice_bounds


def _i(*v: int) -> np.ndarray:
    return np.array(v, dtype=np.int64)


def _one(op: str, *inputs: np.ndarray | None, **attrs: object) -> list[object]:
    out = fold(op, list(inputs), attrs)
    assert out is not None
    return [x.tolist() for x in out]


def test_integer_div_truncates_toward_zero() -> None:
    assert _one("Div", _i(-7, 7, 7), _i(2, 2, -2)) == [[-3, 3, -3]]
    assert fold("Div", [_i(1), _i(0)], {}) is None  # never folds a division by zero


def test_mod_sign_follows_the_divisor_unless_fmod() -> None:
    assert _one("Mod", _i(-7, 7), _i(3, -3)) == [[2, -2]]
    assert _one("Mod", _i(-7, 7), _i(3, -3), fmod=1) == [[-1, 1]]


def test_range_lengths() -> None:
    assert range_length(0, 10, 3) == 4  # 0 3 6 9
    assert range_length(10, 0, -3) == 4  # 10 7 4 1
    assert range_length(0, 1.0, 0.3) == 4  # 0 .3 .6 .9
    assert range_length(5, 0, 1) == 0
    assert _one("Range", np.array(2, np.int64), np.array(8, np.int64), np.array(2, np.int64)) == [[2, 4, 6]]


def test_reshape_zero_copies_and_minus_one_infers() -> None:
    assert reshape_dims((2, 3, 4), (0, -1), allowzero=False) == (2, 12)
    assert reshape_dims((2, 3, 4), (-1, 0, 2, 2), allowzero=False) == (2, 3, 2, 2)
    assert reshape_dims((2, 0, 4), (0, 4), allowzero=True) == (0, 4)


def test_slice_with_negative_step_and_sentinels() -> None:
    x = np.arange(5, dtype=np.int64)
    int64_min, int64_max = -(2**63), 2**63 - 1
    assert _one("Slice", x, _i(int64_max), _i(int64_min), _i(0), _i(-1)) == [[4, 3, 2, 1, 0]]
    assert _one("Slice", x, _i(1), _i(-1)) == [[1, 2, 3]]


def test_shape_with_start_and_end() -> None:
    assert _one("Shape", np.zeros((2, 3, 4, 5)), start=1, end=-1) == [[3, 4]]


def test_unsqueeze_squeeze_concat_gather_chain() -> None:
    s = _i(2, 10, 64)
    (seq,) = _one("Gather", s, np.array(1, np.int64), axis=0)
    assert seq == 10
    assert _one("Unsqueeze", np.array(5, np.int64), _i(0)) == [[5]]
    assert _one("Squeeze", _i(7).reshape(1, 1), _i(0, 1)) == [7]
    assert _one("Concat", _i(0), _i(5), _i(2, 64), axis=0) == [[0, 5, 2, 64]]


def test_where_equal_constant_of_shape_expand() -> None:
    s = _i(2, -1, 3)
    (eq,) = _one("Equal", s, _i(-1))
    assert eq == [False, True, False]
    assert _one("Where", np.array(eq), _i(1), s) == [[2, 1, 3]]
    assert _one("ConstantOfShape", _i(2, 2), value=np.array([7], np.int64)) == [[[7, 7], [7, 7]]]
    assert _one("Expand", _i(1, 2), _i(2, 1, 1)) == [[[[1, 2]], [[1, 2]]]]


def test_cast_float_to_int_truncates() -> None:
    assert _one("Cast", np.array([2.7, -2.7], np.float32), to=7) == [[2, -2]]
    assert fold("Cast", [np.array([np.nan], np.float32)], {"to": 7}) is None


def test_reductions_and_variadic() -> None:
    assert _one("ReduceProd", _i(2, 3, 4), keepdims=0) == [24]
    assert _one("ReduceProd", _i(2, 3, 4).reshape(1, 3), _i(1), keepdims=1) == [[[24]]]
    assert _one("Max", _i(1, 5), _i(3, 2), _i(0, 9)) == [[3, 9]]


def test_huge_results_are_not_folded() -> None:
    assert fold("ConstantOfShape", [_i(1 << 20)], {}) is None


@given(
    dim=st.integers(0, 8),
    start=st.integers(-20, 20),
    end=st.integers(-20, 20),
    step=st.integers(-4, 4).filter(lambda s: s != 0),
)
def test_slice_bounds_agree_with_python_slicing(dim: int, start: int, end: int, step: int) -> None:
    """ONNX's clamping rules give the indices Python's slice does for in-range-ish values."""
    assert list(slice_bounds(dim, start, end, step)) == list(range(dim))[start:end:step]
