"""The working ONNX model, with its resolved types, turned into the IR.

* every value gets a :class:`~edgeprof.ir.Value` (ints where known, the model's symbolic name
  where not, ``"?"`` for an unknown unnamed dim, shape None when even the rank is unknown);
* initializers, sparse initializers and Constant nodes (all ``value*`` forms) become
  :class:`~edgeprof.ir.Weight` s with role None; Constant nodes are dropped from the nodes;
* op names are ONNX's for the default domain and ``domain::Op`` otherwise;
* node names are unique across the model; an unnamed node is ``{op}_{index}``;
* control-flow facts (``branch``, ``trip_count``, ``trip_count_reason``) join the attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

import numpy as np

from edgeprof.frontends.common import dtype_of
from edgeprof.frontends.onnx._graphs import DEFAULT_DOMAINS, GraphSlot, NodeRec
from edgeprof.frontends.onnx._safety import ExternalData
from edgeprof.frontends.onnx._scope import node_scope
from edgeprof.frontends.onnx._shapes import ShapeEngine
from edgeprof.frontends.onnx._tensors import (
    SMALL_VALUES,
    array_values,
    as_text,
    constant_tensor,
    is_external,
    sparse_dense_array,
    tensor_array,
    tensor_dims,
)
from edgeprof.frontends.onnx_proto import AttributeProto, ModelProto, SparseTensorProto, TensorProto
from edgeprof.ir import AttrValue, Graph, Node, Shape, TensorConst, Value, Weight
from edgeprof.ir.dtype import UNKNOWN

UNKNOWN_DIM = "?"


@dataclass
class Converter:
    """Builds the IR graph of the working model (main graph weights from the user's model)."""

    engine: ShapeEngine
    main_initializers: list[TensorProto]
    main_sparse: list[SparseTensorProto]
    user_inputs: tuple[str, ...]
    input_shapes: dict[str, tuple[int, ...]]
    ext: ExternalData

    def build(self) -> Graph:
        self._names = _node_names(self.engine.slots)
        return self._graph("")

    # ---- graphs ----------------------------------------------------------------------------
    def _graph(self, path: str) -> Graph:
        slot = self.engine.slots[path]
        weights: dict[str, Weight] = {}
        if path == "":
            inits, sparse = self.main_initializers, self.main_sparse
        else:
            inits, sparse = list(slot.proto.initializer), list(slot.proto.sparse_initializer)
        for t in inits:
            weights[t.name] = self._weight(t, t.name, path)
        for s in sparse:
            weights[s.values.name] = self._sparse_weight(s, s.values.name, path)
        nodes: list[Node] = []
        for rec in slot.nodes:
            if rec.op_type == "Constant" and rec.domain in DEFAULT_DOMAINS and rec.outputs:
                weights[rec.outputs[0]] = self._constant_weight(rec, path)
                continue
            nodes.append(self._node(rec, path))
        inputs = self.user_inputs if path == "" else tuple(slot.input_names)
        values: dict[str, Value] = {}
        for name in inputs:
            values[name] = self._value(name, path)
        for w in weights.values():
            values[w.name] = Value(w.name, w.dtype, w.shape)
        for n in nodes:
            for o in n.outputs:
                if o:
                    values[o] = self._value(o, path)
        return Graph(slot.proto.name or ("main" if path == "" else path), tuple(nodes), tuple(inputs),
                     tuple(slot.output_names), values, weights)

    # ---- values and weights ----------------------------------------------------------------
    def _value(self, name: str, path: str) -> Value:
        if path == "" and name in self.input_shapes:
            t = self.engine.type_of(name, path)
            dtype = dtype_of(t.elem) if t is not None else UNKNOWN
            return Value(name, dtype, Shape(self.input_shapes[name]))
        t = self.engine.type_of(name, path)
        if t is None:
            return Value(name, UNKNOWN, None)
        shape = None if t.dims is None else Shape(tuple(UNKNOWN_DIM if d is None else d for d in t.dims))
        return Value(name, dtype_of(t.elem), shape)

    def _small_values(self, name: str, path: str, numel: int) -> tuple[float | int, ...] | None:
        if numel > SMALL_VALUES:
            return None
        arr = self.engine.consts[path].get(name)
        return array_values(arr) if arr is not None else None

    def _weight(self, t: TensorProto, name: str, path: str) -> Weight:
        dims = tensor_dims(t)
        ref = self.ext.ref(t) if is_external(t) else None
        return Weight(
            name,
            dtype_of(t.data_type),
            Shape(dims),
            role=None,
            storage_key=ref.storage_key if ref is not None else "",
            values=self._small_values(name, path, prod(dims)),
            external=is_external(t),
        )

    def _sparse_weight(self, s: SparseTensorProto, name: str, path: str) -> Weight:
        dims = tuple(int(d) for d in s.dims)
        values = self._small_values(name, path, prod(dims))
        if values is None and prod(dims) <= SMALL_VALUES:
            try:
                arr = sparse_dense_array(s)
            except (ValueError, TypeError, IndexError):
                arr = None
            values = array_values(arr) if arr is not None else None
        return Weight(name, dtype_of(s.values.data_type), Shape(dims), role=None, values=values,
                      external=is_external(s.values) or is_external(s.indices))

    def _constant_weight(self, rec: NodeRec, path: str) -> Weight:
        name = rec.outputs[0]
        tensor = constant_tensor(rec.proto)
        if isinstance(tensor, SparseTensorProto):
            return self._sparse_weight(tensor, name, path)
        return self._weight(tensor, name, path)

    # ---- nodes -----------------------------------------------------------------------------
    def _node(self, rec: NodeRec, path: str) -> Node:
        attrs: dict[str, AttrValue] = {}
        for a in rec.proto.attribute:
            if a.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS):
                continue
            converted = _attr_value(a)
            if converted is not _SKIP:
                attrs[a.name] = converted  # type: ignore[assignment]
        attrs.update(self.engine.facts.get((path, rec.pos), {}))
        subgraphs = {key: self._graph(cp) for key, cp in rec.subgraphs}
        op = rec.op_type if rec.domain in DEFAULT_DOMAINS else f"{rec.domain}::{rec.op_type}"
        if op in _COERCE_2D_BEFORE_13 and self.engine.opset < 13:
            # Before opset 13 these ops flatten the input to 2-D at `axis` (default 1): each row
            # is every dim from `axis` on. The canonical op states it explicitly.
            attrs.setdefault("axis", 1)
            attrs["coerce_2d"] = 1
        return Node(
            self._names[(path, rec.pos)], op, rec.inputs, rec.outputs, attrs, subgraphs,
            scope=node_scope(rec.proto), source_op=rec.op_type,
        )


_SKIP = object()
_COERCE_2D_BEFORE_13 = frozenset({"Softmax", "LogSoftmax", "Hardmax"})


def _f32(x: float) -> float:
    """An ONNX float attribute as the shortest decimal that round-trips in float32 (1e-05,
    not 9.99999974737875e-06)."""
    return float(str(np.float32(x)))


def _attr_value(a: AttributeProto) -> AttrValue | object:
    if a.type == AttributeProto.INT:
        return int(a.i)
    if a.type == AttributeProto.FLOAT:
        return _f32(a.f)
    if a.type == AttributeProto.STRING:
        return a.s.decode("utf-8", "replace")
    if a.type == AttributeProto.INTS:
        return tuple(int(v) for v in a.ints)
    if a.type == AttributeProto.FLOATS:
        return tuple(_f32(v) for v in a.floats)
    if a.type == AttributeProto.STRINGS:
        return tuple(s.decode("utf-8", "replace") for s in a.strings)
    if a.type == AttributeProto.TENSOR:
        return _tensor_const(a.t)
    if a.type == AttributeProto.SPARSE_TENSOR:
        dims = tuple(int(d) for d in a.sparse_tensor.dims)
        return TensorConst(dtype_of(a.sparse_tensor.values.data_type), Shape(dims), None)
    return _SKIP


def _tensor_const(t: TensorProto) -> TensorConst:
    try:
        dims = tensor_dims(t)
    except ValueError:
        return TensorConst(dtype_of(t.data_type), Shape(()), None)
    values = None
    if prod(dims) <= SMALL_VALUES and not is_external(t) and t.data_type != TensorProto.STRING:
        try:
            values = array_values(tensor_array(t))
        except (ValueError, TypeError):
            values = None
    return TensorConst(dtype_of(t.data_type), Shape(dims), values)


def _node_names(slots: dict[str, GraphSlot]) -> dict[tuple[str, int], str]:
    """Unique names across the model: a node keeps its own name when it is the first to use it;
    unnamed or repeated names become ``{op}_{index}`` (with a suffix if that is taken too)."""
    names: dict[tuple[str, int], str] = {}
    used: set[str] = set()
    pending: list[tuple[str, NodeRec]] = []
    for path, slot in slots.items():
        for rec in slot.nodes:
            if rec.op_type == "Constant" and rec.domain in DEFAULT_DOMAINS:
                continue
            name = rec.proto.name
            if name and name not in used:
                used.add(name)
                names[(path, rec.pos)] = name
            else:
                pending.append((path, rec))
    for path, rec in pending:
        base = f"{rec.op_type}_{rec.pos}" if not rec.proto.name else rec.proto.name
        name = base
        k = 1
        while name in used:
            name = f"{base}_{k}"
            k += 1
        used.add(name)
        names[(path, rec.pos)] = name
    return names


def producer_string(model: ModelProto) -> str:
    return " ".join(as_text(p) for p in (model.producer_name, model.producer_version) if p)


def opset_string(model: ModelProto) -> str:
    """``ai.onnx:17, com.microsoft:1`` (the default domain first, the others sorted)."""
    default = [o.version for o in model.opset_import if o.domain in DEFAULT_DOMAINS]
    parts = [f"ai.onnx:{default[0]}"] if default else []
    parts.extend(f"{as_text(o.domain)}:{o.version}" for o in sorted(model.opset_import, key=lambda o: o.domain)
                 if o.domain not in DEFAULT_DOMAINS)
    return ", ".join(parts)
