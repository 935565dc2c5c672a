"""The op-cost registry: one entry per canonical op, in one of three states.

* **counted**: a formula, a pure function of an :class:`OpCall` (shapes, dtypes and
  attributes) returning :class:`Arith` (scalar ops and MACs);
* **zero**: pure data movement (Reshape, Transpose, Gather, ...): 0 FLOPs, but the bytes it
  reads and writes are counted;
* **not countable**: listed by name in every report with the reason (e.g. data-dependent
  output such as NonMaxSuppression). An op with no entry at all is *not counted* as well.

Register a formula with :func:`formula`, a data-movement op with :func:`data_movement` and
an op we cannot cost with :func:`not_countable`. A second registration of a name raises.

Adding an op is one place: its formula, registered with an ``example=`` (an :class:`Example`,
a sample call the registry's tests cost for every counted op). docs/ops.md is generated from the
registry (``scripts/gen_op_table.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

from edgeprof.errors import UsageError
from edgeprof.ir import AttrValue, DType, Shape, Value, dtype_by_name

__all__ = [
    "Arith",
    "Category",
    "Entry",
    "Example",
    "OpCall",
    "OpCost",
    "Uncountable",
    "ValueSpec",
    "check_user_op",
    "cost_of",
    "data_movement",
    "formula",
    "lookup",
    "not_countable",
    "register_user",
    "registered_ops",
    "subgraph_op",
    "unregister_user",
]


class Category(str, Enum):
    """The family an op's cost is reported under (the category shares in every report)."""

    LINEAR = "linear"
    CONV = "conv"
    ATTENTION = "attention"
    RECURRENT = "recurrent"
    ACTIVATION = "activation"
    NORMALISATION = "normalisation"
    POOLING = "pooling"
    ELEMENTWISE = "elementwise"
    REDUCTION = "reduction"
    RESIZE = "resize"
    QUANTISATION = "quantisation"
    DATA_MOVEMENT = "data_movement"
    CONTROL_FLOW = "control_flow"
    OTHER = "other"


FORMULA_FAILED = "the formula cannot cost this call"


class Uncountable(Exception):
    """Raised by a formula when this call cannot be costed (a symbolic dim, a missing shape,
    an attribute combination the formula does not know). The node is then *not counted*."""


@dataclass(frozen=True)
class OpCall:
    """Everything a formula may look at: the op, its input and output values (``None`` for an
    omitted optional input) and its attributes. Shapes are read through the helpers, which
    raise :class:`Uncountable` when a shape is not static."""

    op: str
    inputs: tuple[Value | None, ...]
    outputs: tuple[Value, ...]
    attrs: Mapping[str, AttrValue] = field(default_factory=dict)

    def has_input(self, i: int) -> bool:
        return i < len(self.inputs) and self.inputs[i] is not None

    def in_shape(self, i: int) -> tuple[int, ...]:
        if not self.has_input(i):
            raise Uncountable(f"{self.op}: input {i} is missing")
        return _static(self.inputs[i])  # type: ignore[arg-type]

    def out_shape(self, i: int = 0) -> tuple[int, ...]:
        if i >= len(self.outputs):
            raise Uncountable(f"{self.op}: output {i} is missing")
        return _static(self.outputs[i])

    def in_numel(self, i: int) -> int:
        if not self.has_input(i):
            raise Uncountable(f"{self.op}: input {i} is missing")
        return _static_shape(self.inputs[i]).numel()  # type: ignore[arg-type]

    def out_numel(self, i: int = 0) -> int:
        if i >= len(self.outputs):
            raise Uncountable(f"{self.op}: output {i} is missing")
        return _static_shape(self.outputs[i]).numel()

    def in_dtype(self, i: int) -> DType:
        v = self.inputs[i] if i < len(self.inputs) else None
        if v is None:
            raise Uncountable(f"{self.op}: input {i} is missing")
        return v.dtype

    def attr_int(self, name: str, default: int) -> int:
        v = self.attrs.get(name, default)
        if v is None:
            return default
        if not isinstance(v, (int, float)):
            raise Uncountable(f"{self.op}: attribute {name} is not a number")
        return _as_int(self.op, name, v)

    def attr_float(self, name: str, default: float) -> float:
        v = self.attrs.get(name, default)
        if not isinstance(v, (int, float)):
            raise Uncountable(f"{self.op}: attribute {name} is not a number")
        return float(v)

    def attr_ints(self, name: str, default: tuple[int, ...] | None = None) -> tuple[int, ...] | None:
        v = self.attrs.get(name, default)
        if v is None:
            return default
        if isinstance(v, (tuple, list)):
            numbers = [x for x in v if isinstance(x, (int, float))]
            if len(numbers) != len(v):
                raise Uncountable(f"{self.op}: attribute {name} is not a list of ints")
            return tuple(_as_int(self.op, name, x) for x in numbers)
        if isinstance(v, int):
            return (v,)
        raise Uncountable(f"{self.op}: attribute {name} is not a list of ints")

    def attr_str(self, name: str, default: str) -> str:
        v = self.attrs.get(name, default)
        if isinstance(v, bytes):
            return v.decode("utf-8", "replace")
        if not isinstance(v, str):
            raise Uncountable(f"{self.op}: attribute {name} is not a string")
        return v


def _as_int(op: str, name: str, v: int | float) -> int:
    """An int attribute's value; a float stands for its truncation, NaN and infinity for nothing."""
    if isinstance(v, float) and not math.isfinite(v):
        raise Uncountable(f"{op}: attribute {name} is {v}, not an integer")
    return int(v)


def _static_shape(v: Value) -> Shape:
    """``v``'s shape, known and static; :class:`Uncountable` otherwise."""
    shape = v.shape
    if shape is None:
        raise Uncountable(f"value {v.name!r} has no known shape")
    if not shape.is_static:
        raise Uncountable(f"value {v.name!r} has symbolic dims {', '.join(shape.symbols)}")
    return shape


def _static(v: Value) -> tuple[int, ...]:
    return _static_shape(v).static()


ValueSpec = tuple[int, ...] | tuple[tuple[int, ...], str] | Value | None
"""A value of an :class:`Example`: a shape (float32), a ``(shape, dtype name)`` pair, a
:class:`Value`, or ``None`` for an omitted optional input."""


@dataclass(frozen=True)
class Example:
    """A sample call of a formula, registered beside it (``@formula(..., example=Example(...))``):
    the shapes (and dtypes) of its inputs and outputs and its attributes. The registry's tests
    cost it for every op the formula is registered for. ``ops``/``macs``, when given, are the
    counts the formula's documented closed form gives for this call; ``ops=0`` marks a counted
    op that does no arithmetic on this call (otherwise its ops must be positive)."""

    inputs: tuple[ValueSpec, ...]
    outputs: tuple[ValueSpec, ...]
    attrs: Mapping[str, AttrValue] = field(default_factory=dict)
    ops: int | None = None
    macs: int | None = None

    def call(self, op: str) -> OpCall:
        """The :class:`OpCall` of ``op`` with this example's values and attributes."""
        inputs = tuple(_example_value(v, f"in{i}") for i, v in enumerate(self.inputs))
        outputs = tuple(
            v for v in (_example_value(x, f"out{i}") for i, x in enumerate(self.outputs)) if v is not None
        )
        return OpCall(op, inputs, outputs, self.attrs)


def _example_value(spec: ValueSpec, name: str) -> Value | None:
    if spec is None or isinstance(spec, Value):
        return spec
    if len(spec) == 2 and isinstance(spec[1], str) and isinstance(spec[0], (tuple, list)):
        return Value(name, dtype_by_name(spec[1]), Shape(tuple(spec[0])))
    return Value(name, dtype_by_name("float32"), Shape(tuple(spec)))


@dataclass(frozen=True)
class Arith:
    """What a formula returns: scalar ops and MACs for one call.

    ``ops`` counts scalar arithmetic; it is reported as FLOPs when ``precision`` is a float
    type and as integer OPs otherwise. ``precision`` defaults to the dtype of input 0.
    ``bytes_read``/``bytes_written`` default to the sizes of the inputs and outputs."""

    ops: int
    macs: int = 0
    precision: DType | None = None
    bytes_read: int | None = None
    bytes_written: int | None = None


@dataclass(frozen=True)
class OpCost:
    """The cost of one call: FLOPs (float ops), integer OPs, MACs, bytes, category, precision."""

    flops: int
    int_ops: int
    macs: int
    bytes_read: int
    bytes_written: int
    category: Category
    precision: str


State = Literal["counted", "zero", "not_countable", "subgraph"]
FormulaFn = Callable[[OpCall], Arith]


@dataclass(frozen=True)
class Entry:
    """One registered op.

    ``meta_inputs`` are inputs that carry shapes, axes or indices (never parameters);
    ``buffer_inputs`` carry running statistics (BatchNormalization's mean and variance);
    ``view`` ops alias their input (no copy); ``reason`` explains a zero or not-countable op;
    ``example`` is a counted op's sample call; ``origin`` says where a user's formula came from
    (``edgeprof.register_op``, an ``--ops-file``; empty for edgeprof's own)."""

    op: str
    state: State
    category: Category
    fn: FormulaFn | None = None
    reason: str = ""
    meta_inputs: frozenset[int] = frozenset()
    buffer_inputs: frozenset[int] = frozenset()
    view: bool = False
    doc: str = ""
    example: Example | None = None
    origin: str = ""


_REGISTRY: dict[str, Entry] = {}


def _add(entry: Entry) -> None:
    if entry.op in _REGISTRY:
        raise ValueError(f"op {entry.op!r} is registered twice")
    _REGISTRY[entry.op] = entry


def formula(
    *ops: str,
    category: Category,
    meta_inputs: Iterable[int] = (),
    buffer_inputs: Iterable[int] = (),
    example: Example | Mapping[str, Example] | None = None,
) -> Callable[[FormulaFn], FormulaFn]:
    """Register ``fn`` as the formula of each op in ``ops``. The first line of its docstring
    is the formula as printed in the docs' table; ``example`` is a sample call of it, one for
    every op or one per op name (every counted op needs one: the registry's tests cost it)."""

    def deco(fn: FormulaFn) -> FormulaFn:
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        if not doc:
            raise ValueError(f"formula for {ops} needs a one-line docstring stating the formula")
        for op in ops:
            ex = example.get(op) if isinstance(example, Mapping) else example
            _add(Entry(op, "counted", category, fn, "", frozenset(meta_inputs), frozenset(buffer_inputs), False, doc, ex))
        return fn

    return deco


def data_movement(
    *ops: str, reason: str = "moves or reshapes data only", view: bool = False, meta_inputs: Iterable[int] = ()
) -> None:
    """Register ops that cost 0 FLOPs; their bytes are still counted (0 for ``view`` ops,
    which alias their input)."""
    for op in ops:
        _add(Entry(op, "zero", Category.DATA_MOVEMENT, None, reason, frozenset(meta_inputs), frozenset(), view, reason))


def not_countable(*ops: str, reason: str, category: Category = Category.OTHER) -> None:
    """Register ops whose cost cannot be computed from shapes; they are always listed."""
    for op in ops:
        _add(Entry(op, "not_countable", category, None, reason, doc=reason))


def subgraph_op(*ops: str, reason: str) -> None:
    """Register control-flow ops (If, Loop, Scan) whose cost is that of their subgraphs; the
    count pass recurses into them."""
    for op in ops:
        _add(Entry(op, "subgraph", Category.CONTROL_FLOW, None, reason, doc=reason))


MAX_USER_OP_NAME = 512


def check_user_op(op: str, what: str) -> None:
    """Refuse a user formula for ``op`` when edgeprof has its own (:class:`UsageError`)."""
    if not isinstance(op, str) or not op.strip() or len(op) > MAX_USER_OP_NAME:
        raise UsageError(f"{what}: the op name must be a non-empty string of at most {MAX_USER_OP_NAME} characters, "
                         f"got {str(op)[:80]!r}")
    entry = _REGISTRY.get(op)
    if entry is not None and not entry.origin:
        raise UsageError(f"{what}: edgeprof already costs {op!r} ({entry.state}); a user formula is for an op it "
                         "does not know (a custom domain op, a TFLite custom op)")


def register_user(op: str, fn: FormulaFn, category: Category = Category.OTHER, doc: str = "", *,
                  origin: str) -> None:
    """Register a user's formula for ``op``, an op edgeprof does not cost itself (a second
    registration of the same op replaces the first). Whatever ``fn`` raises, or a result that is
    not an :class:`Arith`, makes the node not counted with the reason, never a crash."""
    check_user_op(op, origin)

    def guarded(call: OpCall) -> Arith:
        try:
            result = fn(call)
        except Uncountable:
            raise
        except Exception as exc:  # a user's function: anything it raises is this node's reason
            raise Uncountable(f"{op}: the formula from {origin} raised {type(exc).__name__}: {exc}") from None
        if not isinstance(result, Arith):
            raise Uncountable(f"{op}: the formula from {origin} returned {type(result).__name__}, not Arith")
        for name in ("ops", "macs"):
            v = getattr(result, name)
            if not isinstance(v, int) or isinstance(v, bool):
                raise Uncountable(f"{op}: the formula from {origin} gave {name} = {v!r}, not an integer")
        return result

    _REGISTRY[op] = Entry(op, "counted", category, guarded, "", doc=doc or f"a formula from {origin}", origin=origin)


def unregister_user(op: str) -> bool:
    """Remove a user's formula for ``op`` (edgeprof's own are never removed); whether one was."""
    entry = _REGISTRY.get(op)
    if entry is None or not entry.origin:
        return False
    del _REGISTRY[op]
    return True


def lookup(op: str) -> Entry | None:
    """The entry of ``op`` (every family is registered: the ``edgeprof.ops`` package imports them
    all before anything can call this)."""
    return _REGISTRY.get(op)


def registered_ops() -> Mapping[str, Entry]:
    return dict(_REGISTRY)


def io_bytes(call: OpCall) -> tuple[int, int]:
    """Bytes of the inputs present (read) and of the outputs (written)."""
    read = written = 0
    for v in call.inputs:
        if v is not None:
            read += _static_bytes(v)
    for v in call.outputs:
        written += _static_bytes(v)
    return read, written


def _static_bytes(v: Value) -> int:
    return v.dtype.nbytes_for(_static_shape(v).numel())


def cost_of(entry: Entry, call: OpCall) -> OpCost:
    """Cost one call with its entry. Raises :class:`Uncountable` for a not-countable entry or
    when the formula cannot cost this call."""
    if entry.state in ("not_countable", "subgraph"):
        raise Uncountable(entry.reason)
    if entry.state == "zero":
        if entry.view:
            read, written = 0, 0
        else:
            read, written = io_bytes(call)
        prec = call.outputs[0].dtype.name if call.outputs else "none"
        return OpCost(0, 0, 0, read, written, entry.category, prec)
    assert entry.fn is not None
    try:
        a = entry.fn(call)
    except (ArithmeticError, IndexError, KeyError, TypeError, ValueError) as exc:
        # A node no formula was written for (a malformed or hostile model): listed as not
        # counted, with the reason, never a crash. The hardening fuzzers treat it as a bug.
        raise Uncountable(f"{call.op}: {FORMULA_FAILED} ({type(exc).__name__}: {exc})") from None
    if a.ops < 0 or a.macs < 0:
        raise Uncountable(f"{call.op}: {FORMULA_FAILED} (a negative count: {a.ops} ops, {a.macs} MACs)")
    read, written = io_bytes(call) if a.bytes_read is None or a.bytes_written is None else (0, 0)
    if a.bytes_read is not None:
        read = a.bytes_read
    if a.bytes_written is not None:
        written = a.bytes_written
    precision = a.precision
    if precision is None:  # the first input present's dtype, else the first output's
        for v in call.inputs:
            if v is not None:
                precision = v.dtype
                break
        else:
            precision = call.outputs[0].dtype if call.outputs else None
    if precision is None:
        raise Uncountable(f"{call.op}: no input or output to take a precision from")
    if precision.is_float:
        flops, int_ops = a.ops, 0
    else:
        flops, int_ops = 0, a.ops
    return OpCost(flops, int_ops, a.macs, read, written, entry.category, precision.name)
