"""Op family: linear layers (MatMul, Gemm). The seed's dot product and FC examples live here.

A dot product of two length-n vectors is n multiplies and n-1 adds: 2n-1 FLOPs, n MACs.
"""

from __future__ import annotations

from math import prod

from edgeprof.ops.registry import Arith, Category, OpCall, Uncountable, formula


def dot_products(count: int, length: int) -> Arith:
    """``count`` dot products of length ``length``: (2·length-1)·count FLOPs, length·count MACs."""
    if length == 0:
        return Arith(ops=0, macs=0)
    return Arith(ops=(2 * length - 1) * count, macs=length * count)


@formula("MatMul", category=Category.LINEAR)
def matmul(call: OpCall) -> Arith:
    """numel(Y)·(2K-1) FLOPs, numel(Y)·K MACs; batch dims broadcast (numpy matmul semantics)."""
    a, b = call.in_shape(0), call.in_shape(1)
    if not a or not b:
        raise Uncountable("MatMul of a scalar")
    k = a[-1]
    if (b[-2] if len(b) >= 2 else b[0]) != k:
        raise Uncountable(f"MatMul inner dims differ: {a} x {b}")
    return dot_products(call.out_numel(), k)


@formula("Gemm", category=Category.LINEAR)
def gemm(call: OpCall) -> Arith:
    """Y = alpha·op(A)·op(B) + beta·C: M·N·(2K-1) FLOPs, +M·N for alpha≠1, +M·N for C, +M·N for beta≠1 (with C)."""
    a = call.in_shape(0)
    if len(a) != 2:
        raise Uncountable(f"Gemm A must be 2-D, got {a}")
    k = a[0] if call.attr_int("transA", 0) else a[1]
    m, n = call.out_shape()
    arith = dot_products(m * n, k)
    extra = 0
    if call.attr_float("alpha", 1.0) != 1.0:
        extra += m * n
    if call.has_input(2) and prod(call.in_shape(2)) > 0:
        extra += m * n  # + C
        if call.attr_float("beta", 1.0) != 1.0:
            extra += m * n  # beta · C
    return Arith(ops=arith.ops + extra, macs=arith.macs)
