"""Closed-form tests of the linear family, including the seed's dot-product and FC examples."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.opcall import cost


@given(n=st.integers(1, 10_000))
def test_seed_dot_product_is_2n_minus_1_flops(n: int) -> None:
    c = cost("MatMul", [(1, n), (n, 1)], [(1, 1)])
    assert c.flops == 2 * n - 1
    assert c.macs == n


@pytest.mark.parametrize(("i", "j"), [(1, 1), (3, 5), (512, 1000), (2048, 1000)])
def test_seed_fc_without_bias_is_2i_minus_1_times_j(i: int, j: int) -> None:
    c = cost("Gemm", [(1, i), (i, j)], [(1, j)])
    assert c.flops == (2 * i - 1) * j
    assert c.macs == i * j


@pytest.mark.parametrize(("i", "j"), [(1, 1), (3, 5), (2048, 1000)])
def test_seed_fc_with_bias_is_2ij(i: int, j: int) -> None:
    c = cost("Gemm", [(1, i), (j, i), (j,)], [(1, j)], transB=1)
    assert c.flops == 2 * i * j
    assert c.macs == i * j


def test_gemm_trans_a_alpha_beta() -> None:
    # A is (K, M) with transA: M=4, K=6, N=5; alpha and beta both scale.
    c = cost("Gemm", [(6, 4), (6, 5), (4, 5)], [(4, 5)], transA=1, alpha=0.5, beta=2.0)
    assert c.macs == 4 * 5 * 6
    assert c.flops == 4 * 5 * (2 * 6 - 1) + 3 * 4 * 5


def test_batched_broadcast_matmul() -> None:
    # (2, 1, 3, 4) @ (5, 4, 7) -> (2, 5, 3, 7)
    c = cost("MatMul", [(2, 1, 3, 4), (5, 4, 7)], [(2, 5, 3, 7)])
    assert c.macs == 2 * 5 * 3 * 7 * 4
    assert c.flops == 2 * 5 * 3 * 7 * (2 * 4 - 1)
    assert c.category.value == "linear"
    assert c.bytes_read == 4 * (2 * 3 * 4 + 5 * 4 * 7)
    assert c.bytes_written == 4 * 2 * 5 * 3 * 7


def test_matmul_vector_operands() -> None:
    assert cost("MatMul", [(4,), (4, 3)], [(3,)]).macs == 12
    assert cost("MatMul", [(2, 3, 4), (4,)], [(2, 3)]).flops == 6 * 7


def test_int_matmul_counts_integer_ops_not_flops() -> None:
    c = cost("MatMul", [((2, 8), "int32"), ((8, 3), "int32")], [((2, 3), "int32")])
    assert c.flops == 0
    assert c.int_ops == 6 * 15
    assert c.precision == "int32"


def test_symbolic_dim_is_uncountable() -> None:
    from edgeprof.ops.registry import Uncountable

    with pytest.raises(Uncountable, match="batch"):
        cost("MatMul", [("batch", 4), (4, 3)], [("batch", 3)])
