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


# --- Einsum ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("equation", "ins", "out", "flops", "macs"),
    [
        # (3,4)x(4,5): 15 outputs, sums of 4 products: 15·(2·4-1) = 105 FLOPs, 60 MACs
        ("ij,jk->ik", [(3, 4), (4, 5)], (3, 5), 105, 60),
        ("ij, jk -> ik", [(3, 4), (4, 5)], (3, 5), 105, 60),  # spaces are allowed
        ("ij,jk", [(3, 4), (4, 5)], (3, 5), 105, 60),  # implicit: labels seen once, sorted -> "ik"
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)], (2, 3, 5), 30 * 7, 30 * 4),
        ("ij->ji", [(3, 4)], (4, 3), 0, 0),  # a transpose is free
        ("ii->i", [(5, 5)], (5,), 0, 0),  # a diagonal is free
        ("ii->", [(5, 5)], (), 4, 0),  # a trace: 4 adds
        ("ii", [(5, 5)], (), 4, 0),  # implicit trace: "i" is seen twice, output is a scalar
        ("ij->i", [(3, 4)], (3,), 3 * 3, 0),  # row sums: 3 rows of 3 adds
        ("ij,ij->ij", [(3, 4), (3, 4)], (3, 4), 12, 12),  # elementwise product: k = 1
        ("i,j->ij", [(3,), (4,)], (3, 4), 12, 12),  # outer product
        # ellipsis broadcast (2,3) with (3): 2·3·4·6 = 144 outputs of length-5 sums
        ("...ij,...jk->...ik", [(2, 3, 4, 5), (3, 5, 6)], (2, 3, 4, 6), 144 * 9, 144 * 5),
        ("...ij,...jk", [(2, 3, 4, 5), (3, 5, 6)], (2, 3, 4, 6), 144 * 9, 144 * 5),  # implicit keeps "..."
        # explicit output without "...": the ellipsis dims are summed too: k = 4·2·3 = 24
        ("...i,...i->", [(2, 3, 4), (2, 3, 4)], (), 47, 24),
        # three operands: 10 outputs, k = 3·4 = 12 terms of 2 multiplies, 11 adds: 10·(3·12-1)
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)], (2, 5), 350, 120),
        ("Ab,bc", [(2, 3), (3, 4)], (2, 4), 8 * 5, 8 * 3),  # upper case sorts first: "Ac"
    ],
)
def test_einsum_closed_form(equation: str, ins: list[tuple[int, ...]], out: tuple[int, ...], flops: int, macs: int) -> None:
    c = cost("Einsum", ins, [out], equation=equation)
    assert (c.flops, c.macs) == (flops, macs)
    assert c.category.value == "linear"


@given(m=st.integers(1, 40), k=st.integers(1, 40), n=st.integers(1, 40), batch=st.integers(1, 4))
def test_einsum_matmul_equals_matmul(m: int, k: int, n: int, batch: int) -> None:
    e = cost("Einsum", [(batch, m, k), (batch, k, n)], [(batch, m, n)], equation="bij,bjk->bik")
    mm = cost("MatMul", [(batch, m, k), (batch, k, n)], [(batch, m, n)])
    assert (e.flops, e.macs) == (mm.flops, mm.macs) == (batch * m * n * (2 * k - 1), batch * m * n * k)
    e2 = cost("Einsum", [(m, k), (k, n)], [(m, n)], equation="ij,jk->ik")
    assert (e2.flops, e2.macs) == (m * n * (2 * k - 1), m * n * k)


@pytest.mark.parametrize(
    ("equation", "ins", "out", "match"),
    [
        ("ij,jk->ik", [(3, 4)], (3, 5), "terms"),
        ("ij,jk->ik", [(3, 4), (5, 6)], (3, 6), "sizes"),
        ("ij->ik", [(3, 4)], (3, 4), "not in any input"),
        ("ij,jk->ik", [(3, 4), (4, 5)], (3, 6), "output has"),
        ("ijk->i", [(3, 4)], (3,), "does not fit"),
        ("i1->i", [(3, 4)], (3,), "cannot parse"),
    ],
)
def test_einsum_bad_equations_are_uncountable(
    equation: str, ins: list[tuple[int, ...]], out: tuple[int, ...], match: str
) -> None:
    from edgeprof.ops.registry import Uncountable

    with pytest.raises(Uncountable, match=match):
        cost("Einsum", ins, [out], equation=equation)


# --- quantised matmuls ----------------------------------------------------------------------


def test_matmul_integer_counts_int_ops_and_zero_points() -> None:
    # (2,8)x(8,3): 6 dot products of 8 = 6·15 = 90 int ops, 48 MACs;
    # a_zero_point present: 16 subtracts; b_zero_point present: 24 subtracts.
    a, b, y = ((2, 8), "uint8"), ((8, 3), "uint8"), ((2, 3), "int32")
    c = cost("MatMulInteger", [a, b, ((), "uint8"), ((3,), "uint8")], [y])
    assert (c.flops, c.int_ops, c.macs, c.precision) == (0, 90 + 16 + 24, 48, "uint8")
    assert cost("MatMulInteger", [a, b], [y]).int_ops == 90
    assert cost("MatMulInteger", [a, b, None, ((3,), "uint8")], [y]).int_ops == 90 + 24


def test_qlinear_matmul_adds_zero_points_and_requantisation() -> None:
    # 90 (core) + 16 + 24 (zero points) + 4·6 (requantise each output) = 154 int8 ops, 48 MACs
    f, i8 = "float32", "int8"
    ins = [((2, 8), i8), ((), f), ((), i8), ((8, 3), i8), ((3,), f), ((3,), i8), ((), f), ((), i8)]
    c = cost("QLinearMatMul", ins, [((2, 3), i8)])
    assert (c.flops, c.int_ops, c.macs, c.precision) == (0, 154, 48, "int8")
