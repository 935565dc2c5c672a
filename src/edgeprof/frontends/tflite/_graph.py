"""Assembling the IR graph of one TFLite subgraph: names, values, weights and nodes.

* tensor names are the file's, made unique (``name#index`` for a repeat, ``t{index}`` for an
  unnamed tensor); a subgraph other than the main one prefixes its own name (``body/x``);
* a tensor with data (an inline or offset buffer) is a :class:`~edgeprof.ir.Weight` whose
  storage key is its buffer (``buffer:N``): tensors that share a buffer are one stored tensor,
  counted once; its size must match the buffer's; a variable tensor (recurrent state) is a
  ``buffer``-role weight;
* quantisation parameters that a quantised canonical op reads as inputs (QLinearConv's scales
  and zero points, ...) become small ``constant`` weights ``<tensor>::scale`` and
  ``<tensor>::zero_point``: they are stored in the file too;
* a sparse tensor's buffer holds its non-zero values only: its weight has the dense shape (what
  the ops read once it is densified) and ``stored`` = the values in the buffer;
* weights expanded at load (:meth:`GraphBuilder._expand_at_load`): a DEQUANTIZE (float16 or int8
  -> float32) or DENSIFY (sparse -> dense) of a constant runs once, when the interpreter prepares
  the model, not per inference. Such an operator emits no node: its output is the stored weight
  itself (same storage key, dtype and stored size), so the layer that reads it holds its
  parameters and the expansion costs no per-inference FLOPs; a notice says how many there were;
* the op mapping (:mod:`~edgeprof.frontends.tflite._ops`) emits nodes through :class:`GraphBuilder`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from edgeprof.errors import GraphError
from edgeprof.frontends.tflite._read import TfModel, TfOperator, TfSubgraph, TfTensor
from edgeprof.ir import AttrValue, Graph, Node, Shape, Value, Weight, WeightRole
from edgeprof.ir import dtype as dt

if TYPE_CHECKING:
    from edgeprof.frontends.tflite._shapes import ShapePlan

SMALL_VALUES = 4096
_UNPACK = {"float32": "f", "float64": "d", "int32": "i", "int64": "q", "int16": "h", "int8": "b", "uint8": "B",
           "bool": "?", "uint16": "H", "uint32": "I", "uint64": "Q"}
Mapper = Callable[["GraphBuilder", TfOperator], None]


@dataclass
class ModelContext:
    """What every subgraph's builder shares: the model, the shape plan, the op mapper, the
    subgraphs already built (by index) and the chain of subgraphs being built (cycle check)."""

    model: TfModel
    plan: ShapePlan
    mapper: Mapper
    label: str
    built: dict[int, Graph] = field(default_factory=dict)
    building: list[int] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    node_names: set[str] = field(default_factory=set)
    expanded_at_load: dict[str, int] = field(default_factory=dict)  # DEQUANTIZE / DENSIFY of constants

    def subgraph(self, index: int, caller: str) -> Graph:
        """The IR graph of subgraph ``index`` (built once; a subgraph that calls itself is an error)."""
        if not 0 < index < len(self.model.subgraphs):
            raise GraphError(f"{self.label}: {caller} calls subgraph {index}; the model has subgraphs 0..{len(self.model.subgraphs) - 1} (0 is the main graph)")
        if index in self.building:
            raise GraphError(f"{self.label}: subgraph {index} calls itself (through {caller}); recursion cannot be costed")
        if index not in self.built:
            self.building.append(index)
            self.built[index] = GraphBuilder(self, self.model.subgraphs[index]).build()
            self.building.pop()
        return self.built[index]


class GraphBuilder:
    """Builds one subgraph; the op mapper calls :meth:`node`, :meth:`temp` and the helpers."""

    def __init__(self, ctx: ModelContext, sg: TfSubgraph) -> None:
        self.ctx = ctx
        self.sg = sg
        self.nodes: list[Node] = []
        self.values: dict[str, Value] = {}
        self.weights: dict[str, Weight] = {}
        self.names = tensor_names(sg)
        self.producers = {o for op in sg.operators for o in op.outputs}

    # ---- the whole subgraph ------------------------------------------------------------------
    def build(self) -> Graph:
        sg = self.sg
        inputs = set(sg.inputs)
        for t in sg.tensors:
            self.values[self.names[t.index]] = Value(self.names[t.index], t.dtype, self.ctx.plan.shape(t, sg.index))
            if t.index not in inputs and t.index not in self.producers:
                self._maybe_weight(t)
        at_load = self._expand_at_load()
        for op in sg.operators:
            if op.index not in at_load:
                self.ctx.mapper(self, op)
        name = sg.name or ("main" if sg.index == 0 else f"subgraph{sg.index}")
        return Graph(name, tuple(self.nodes), tuple(self.names[i] for i in sg.inputs),
                     tuple(self.names[i] for i in sg.outputs), self.values, self.weights)

    def _maybe_weight(self, t: TfTensor) -> None:
        buf = self.ctx.model.buffers[t.buffer] if t.buffer < len(self.ctx.model.buffers) else None
        name = self.names[t.index]
        if buf is not None and buf.nbytes == 0 and t.buffer > 0 and t.shape is not None and 0 in t.shape \
                and not t.is_variable:
            # a constant with no elements (RESHAPE's shape [] as a tensor of shape [0]: reshape to a
            # scalar) needs no data: it is defined, and empty
            self.weights[name] = Weight(name, t.dtype, Shape(t.shape), role="constant",
                                        storage_key=f"buffer:{t.buffer}", values=())
            return
        if buf is None or buf.nbytes == 0:
            if t.is_variable and t.shape is not None:
                self.weights[name] = Weight(name, t.dtype, Shape(t.shape), role="buffer",
                                            storage_key=f"variable:{self.sg.index}:{t.index}")
            return
        if t.shape is None:
            raise GraphError(f"{self.ctx.label}: tensor {name!r} holds data but has no shape")
        shape = Shape(t.shape)
        expected = t.dtype.nbytes_for(shape.numel())
        stored = buf.nbytes * 8 // t.dtype.bits if t.sparse and t.dtype.bits else None
        if stored is not None and stored > shape.numel():
            raise GraphError(f"{self.ctx.label}: sparse tensor {name!r} ({t.dtype} {shape}) stores {stored} values, "
                             f"more than its {shape.numel()} elements")
        if not t.sparse and t.dtype.bits and buf.nbytes != expected:
            raise GraphError(
                f"{self.ctx.label}: tensor {name!r} ({t.dtype} {shape}) needs {expected} bytes but its buffer "
                f"{t.buffer} holds {buf.nbytes}"
            )
        role: WeightRole | None = None
        if t.quant is not None and t.dtype.is_integer:
            role = "parameter"  # quantised weights and int32 biases carry scales
        values = decode_values(buf.data, t.dtype.name, shape.numel()) if buf.data is not None else None
        self.weights[name] = Weight(name, t.dtype, shape, role=role, storage_key=f"buffer:{t.buffer}",
                                    values=None if t.sparse else values, stored=stored)

    def _expand_at_load(self) -> set[int]:
        """The DEQUANTIZE and DENSIFY operators that expand a constant (or the output of another
        such operator): TFLite evaluates them once, when the model is prepared. Each one's output
        becomes the stored weight itself, under the output's name (the value keeps the output's
        dtype, float32, which the consuming layer reads); the input's weight is dropped when
        nothing else reads it. Returns the operators' indices (they emit no node)."""
        reads: dict[int, int] = {}
        for op in self.sg.operators:
            for i in op.inputs:
                reads[i] = reads.get(i, 0) + 1
        outputs = set(self.sg.outputs)
        done: set[int] = set()
        for op in self.sg.operators:
            if op.name not in ("DEQUANTIZE", "DENSIFY") or len(op.inputs) != 1 or len(op.outputs) != 1:
                continue
            src_i, out_i = op.inputs[0], op.outputs[0]
            src = self.weights.get(self.names[src_i]) if src_i >= 0 else None
            out_value = self.values[self.names[out_i]]
            if src is None or src.role == "buffer" or out_i in outputs or out_value.shape != src.shape:
                continue
            values = src.values
            if op.name == "DEQUANTIZE" and not self.tensor(src_i).dtype.is_float:
                if not self.quant_inputs(src_i)[0]:
                    continue  # no scale: the op mapper reports it
                values = None
            out = self.names[out_i]
            self.weights[out] = Weight(out, src.dtype, src.shape, role=src.role, storage_key=src.key, values=values,
                                       stored=src.stored)
            if reads.get(src_i, 0) == 1 and src_i not in outputs:
                del self.weights[src.name]
            done.add(op.index)
            self.ctx.expanded_at_load[op.name] = self.ctx.expanded_at_load.get(op.name, 0) + 1
        return done

    # ---- helpers for the op mapper -----------------------------------------------------------
    @property
    def label(self) -> str:
        return self.ctx.label

    def tensor(self, index: int) -> TfTensor:
        return self.sg.tensors[index]

    def name(self, index: int) -> str:
        return "" if index < 0 else self.names[index]

    def value(self, index: int) -> Value:
        return self.values[self.names[index]]

    def const(self, index: int) -> tuple[float | int, ...] | None:
        """The values of a constant tensor (small ones only), None otherwise."""
        if index < 0:
            return None
        w = self.weights.get(self.names[index])
        return w.values if w is not None else None

    def temp(self, base: str, like: Value, suffix: str, shape: Shape | None = None) -> str:
        """A new intermediate value (``<base>:<suffix>``), of ``like``'s dtype and shape unless given."""
        name = f"{base}:{suffix}"
        k = 1
        while name in self.values:
            name = f"{base}:{suffix}{k}"
            k += 1
        self.values[name] = Value(name, like.dtype, like.shape if shape is None else shape)
        return name

    def node(self, op: TfOperator, canonical: str, inputs: tuple[str, ...], outputs: tuple[str, ...],
             attrs: dict[str, AttrValue] | None = None, *, suffix: str = "", source: str = "",
             subgraphs: dict[str, Graph] | None = None) -> None:
        base = self.names[op.outputs[0]] if op.outputs else f"{op.name}_{op.index}"
        if self.sg.index:
            base = base if "/" in base else f"{self.sg.name or f'subgraph{self.sg.index}'}/{base}"
        name = f"{base}/{suffix}" if suffix else base
        unique = name
        k = 1
        while unique in self.ctx.node_names:
            unique = f"{name}_{k}"
            k += 1
        self.ctx.node_names.add(unique)
        self.nodes.append(Node(unique, canonical, inputs, outputs, attrs or {}, subgraphs or {},
                               scope=_scope(base), source_op=source or op.name))

    def quant_inputs(self, index: int) -> tuple[str, str]:
        """The names of the scale and (when some zero point is not 0) zero-point constants of
        tensor ``index``, made once."""
        t = self.tensor(index)
        if t.quant is None:
            return "", ""
        base = self.names[index]
        scale, zp = f"{base}::scale", f"{base}::zero_point"
        n = len(t.quant.scale)
        if scale not in self.weights:
            self.weights[scale] = Weight(scale, dt.FLOAT32, Shape((n,)), role="constant", storage_key=f"quant:{self.sg.index}:{index}:scale",
                                         values=t.quant.scale if n <= SMALL_VALUES else None)
            self.values[scale] = Value(scale, dt.FLOAT32, Shape((n,)))
        if not t.quant.has_zero_point:
            return scale, ""
        if zp not in self.weights:
            m = len(t.quant.zero_point)
            self.weights[zp] = Weight(zp, dt.INT64, Shape((m,)), role="constant", storage_key=f"quant:{self.sg.index}:{index}:zp",
                                      values=t.quant.zero_point if m <= SMALL_VALUES else None)
            self.values[zp] = Value(zp, dt.INT64, Shape((m,)))
        return scale, zp

    def fail(self, message: str) -> GraphError:
        return GraphError(f"{self.ctx.label}: {message}")


def _scope(name: str) -> str:
    first = name.split(";")[0]
    return first.rsplit("/", 1)[0] if "/" in first else ""


def tensor_names(sg: TfSubgraph) -> dict[int, str]:
    prefix = "" if sg.index == 0 else f"{sg.name or f'subgraph{sg.index}'}/"
    names: dict[int, str] = {}
    used: set[str] = set()
    for t in sg.tensors:
        base = t.name or f"t{t.index}"
        name = prefix + base
        if name in used:
            name = f"{prefix}{base}#{t.index}"
        used.add(name)
        names[t.index] = name
    return names


def decode_values(data: bytes, dtype: str, numel: int) -> tuple[float | int, ...] | None:
    code = _UNPACK.get(dtype)
    if code is None or numel > SMALL_VALUES or len(data) != numel * struct.calcsize(code):
        return None
    return tuple(struct.unpack(f"<{numel}{code}", data))
