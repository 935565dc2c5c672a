"""Op family: linear layers (MatMul, Gemm, Einsum and the quantised MatMulInteger/QLinearMatMul).
The dot-product and fully-connected examples of docs/counting.md live here.

A dot product of two length-n vectors is n multiplies and n-1 adds: 2n-1 FLOPs, n MACs.

Quantised ops are counted at the precision of their integer input (``Arith.precision`` defaults
to input 0), so their arithmetic is reported as integer OPs, never as FLOPs:

* zero points: one subtract per element of each operand whose zero-point input is present
  (hoisted out of the dot products; the zero point's value is not visible to a shape count);
* the core: the same dot products (and MACs) as the float op;
* requantisation (QLinear* only): :data:`~edgeprof.ops.primitives.REQUANT_OPS` per output element.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from math import prod

from edgeprof.ops.primitives import REQUANT_OPS, dot_products
from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, formula


def matmul_dot_products(call: OpCall, a_index: int = 0, b_index: int = 1) -> Arith:
    """The dot products of a numpy-semantics matmul of inputs ``a_index`` and ``b_index``:
    numel(Y) dot products of length K. The attributes ``adj_x``/``adj_y`` (TFLite's
    BATCH_MATMUL) say an operand's last two dims are stored transposed."""
    a, b = call.in_shape(a_index), call.in_shape(b_index)
    if not a or not b:
        raise Uncountable(f"{call.op} of a scalar")
    if call.attr_int("adj_x", 0) and len(a) >= 2:
        a = (*a[:-2], a[-1], a[-2])
    if call.attr_int("adj_y", 0) and len(b) >= 2:
        b = (*b[:-2], b[-1], b[-2])
    k = a[-1]
    if (b[-2] if len(b) >= 2 else b[0]) != k:
        raise Uncountable(f"{call.op} inner dims differ: {a} x {b}")
    return dot_products(call.out_numel(), k)


@formula(
    "MatMul", category=Category.LINEAR,
    example=Example(((2, 1, 3, 4), (5, 4, 7)), ((2, 5, 3, 7),), ops=1470, macs=840),
)
def matmul(call: OpCall) -> Arith:
    """numel(Y)·(2K-1) FLOPs, numel(Y)·K MACs; batch dims broadcast (numpy matmul semantics)."""
    return matmul_dot_products(call)


@formula(
    "Gemm", category=Category.LINEAR,
    example=Example(((6, 4), (6, 5), (4, 5)), ((4, 5),), {"transA": 1, "alpha": 0.5, "beta": 2.0}, ops=280, macs=120),
)
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


def zero_point_ops(call: OpCall, *pairs: tuple[int, int]) -> int:
    """One subtract per element of each operand whose zero-point input is present; ``pairs``
    holds (operand index, zero-point index)."""
    return sum(call.in_numel(operand) for operand, zp in pairs if call.has_input(zp))


@formula(
    "MatMulInteger", category=Category.LINEAR,
    example=Example(
        (((2, 8), "uint8"), ((8, 3), "uint8"), ((), "uint8"), ((3,), "uint8")), (((2, 3), "int32"),), ops=130, macs=48,
    ),
)
def matmul_integer(call: OpCall) -> Arith:
    """Integer OPs: numel(Y)·(2K-1) + numel(A) if a_zero_point + numel(B) if b_zero_point; numel(Y)·K MACs."""
    core = matmul_dot_products(call, 0, 1)
    return Arith(ops=core.ops + zero_point_ops(call, (0, 2), (1, 3)), macs=core.macs)


@formula(
    "QLinearMatMul", category=Category.LINEAR,
    example=Example(
        (((2, 8), "int8"), ((), "float32"), ((), "int8"), ((8, 3), "int8"), ((3,), "float32"), ((3,), "int8"), ((), "float32"), ((), "int8")), (((2, 3), "int8"),), ops=154, macs=48,
    ),
)
def qlinear_matmul(call: OpCall) -> Arith:
    """Integer OPs: numel(Y)·(2K-1) + numel(a) + numel(b) (zero points) + 4·numel(Y) (requantise); numel(Y)·K MACs."""
    core = matmul_dot_products(call, 0, 3)
    ops = core.ops + zero_point_ops(call, (0, 2), (3, 5)) + REQUANT_OPS * call.out_numel()
    return Arith(ops=ops, macs=core.macs)


# --- Einsum -------------------------------------------------------------------------------

_ELLIPSIS = "."  # "..." is folded to one marker character while parsing


@dataclass(frozen=True)
class EinsumSizes:
    """An einsum equation resolved against its operand shapes."""

    operands: int
    output_numel: int
    contracted: int  # product of the summed-over dims: the length of each output's sum


def _einsum_term(term: str, eq: str) -> str:
    folded = term.replace("...", _ELLIPSIS)
    if folded.count(_ELLIPSIS) > 1 or not re.fullmatch(r"[A-Za-z.]*", folded):
        raise Uncountable(f"Einsum: cannot parse term {term!r} of {eq!r}")
    return folded


def _merge_dim(sizes: dict[str, int], label: str, dim: int, eq: str) -> None:
    old = sizes.get(label)
    if old is None or old == 1:
        sizes[label] = dim
    elif dim not in (1, old):
        raise Uncountable(f"Einsum {eq!r}: label {label!r} has sizes {old} and {dim}")


def _broadcast(a: tuple[int, ...], b: tuple[int, ...], eq: str) -> tuple[int, ...]:
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + a
    b = (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b, strict=True):
        if x != y and 1 not in (x, y):
            raise Uncountable(f"Einsum {eq!r}: ellipsis dims {a} and {b} do not broadcast")
        out.append(y if x == 1 else x)
    return tuple(out)


def einsum_sizes(equation: str, shapes: list[tuple[int, ...]]) -> EinsumSizes:
    """Resolve ``equation`` (explicit ``->`` or implicit form, with ``...``) against ``shapes``."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = [_einsum_term(t, equation) for t in lhs.split(",")]
    if len(terms) != len(shapes):
        raise Uncountable(f"Einsum {equation!r} has {len(terms)} terms for {len(shapes)} inputs")
    sizes: dict[str, int] = {}
    ellipsis: tuple[int, ...] | None = None
    occurrences: dict[str, int] = {}
    for term, shape in zip(terms, shapes, strict=True):
        labels = term.replace(_ELLIPSIS, "")
        ell_rank = len(shape) - len(labels)
        if ell_rank < 0 or (ell_rank > 0 and _ELLIPSIS not in term):
            raise Uncountable(f"Einsum {equation!r}: term {term!r} does not fit shape {shape}")
        dims = list(shape)
        for ch in term:
            if ch == _ELLIPSIS:
                ell = tuple(dims[:ell_rank])
                dims = dims[ell_rank:]
                ellipsis = ell if ellipsis is None else _broadcast(ellipsis, ell, equation)
            else:
                _merge_dim(sizes, ch, dims.pop(0), equation)
                occurrences[ch] = occurrences.get(ch, 0) + 1
    if arrow:
        out_term = _einsum_term(rhs, equation)
        out_labels = out_term.replace(_ELLIPSIS, "")
        ellipsis_in_output = _ELLIPSIS in out_term
        unknown = set(out_labels) - set(sizes)
        if unknown:
            raise Uncountable(f"Einsum {equation!r}: output labels {sorted(unknown)} are not in any input")
    else:
        out_labels = "".join(sorted(ch for ch, n in occurrences.items() if n == 1))
        ellipsis_in_output = True
    ell_numel = prod(ellipsis) if ellipsis is not None else 1
    output_numel = prod(sizes[ch] for ch in out_labels) * (ell_numel if ellipsis_in_output else 1)
    contracted = prod(size for ch, size in sizes.items() if ch not in out_labels)
    if not ellipsis_in_output:
        contracted *= ell_numel
    return EinsumSizes(len(shapes), output_numel, contracted)


@formula(
    "Einsum", category=Category.LINEAR,
    example=Example(((3, 4), (4, 5)), ((3, 5),), {"equation": "ij,jk->ik"}, ops=105, macs=60),
)
def einsum(call: OpCall) -> Arith:
    """Per output element, a sum over k = product of the summed dims of n-operand products: n·k-1 ops, k MACs (n≥2); k-1 adds, 0 MACs (n=1)."""
    equation = call.attr_str("equation", "")
    if not equation:
        raise Uncountable("Einsum has no equation")
    shapes = [call.in_shape(i) for i in range(len(call.inputs))]
    sizes = einsum_sizes(equation, shapes)
    if call.outputs and call.outputs[0].is_static and call.out_numel() != sizes.output_numel:
        raise Uncountable(f"Einsum {equation!r}: output has {call.out_numel()} elements, equation gives {sizes.output_numel}")
    out, k, n = sizes.output_numel, sizes.contracted, sizes.operands
    if k == 0 or out == 0:
        return Arith(ops=0, macs=0)
    if n == 1:
        return Arith(ops=out * (k - 1), macs=0)
    return Arith(ops=out * (n * k - 1), macs=out * k)
