"""Build OpCalls for closed-form formula tests without a graph."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edgeprof.ir import DType, Shape, Value, dtype_by_name
from edgeprof.ops.registry import Example, OpCall, OpCost, cost_of, lookup

F32 = dtype_by_name("float32")


def val(shape: Sequence[int | str] | None, dtype: str | DType = "float32", name: str = "") -> Value:
    dt = dtype if isinstance(dtype, DType) else dtype_by_name(dtype)
    return Value(name or f"v{id(shape)}", dt, None if shape is None else Shape(tuple(shape)))


def make_call(op: str, ins: Sequence[Any], outs: Sequence[Any], **attrs: Any) -> OpCall:
    """``ins``/``outs`` hold shapes (tuples), ``(shape, dtype)`` pairs, Values or ``None``."""
    return Example(tuple(ins), tuple(outs), attrs).call(op)


def cost(op: str, ins: Sequence[Any], outs: Sequence[Any], **attrs: Any) -> OpCost:
    entry = lookup(op)
    assert entry is not None, f"{op} is not registered"
    return cost_of(entry, make_call(op, ins, outs, **attrs))
