"""The torch frontend's graph builder: values, weights and nodes as the trace records them.

This module does not import torch: the tracer (``_trace``) turns every tensor into a
:class:`TRef` (an IR value name, its shape and dtype) and every aten call into an
:class:`AtenCall` (arguments by schema name); the mapping table (``_map``) turns each call
into ONNX-named IR nodes through a :class:`Builder`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from edgeprof.ir import AttrValue, DType, Graph, Node, Shape, Value, Weight, WeightRole, dtype_by_name


@dataclass(frozen=True)
class TRef:
    """A tensor as the graph sees it: the IR value name, its dims and its element type."""

    name: str
    shape: tuple[int | str, ...]
    dtype: DType

    @property
    def rank(self) -> int:
        return len(self.shape)

    def dims(self) -> tuple[int, ...]:
        """The dims as ints (a symbolic dim raises ValueError)."""
        out = []
        for d in self.shape:
            if not isinstance(d, int):
                raise ValueError(f"value {self.name!r} has a symbolic dim {d!r}")
            out.append(d)
        return tuple(out)


@dataclass(frozen=True)
class AtenCall:
    """One recorded aten call. ``args`` holds every schema argument by name (defaults filled
    in); tensors are :class:`TRef`, lists of tensors are lists of ``TRef | None``. ``outs`` are
    the output tensors (fresh SSA names, also for in-place ops)."""

    op: str  # the overload as torch names it: "aten.add.Tensor"
    packet: str  # "add"
    overload: str  # "Tensor"
    args: dict[str, Any]
    outs: tuple[TRef, ...]
    inplace: bool = False

    def get(self, name: str, default: Any = None) -> Any:
        v = self.args.get(name, default)
        return default if v is None else v

    def tensor(self, name: str) -> TRef:
        v = self.args.get(name)
        if not isinstance(v, TRef):
            raise TranslateError(f"{self.op}: argument {name!r} is not a tensor")
        return v

    def opt_tensor(self, name: str) -> TRef | None:
        v = self.args.get(name)
        return v if isinstance(v, TRef) else None

    def ints(self, name: str, default: Sequence[int] = ()) -> tuple[int, ...]:
        v = self.args.get(name)
        if v is None:
            return tuple(default)
        if isinstance(v, (list, tuple)):
            return tuple(int(x) for x in v)
        return (int(v),)

    def out(self, i: int = 0) -> TRef:
        return self.outs[i]


class TranslateError(Exception):
    """An aten call the table cannot translate (the node is then listed as not counted)."""


@dataclass
class _LazyTranspose:
    weight: str
    scope: str
    source_op: str
    ref: TRef
    done: bool = False


@dataclass
class Builder:
    """Collects the IR of one trace. ``scope``/``source_op`` are set by the tracer before each
    translation; nodes take them."""

    values: dict[str, Value] = field(default_factory=dict)
    weights: dict[str, Weight] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    scope: str = ""
    source_op: str = ""
    _consts: dict[tuple[str, str, str], str] = field(default_factory=dict)
    _lazy: dict[str, _LazyTranspose] = field(default_factory=dict)
    _node_names: dict[str, int] = field(default_factory=dict)
    _materialized: list[str] = field(default_factory=list)
    _derived: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _tmp: int = 0

    def checkpoint(self) -> tuple[int, int]:
        return len(self.nodes), len(self._materialized)

    def rollback(self, point: tuple[int, int]) -> None:
        """Drop the nodes emitted since ``point`` (a translation that failed half-way)."""
        del self.nodes[point[0]:]
        for name in self._materialized[point[1]:]:
            self._lazy[name].done = False
            self.values.pop(name, None)
        del self._materialized[point[1]:]

    # ---- values and weights ------------------------------------------------------------
    def add_value(self, ref: TRef) -> None:
        self.values[ref.name] = Value(ref.name, ref.dtype, Shape(ref.shape))

    def add_input(self, ref: TRef) -> None:
        self.add_value(ref)
        self.inputs.append(ref.name)

    def add_weight(
        self, ref: TRef, role: WeightRole, storage_key: str = "", values: tuple[float | int, ...] | None = None
    ) -> None:
        self.add_value(ref)
        self.weights[ref.name] = Weight(ref.name, ref.dtype, Shape(ref.shape), role, storage_key, values)

    def derive_weight(self, parts: Sequence[TRef], shape: Sequence[int]) -> str | None:
        """A stored tensor laid out from stored weights ``parts`` (torch's per-direction LSTM
        weights stacked into ONNX's [directions, ...] layout), read directly by the op that uses
        it, so that its parameters show on that op's row. One part keeps its storage key (the same
        storage, counted once); the parts of a stack are dropped from the graph at :meth:`build` if
        no node reads them. None when a part is not a stored weight (then emit the nodes)."""
        ws = [self.weights.get(p.name) for p in parts]
        if not parts or any(w is None for w in ws):
            return None
        first = ws[0]
        assert first is not None
        self._tmp += 1
        ref = TRef(f"%w{self._tmp}", tuple(shape), first.dtype)
        key = first.key if len(ws) == 1 else "+".join(w.key for w in ws if w is not None)
        self.add_weight(ref, first.role or "parameter", key)
        self._derived[ref.name] = tuple(p.name for p in parts)
        return ref.name

    def is_weight(self, ref: TRef) -> bool:
        return ref.name in self.weights

    def is_defined(self, name: str) -> bool:
        """Whether ``name`` has a value (or is a deferred transpose waiting for its first use)."""
        return name in self.values or name in self._lazy

    def tmp(self, shape: Sequence[int | str], dtype: DType) -> TRef:
        """A fresh intermediate value (between the nodes one aten call becomes)."""
        self._tmp += 1
        ref = TRef(f"%tmp{self._tmp}", tuple(shape), dtype)
        return ref

    def const(self, value: float | int | bool, dtype: DType) -> str:
        """A scalar constant operand (``x * 0.5``): a 0-d constant weight, shared by value."""
        key = (type(value).__name__, repr(value), dtype.name)
        name = self._consts.get(key)
        if name is None:
            name = f"%c{len(self._consts)}"
            self._consts[key] = name
            self.add_weight(TRef(name, (), dtype), "constant", values=(value,))
        return name

    def const_ints(self, values: Sequence[int]) -> str:
        """A 1-d int64 constant (shape operands, axes)."""
        vals = tuple(int(v) for v in values)
        key = ("ints", repr(vals), "int64")
        name = self._consts.get(key)
        if name is None:
            name = f"%c{len(self._consts)}"
            self._consts[key] = name
            self.add_weight(TRef(name, (len(vals),), dtype_by_name("int64")), "constant", values=vals)
        return name

    def operand(self, x: Any, like: TRef | None = None) -> str:
        """An input name for ``x``: a tensor's value, ``""`` for None, a constant for a scalar."""
        if x is None:
            return ""
        if isinstance(x, TRef):
            return self.use(x)
        if isinstance(x, (bool, int, float)):
            return self.const(x, scalar_dtype(x, like))
        raise TranslateError(f"operand of type {type(x).__name__} is not a tensor or a number")

    # ---- lazy transposes of 2-D weights (folded into Gemm as transB) ----------------
    def defer_transpose(self, weight: TRef, out: TRef) -> None:
        self._lazy[out.name] = _LazyTranspose(weight.name, self.scope, self.source_op, out)

    def transposed_weight(self, ref: TRef) -> str | None:
        """The 2-D weight ``ref`` is the deferred transpose of, if it is one."""
        lazy = self._lazy.get(ref.name)
        return lazy.weight if lazy is not None else None

    def use(self, ref: TRef) -> str:
        """The value name to read ``ref`` by; a deferred transpose is emitted on first use."""
        lazy = self._lazy.get(ref.name)
        if lazy is not None and not lazy.done:
            lazy.done = True
            self._materialized.append(ref.name)
            scope, source = self.scope, self.source_op
            self.scope, self.source_op = lazy.scope, lazy.source_op
            try:
                self.node("Transpose", [lazy.weight], [lazy.ref], perm=(1, 0))
            finally:
                self.scope, self.source_op = scope, source
        return ref.name

    # ---- nodes -------------------------------------------------------------------------
    def node(self, op: str, inputs: Sequence[str], outputs: Sequence[TRef], **attrs: AttrValue) -> None:
        for out in outputs:
            self.add_value(out)
        base = f"{self.scope}/{op}" if self.scope else op
        n = self._node_names.get(base, 0)
        self._node_names[base] = n + 1
        name = base if n == 0 else f"{base}_{n}"
        clean = {k: v for k, v in attrs.items() if v is not None}
        self.nodes.append(
            Node(name, op, tuple(inputs), tuple(o.name for o in outputs), clean, scope=self.scope,
                 source_op=self.source_op)
        )

    def build(self, name: str, outputs: Sequence[str]) -> Graph:
        # Weights no node reads still count (a module's unused parameters); keep them, except the
        # parts of a derived weight (counted in it). A part some node also reads stays, and the
        # derived tensor is then a separate constant (as an exporter's stacked initializer is).
        weights, values = dict(self.weights), dict(self.values)
        read = {i for n in self.nodes for i in n.inputs} | set(outputs)
        for derived, parts in self._derived.items():
            if derived not in read:  # its op was rolled back
                weights.pop(derived, None)
                values.pop(derived, None)
            elif len(parts) > 1 and any(p in read for p in parts):
                w = weights[derived]
                weights[derived] = Weight(w.name, w.dtype, w.shape, "constant", w.storage_key, w.values)
        for derived, parts in self._derived.items():
            if derived in read and weights[derived].role != "constant":
                for p in parts:
                    if p not in read and len(parts) > 1:
                        weights.pop(p, None)
                        values.pop(p, None)
        return Graph(name, tuple(self.nodes), tuple(self.inputs), tuple(outputs), values, weights)


def scalar_dtype(x: float | int | bool, like: TRef | None) -> DType:
    """The dtype a Python number takes next to the tensor ``like`` (torch's type promotion for
    a wrapped number: a float next to an int tensor is float32)."""
    if isinstance(x, bool):
        return like.dtype if like is not None and like.dtype.kind == "bool" else dtype_by_name("bool")
    if isinstance(x, int):
        return like.dtype if like is not None else dtype_by_name("int64")
    if like is not None and like.dtype.is_float:
        return like.dtype
    return dtype_by_name("float32")
