"""The rows of the aten -> ONNX table: the :class:`Row` type, argument helpers and the row
builders shared by the family modules (``_map_math``, ``_map_nn``, ``_map_data``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from edgeprof.frontends.pytorch._graph import AtenCall, Builder, TranslateError, TRef
from edgeprof.ir import dtype_by_name

Translate = Callable[[AtenCall, Builder], None]
Put = Callable[[str, "Row"], None]

I64 = dtype_by_name("int64")
BOOL = dtype_by_name("bool")


@dataclass(frozen=True)
class Row:
    """One aten op: the ONNX ops it becomes and the function that emits them."""

    emits: tuple[str, ...]
    build: Translate | None = None
    note: str = ""


# ---- helpers ------------------------------------------------------------------------------


def first_tensor(c: AtenCall) -> TRef:
    for v in c.args.values():
        if isinstance(v, TRef):
            return v
    raise TranslateError(f"{c.op}: no tensor argument")


def positional(c: AtenCall, i: int) -> Any:
    return list(c.args.values())[i]


def like_of(*xs: Any) -> TRef | None:
    return next((x for x in xs if isinstance(x, TRef)), None)


def norm_axis(d: int, rank: int) -> int:
    return d + rank if d < 0 and rank > 0 else d


def spatial(vals: Sequence[int], n: int, default: int) -> tuple[int, ...]:
    if not vals:
        return (default,) * n
    if len(vals) == 1:
        return (int(vals[0]),) * n
    return tuple(int(v) for v in vals)


def same_meta(x: TRef, out: TRef) -> bool:
    return x.shape == out.shape and x.dtype == out.dtype


# ---- row builders ----------------------------------------------------------------------


def unary(op: str, **attrs: Any) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        b.node(op, [b.use(first_tensor(c))], c.outs[:1], **attrs)

    return Row((op,), build)


def binary(op: str) -> Row:
    def build(c: AtenCall, b: Builder) -> None:
        x, y = positional(c, 0), positional(c, 1)
        like = like_of(x, y)
        b.node(op, [b.operand(x, like), b.operand(y, like)], c.outs[:1])

    return Row((op,), build)


def two_step(first: str, second: str, first_const: float | None = None, second_const: float | None = None,
             const_first: bool = False) -> Row:
    """``second(first(x [, k1]) [, k2])``: e.g. rsqrt = Reciprocal(Sqrt(x)), log1p = Log(Add(x, 1))."""

    def build(c: AtenCall, b: Builder) -> None:
        x = first_tensor(c)
        mid = b.tmp(x.shape, c.out().dtype if c.out().dtype.is_float else x.dtype)
        ins = [b.use(x)] if first_const is None else [b.use(x), b.const(first_const, x.dtype if x.dtype.is_float else mid.dtype)]
        b.node(first, ins, [mid])
        if second_const is None:
            ins2 = [mid.name]
        elif const_first:
            ins2 = [b.const(second_const, mid.dtype), mid.name]
        else:
            ins2 = [mid.name, b.const(second_const, mid.dtype)]
        b.node(second, ins2, c.outs[:1])

    return Row((first, second), build)


def data(op: str, build: Translate | None = None) -> Row:
    def default(c: AtenCall, b: Builder) -> None:
        b.node(op, [b.use(first_tensor(c))], c.outs)

    return Row((op,), build or default)


def ignore(note: str) -> Row:
    return Row((), None, note)




def scaled_operand(c: AtenCall, b: Builder, y: Any, like: TRef | None, factor: Any) -> str:
    """``factor * y`` as a Mul node (or the operand itself when factor is 1)."""
    if factor is None or factor == 1:
        return b.operand(y, like)
    if isinstance(y, TRef):
        tmp = b.tmp(y.shape, c.out().dtype)
        b.node("Mul", [b.use(y), b.operand(factor, y)], [tmp])
        return tmp.name
    return b.operand(y * factor, like)
