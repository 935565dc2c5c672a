"""Shapes of every value of an ONNX model: ONNX's inference first, the project's rules after.

1. The graph inputs get the static shapes the user's request resolved to; every named dim the
   request fixes is substituted in every graph's inputs, outputs and value_info.
2. ``onnx.shape_inference.infer_shapes(strict_mode=False, data_prop=True)`` runs on an
   inference copy from which the exporter's shape hints for default-domain ops are removed
   (they can be stale for the requested shapes; they stay as a fallback).
3. Where inference stops, :mod:`edgeprof.frontends.onnx._fold` evaluates the shape computations
   on small constant tensors (initializers, Constant nodes, ``--value`` inputs, shapes of static
   values) and a few ops get their output shape set directly (Reshape, Expand, ConstantOfShape,
   Range, Tile, Slice; an ``If`` with a known condition takes its branch's outputs; Loop and Scan
   bodies get their inputs' shapes from the outer values).
4. The folded values are written back into the inference copy (as Constant nodes and value_info)
   and ONNX's inference runs again, until nothing new is learnt.

Control-flow facts come out of the same walk: the branch an ``If`` takes, the trip count of a
``Loop`` or ``Scan``, or the reason it is not known.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from math import prod
from typing import Any

import numpy as np

from edgeprof.frontends.common import ResolvedInputs, TType, np_dtype_of
from edgeprof.frontends.onnx._contrib_shapes import CONTRIB_SHAPE_OPS, contrib_output_types
from edgeprof.frontends.onnx._fold import (
    FOLD_LIMIT,
    NotFoldable,
    expand_dims,
    fold,
    foldable_ops,
    pad_dims,
    range_length,
    reshape_dims,
    shape_of,
    slice_params,
    slice_shape,
    squeeze_dims,
    tile_dims,
    unsqueeze_dims,
)
from edgeprof.frontends.onnx._graphs import DEFAULT_DOMAINS, GraphSlot, NodeRec, chain, index_graphs, locate
from edgeprof.frontends.onnx._sealed import sealed_copy
from edgeprof.frontends.onnx._structure import walk_graphs
from edgeprof.frontends.onnx._tensors import (
    constant_tensor,
    elem_type_of,
    sparse_dense_array,
    tensor_array,
    tensor_dims,
)
from edgeprof.frontends.onnx._types import merge, parse_type, substitute, write_tensor_type
from edgeprof.frontends.onnx_proto import (
    IR_VERSION,
    AttributeProto,
    GraphProto,
    ModelProto,
    SparseTensorProto,
    TensorProto,
    ValueInfoProto,
    from_array,
    infer_shapes,
    make_node,
)
from edgeprof.ir import AttrValue

MAX_ROUNDS = 8
MAX_CONTRIB_ROUNDS = 256
_FOLDABLE = foldable_ops()
_SHAPE_RULES = frozenset({"Reshape", "Expand", "ConstantOfShape", "Range", "Tile", "Slice", "Pad", "Unsqueeze", "Squeeze"})
Facts = dict[tuple[str, int], dict[str, AttrValue]]


class ShapeEngine:
    """Resolves the types of every value of the working model (see the module docstring)."""

    def __init__(self, work: ModelProto, resolved: ResolvedInputs, model_symbols: set[str], label: str) -> None:
        self.label = label
        self.resolved = resolved
        self.opset = _default_opset(work)
        self.model_symbols = model_symbols
        self.slots: dict[str, GraphSlot] = index_graphs(work)
        _apply_request([s.proto for s in self.slots.values()], resolved)
        self._chains = {p: chain(self.slots, p) for p in self.slots}
        self.hints = {p: _declared_types(s.proto, self._keep) for p, s in self.slots.items()}
        self.inferred: dict[str, dict[str, TType]] = {p: {} for p in self.slots}
        self.consts: dict[str, dict[str, np.ndarray]] = {p: {} for p in self.slots}
        self.forced: dict[str, dict[str, TType]] = {p: {} for p in self.slots}
        self.facts: Facts = {}
        self.notices: list[str] = []
        self._changed = False
        self._pending_nodes: set[tuple[str, int]] = set()
        self._applied_nodes: set[tuple[str, int]] = set()
        self._pending_types: set[tuple[str, str]] = set()
        self._onnx_failed = False
        self._data_prop: bool | None = None
        self._tried_ort = False
        self._seed_consts(resolved)
        self.inf = self._inference_copy(work, resolved)
        self._inf_graphs = locate(self.inf, self.slots)
        self._unresolved: tuple[int, str] = (0, "")
        self._vi_index: dict[str, dict[str, ValueInfoProto]] = {}

    # ---- public ----------------------------------------------------------------------------
    def run(self) -> None:
        # ONNX's inference stops at each quantised com.microsoft op our own rules fill in: a chain of
        # them (a QOperator model) needs a round each.
        contrib = sum(1 for slot in self.slots.values() for rec in slot.nodes
                      if rec.domain == "com.microsoft" and rec.op_type in CONTRIB_SHAPE_OPS)
        for _ in range(MAX_ROUNDS + min(contrib, MAX_CONTRIB_ROUNDS)):
            inferred = self._run_onnx()
            self._collect(inferred if inferred is not None else self.inf)
            self._changed = False
            self.facts = {}
            self._eval_graph("")
            self._unresolved = self._count_unresolved()
            if not self._unresolved[0]:
                break
            if not self._changed and not self._custom_op_fallback():
                break
            self._apply_pending()
        count, first = self._unresolved
        if count:
            self.notices.append(
                f"{count} value(s) have shapes not known statically (first: {first}); "
                "ops that need them are listed as not counted"
            )

    def _custom_op_fallback(self) -> bool:
        """ONNX knows no shape function for other domains' ops (``com.microsoft::SkipLayerNormalization``
        in an onnxruntime-optimised model), so everything after them stays unknown. When
        onnxruntime is installed, its symbolic shape inference (which knows those ops) fills in
        the main graph's unknown values, once. True when it taught something new."""
        if self._tried_ort or not any(
            rec.domain not in DEFAULT_DOMAINS for slot in self.slots.values() for rec in slot.nodes
        ):
            return False
        self._tried_ort = True
        found = ort_symbolic_shapes(self.inf)
        if not found:
            return False
        before = self._changed
        self._changed = False
        for name, t in found.items():
            kept = TType(t.elem, None if t.dims is None else tuple(
                d if not isinstance(d, str) or d in self.model_symbols else None for d in t.dims))
            current = self.type_of(name, "", use_consts=False)
            if current is not None and current.is_static:
                continue
            self._force("", name, kept)
        if self._changed:
            self.notices.append("shapes after ops of other domains come from onnxruntime's symbolic shape inference")
        return self._changed or before

    def type_of(self, name: str, path: str, use_consts: bool = True) -> TType | None:
        """The best type known for ``name`` as seen from the graph at ``path``."""
        for q in self._chains[path]:
            t = self.inferred[q].get(name)
            if use_consts:
                c = self.consts[q].get(name)
                if c is not None:
                    elem = (t.elem if t is not None else 0) or elem_type_of(c) or 0
                    return TType(elem, tuple(int(d) for d in c.shape))
            f = self.forced[q].get(name)
            h = self.hints[q].get(name)
            if f is None and h is None:
                if t is not None:
                    return t
                continue
            return merge(merge(f, t), h)
        return None

    def const_of(self, name: str, path: str) -> np.ndarray | None:
        for q in self._chains[path]:
            c = self.consts[q].get(name)
            if c is not None:
                return c
            slot = self.slots[q]
            if name in slot.producer or name in slot.own_names:
                return None  # defined here (a node output, a body input): not an outer value
        return None

    # ---- set-up ----------------------------------------------------------------------------
    def _keep(self, symbol: str) -> bool:
        """Named dims of the model stay; ONNX's generated ``unk__N`` names become unknown."""
        return symbol in self.model_symbols or not symbol.startswith("unk__")

    def _seed_consts(self, resolved: ResolvedInputs) -> None:
        for path, slot in self.slots.items():
            for t in slot.proto.initializer:
                if t.data_location == TensorProto.EXTERNAL or t.data_type == TensorProto.STRING:
                    continue
                try:
                    if prod(tensor_dims(t)) > FOLD_LIMIT:
                        continue
                    self.consts[path][t.name] = tensor_array(t)
                except (ValueError, TypeError):
                    continue
        for name, arr in resolved.values.items():
            self.consts[""][name] = arr

    def _inference_copy(self, work: ModelProto, resolved: ResolvedInputs) -> ModelProto:
        inf = ModelProto()
        inf.CopyFrom(work)
        inf.ir_version = min(inf.ir_version, IR_VERSION)
        graphs = locate(inf, self.slots)
        for path, slot in self.slots.items():
            g = graphs[path]
            produced = {o for rec in slot.nodes if rec.domain in DEFAULT_DOMAINS for o in rec.outputs if o}
            if any(vi.name in produced for vi in g.value_info):
                keep = [_copy_vi(vi) for vi in g.value_info if vi.name not in produced]
                del g.value_info[:]
                g.value_info.extend(keep)
            for vi in g.output:
                if vi.name in produced and vi.type.WhichOneof("value") == "tensor_type":
                    vi.type.tensor_type.ClearField("shape")
        if resolved.values:
            g = inf.graph
            keep_inputs = [_copy_vi(vi) for vi in g.input if vi.name not in resolved.values]
            del g.input[:]
            g.input.extend(keep_inputs)
            for name, arr in resolved.values.items():
                g.initializer.append(from_array(arr, name))
        return inf

    # ---- ONNX inference --------------------------------------------------------------------
    def _run_onnx(self) -> ModelProto | None:
        if self._onnx_failed:
            return None
        try:
            data_prop = self._data_prop_is_safe()
            return infer_shapes(self.inf, check_type=False, strict_mode=False,
                                                     data_prop=data_prop)
        except Exception as exc:
            self._onnx_failed = True
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.notices.append(
                f"ONNX shape inference failed ({first[:200]}); shapes come from the model's value_info and "
                "edgeprof's own rules"
            )
            return None

    def _data_prop_is_safe(self) -> bool:
        """ONNX's data propagation (values of small shape tensors through Add, Concat, Gather,
        Slice, Squeeze, ...) holds one entry per element of every 1-D tensor those ops see, even a
        float tensor: a 1-D tensor of 10**8 elements takes 14 GB and 30 s, one of 2**40 never
        ends. A plain inference pass first finds the 1-D tensors; data propagation runs only when
        none has more than FOLD_LIMIT elements (larger values are never folded anyway)."""
        if self._data_prop is None or self._data_prop:
            plain = infer_shapes(self.inf, check_type=False, strict_mode=False, data_prop=False)
            longest = _longest_1d(plain)
            self._data_prop = longest <= FOLD_LIMIT
            if not self._data_prop:
                self.notices.append(
                    f"a 1-D tensor has {longest:,} elements: ONNX's data propagation was skipped (it would hold every "
                    "element); shape values come from edgeprof's own folding"
                )
        return self._data_prop

    def _collect(self, model: ModelProto) -> None:
        keep = self._keep
        for path, g in locate(model, self.slots).items():
            found: dict[str, TType] = {}
            for t in g.initializer:
                try:
                    found[t.name] = TType(t.data_type, tensor_dims(t))
                except ValueError:
                    continue
            for vi in (*g.input, *g.value_info, *g.output):
                parsed = parse_type(vi.type, keep)
                if parsed is not None:
                    found[vi.name] = parsed
            self.inferred[path] = found

    # ---- evaluation ------------------------------------------------------------------------
    def _eval_graph(self, path: str) -> None:
        for rec in self.slots[path].nodes:
            if rec.domain in DEFAULT_DOMAINS:
                self._eval_node(rec, path)
            elif rec.domain == "com.microsoft" and rec.op_type in CONTRIB_SHAPE_OPS:
                self._eval_contrib(rec, path)
            else:
                for _, cp in rec.subgraphs:
                    self._eval_graph(cp)

    def _eval_contrib(self, rec: NodeRec, path: str) -> None:
        """Quantised com.microsoft ops no shape inference knows (see _contrib_shapes)."""
        if not rec.outputs:
            return
        ins = [self.type_of(name, path) if name else None for name in rec.inputs]
        for name, t in zip(rec.outputs, contrib_output_types(rec.op_type, ins, self._attrs(rec, path)), strict=False):
            if name and t is not None:
                self._force(path, name, t)

    def _eval_node(self, rec: NodeRec, path: str) -> None:
        op = rec.op_type
        if op == "Constant":
            self._eval_constant(rec, path)
            return
        if op == "If":
            self._eval_if(rec, path)
            return
        if op == "Loop":
            self._eval_loop(rec, path)
            return
        if op == "Scan":
            self._eval_scan(rec, path)
            return
        for _, cp in rec.subgraphs:
            self._eval_graph(cp)
        outs = [o for o in rec.outputs if o]
        if not outs or (op not in _FOLDABLE and op not in _SHAPE_RULES):
            return
        if all(o in self.consts[path] for o in outs):
            return
        ins: list[np.ndarray | None] = []
        unknown = False
        for name in rec.inputs:
            if not name:
                ins.append(None)
                continue
            c = self.const_of(name, path)
            ins.append(c)
            unknown = unknown or c is None
        res: list[np.ndarray] | None = None
        if op in ("Shape", "Size"):
            t = self.type_of(rec.inputs[0], path) if rec.inputs and rec.inputs[0] else None
            if t is not None and t.is_static:
                dims = t.static_dims()
                attrs = self._attrs(rec, path)
                if op == "Shape":
                    res = [shape_of(dims, attrs)]
                elif prod(dims) < 2**63:  # Size is an int64 scalar: a larger count is left unfolded, never wrapped
                    res = [np.array(prod(dims), dtype=np.int64)]
        elif not unknown and op in _FOLDABLE:
            out_elems = []
            for o in rec.outputs:
                t = self.type_of(o, path, use_consts=False) if o else None
                out_elems.append(t.elem if t is not None and t.elem else None)
            res = fold(op, ins, self._attrs(rec, path), out_elems)
        if res is not None and len(res) == len(rec.outputs):
            for o, arr in zip(rec.outputs, res, strict=True):
                if not o:
                    continue
                self._force(path, o, TType(elem_type_of(arr) or 0, tuple(int(d) for d in arr.shape)))
                if arr.size <= FOLD_LIMIT:
                    self._set_const(path, o, arr)
            if len(rec.outputs) == 1 and rec.outputs[0] in self.consts[path] and not rec.subgraphs:
                self._mark_folded(path, rec.pos)
            return
        if op in _SHAPE_RULES:
            self._shape_rule(rec, path, ins)

    def _eval_constant(self, rec: NodeRec, path: str) -> None:
        if not rec.outputs or rec.outputs[0] in self.consts[path]:
            return
        try:
            t = constant_tensor(rec.proto)
            if isinstance(t, SparseTensorProto):
                arr = sparse_dense_array(t, FOLD_LIMIT)
            elif t.data_location == TensorProto.EXTERNAL or t.data_type == TensorProto.STRING:
                arr = None
            elif prod(tensor_dims(t)) <= FOLD_LIMIT:
                arr = tensor_array(t)
            else:
                arr = None
        except (ValueError, TypeError, IndexError):
            arr = None
        if arr is not None:
            self._set_const(path, rec.outputs[0], arr)

    def _shape_rule(self, rec: NodeRec, path: str, ins: list[np.ndarray | None]) -> None:
        """Output shapes set directly for ops whose shape needs values ONNX did not see."""
        op = rec.op_type
        out = rec.outputs[0] if rec.outputs else ""
        if not out:
            return
        known = self.type_of(out, path, use_consts=False)
        if known is not None and known.is_static:
            return

        def static_in(i: int) -> tuple[int, ...] | None:
            if i >= len(rec.inputs) or not rec.inputs[i]:
                return None
            t = self.type_of(rec.inputs[i], path)
            return t.static_dims() if t is not None and t.is_static else None

        def ints(i: int) -> list[int] | None:
            if i >= len(ins) or ins[i] is None:
                return None
            arr = ins[i]
            assert arr is not None
            return [int(v) for v in arr.reshape(-1).tolist()] if arr.dtype.kind in "iu" else None

        present_unknown = any(name and ins[i] is None for i, name in enumerate(rec.inputs) if i > 0)
        dims: tuple[int, ...] | None = None
        elem = known.elem if known is not None and known.elem else 0
        in0 = self.type_of(rec.inputs[0], path) if rec.inputs and rec.inputs[0] else None
        try:
            if op == "Reshape":
                d, s = static_in(0), ints(1)
                if d is not None and s is not None:
                    dims = reshape_dims(d, s, bool(self._attr_int(rec, "allowzero", 0)))
            elif op == "Expand":
                d, s = static_in(0), ints(1)
                if d is not None and s is not None:
                    dims = expand_dims(d, s)
            elif op == "Tile":
                d, s = static_in(0), ints(1)
                if d is not None and s is not None:
                    dims = tile_dims(d, s)
            elif op == "ConstantOfShape":
                s = ints(0)
                if s is not None and all(v >= 0 for v in s):
                    dims = tuple(s)
                    if not elem:
                        value = next((a.t for a in rec.proto.attribute if a.name == "value"), None)
                        elem = value.data_type if value is not None else TensorProto.FLOAT
            elif op == "Range":
                vals = [ins[i] if i < len(ins) else None for i in range(3)]
                if all(v is not None and v.size == 1 for v in vals):
                    start, limit, delta = (v.reshape(-1)[0].item() for v in vals if v is not None)
                    dims = (range_length(start, limit, delta),)
            elif op == "Slice":
                d = static_in(0)
                if d is not None and not present_unknown:
                    dims = slice_shape(d, slice_params(ins, self._attrs(rec, path), len(d)))
            elif op == "Pad":  # pads (and axes) as inputs (opset >= 11), or the attribute before
                d = static_in(0)
                pads = ints(1) if len(rec.inputs) > 1 and rec.inputs[1] else self._attr_ints(rec, "pads")
                axes = ints(3) if len(rec.inputs) > 3 and rec.inputs[3] else None
                if d is not None and pads is not None and not (len(rec.inputs) > 3 and rec.inputs[3] and axes is None):
                    dims = pad_dims(d, pads, axes)
            elif op in ("Unsqueeze", "Squeeze"):  # axes as input 1 (opset >= 13), or the attribute before
                d = static_in(0)
                axes = ints(1) if len(rec.inputs) > 1 and rec.inputs[1] else self._attr_ints(rec, "axes")
                if d is not None and axes is not None and not (len(rec.inputs) > 1 and rec.inputs[1] and axes is None):
                    dims = unsqueeze_dims(d, axes) if op == "Unsqueeze" else squeeze_dims(d, axes)
        except (NotFoldable, ValueError, TypeError):
            dims = None
        if dims is None:
            return
        if not elem and in0 is not None:
            elem = in0.elem
        self._force(path, out, TType(elem, dims))

    def _eval_if(self, rec: NodeRec, path: str) -> None:
        subs = dict(rec.subgraphs)
        cond = self.const_of(rec.inputs[0], path) if rec.inputs and rec.inputs[0] else None
        facts: dict[str, AttrValue] = {}
        branch = ""
        if cond is not None and cond.size == 1:
            branch = "then_branch" if bool(cond.reshape(-1)[0]) else "else_branch"
            facts["branch"] = branch
        self.facts[(path, rec.pos)] = facts
        for _, cp in rec.subgraphs:
            self._eval_graph(cp)
        if not branch or branch not in subs:
            return
        cp = subs[branch]
        for out, bout in zip(rec.outputs, self.slots[cp].output_names, strict=False):
            if not out:
                continue
            t = self.type_of(bout, cp)
            if t is not None and t.is_tensor:
                self._force(path, out, t)
            c = self.const_of(bout, cp)
            if c is not None and c.size <= FOLD_LIMIT:
                self._set_const(path, out, c)

    def _eval_loop(self, rec: NodeRec, path: str) -> None:
        body = dict(rec.subgraphs).get("body")
        if body is None:
            self.facts[(path, rec.pos)] = {"trip_count_reason": "the Loop has no body"}
            return
        names_in = self.slots[body].input_names
        names_out = self.slots[body].output_names
        if len(names_in) >= 1:
            self._force(body, names_in[0], TType(TensorProto.INT64, ()))
        if len(names_in) >= 2:
            self._force(body, names_in[1], TType(TensorProto.BOOL, ()))
        for k, outer in enumerate(rec.inputs[2:]):
            if outer and 2 + k < len(names_in):
                t = self.type_of(outer, path)
                if t is not None and t.is_tensor:
                    self._force(body, names_in[2 + k], t)
        self._eval_graph(body)
        facts = self._loop_trips(rec, path, body, names_in, names_out)
        self.facts[(path, rec.pos)] = facts
        # Outputs: the final carried values take the body's shapes; a scan output stacks the
        # per-iteration values along a new first axis of the trip count's length.
        n_carried = max(len(rec.inputs) - 2, 0)
        trips = facts.get("trip_count") if "trip_count_reason" not in facts else None
        for k, out in enumerate(rec.outputs):
            if not out or 1 + k >= len(names_out):
                continue
            t = self.type_of(names_out[1 + k], body)
            if k < n_carried:
                if t is None or not t.is_static:
                    t = merge(t, self.type_of(rec.inputs[2 + k], path)) if rec.inputs[2 + k] else t
                if t is not None and t.is_tensor:
                    self._force(path, out, t)
            elif t is not None and t.dims is not None and t.is_tensor:
                lead: int | None = trips if isinstance(trips, int) and not isinstance(trips, bool) else None
                self._force(path, out, TType(t.elem, (lead, *t.dims)))

    def _loop_trips(
        self, rec: NodeRec, path: str, body: str, names_in: list[str], names_out: list[str]
    ) -> dict[str, AttrValue]:
        m_name = rec.inputs[0] if rec.inputs else ""
        c_name = rec.inputs[1] if len(rec.inputs) > 1 else ""
        m_val: int | None = None
        if m_name:
            c = self.const_of(m_name, path)
            if c is not None and c.size == 1 and c.dtype.kind in "iu":
                m_val = max(int(c.reshape(-1)[0]), 0)
        cond_init: bool | None = True
        if c_name:
            c = self.const_of(c_name, path)
            cond_init = bool(c.reshape(-1)[0]) if c is not None and c.size == 1 else None
        if cond_init is False:
            return {"trip_count": 0}
        body_cond = self._body_cond(body, names_in, names_out)
        if m_val is not None:
            trips = min(m_val, 1) if body_cond is False else m_val
            if cond_init is None:
                return {"trip_count": trips,
                        "trip_count_reason": "upper bound: the loop may not run (its initial condition is not known statically)"}
            if body_cond is None:
                return {"trip_count": trips,
                        "trip_count_reason": "upper bound: loop may exit early (its condition is computed in the body)"}
            return {"trip_count": trips}
        if not m_name:
            if cond_init is True and body_cond is False:
                return {"trip_count": 1}
            return {"trip_count_reason": "trip count not known statically: the loop has no trip-count input and runs "
                                         "until its condition turns false"}
        return {"trip_count_reason": self._unknown_trips(m_name, path)}

    def _body_cond(self, body: str, names_in: list[str], names_out: list[str]) -> bool | None:
        """True when the body's condition output is always true (passed through, or a constant
        true), False when it is a constant false, None when the body computes it."""
        if not names_out:
            return None
        name = names_out[0]
        slot = self.slots[body]
        for _ in range(64):
            if len(names_in) >= 2 and name == names_in[1]:
                return True
            c = self.const_of(name, body)
            if c is not None and c.size == 1:
                return bool(c.reshape(-1)[0])
            rec = slot.producer.get(name)
            if rec is None or rec.op_type != "Identity" or not rec.inputs:
                return None
            name = rec.inputs[0]
        return None

    def _unknown_trips(self, m_name: str, path: str) -> str:
        inputs = self._upstream_inputs(m_name, path)
        if m_name in self.resolved.shapes:
            return f"trip count not known statically; set it with --value {m_name}=N"
        small = [i for i in inputs if prod(self.resolved.shapes.get(i, (1,))) <= 16]
        if inputs and len(small) == len(inputs):
            names = ", ".join(repr(i) for i in inputs)
            flag = f"--value {inputs[0]}=V" if len(inputs) == 1 else "--value NAME=V for each"
            return f"trip count not known statically (it is computed from input(s) {names}); set it with {flag}"
        if inputs:
            names = ", ".join(repr(i) for i in inputs)
            return f"trip count not known statically (it depends on the contents of input(s) {names})"
        return f"trip count not known statically (it is computed at run time as {m_name!r})"

    def _upstream_inputs(self, name: str, path: str) -> list[str]:
        found: list[str] = []
        seen: set[tuple[str, str]] = set()
        stack = [(name, path)]
        while stack and len(seen) < 20000:
            n, p = stack.pop()
            if (n, p) in seen:
                continue
            seen.add((n, p))
            for q in self._chains[p]:
                slot = self.slots[q]
                rec = slot.producer.get(n)
                if rec is not None:
                    stack.extend((i, q) for i in rec.inputs if i)
                    break
                if n in slot.input_names:
                    if q == "" and n in self.resolved.shapes and n not in found:
                        found.append(n)
                    break
        return found

    def _eval_scan(self, rec: NodeRec, path: str) -> None:
        body = dict(rec.subgraphs).get("body")
        if body is None:
            self.facts[(path, rec.pos)] = {"trip_count_reason": "the Scan has no body"}
            return
        n_scan = self._attr_int(rec, "num_scan_inputs", 0)
        legacy = self.opset < 9
        rest = list(rec.inputs[1:] if legacy else rec.inputs)
        n_state = len(rest) - n_scan
        names_in = self.slots[body].input_names
        if n_scan <= 0 or n_state < 0:
            self.facts[(path, rec.pos)] = {"trip_count_reason": "the Scan's num_scan_inputs does not match its inputs"}
            return
        axes_attr = self._attr_ints(rec, "scan_input_axes")
        axes = list(axes_attr) if axes_attr else [0] * n_scan
        outer_types = [self.type_of(n, path) if n else None for n in rest]
        for k, t in enumerate(outer_types):
            if k >= len(names_in) or t is None or t.dims is None or not t.is_tensor:
                continue
            if k < n_state:
                dims = t.dims[1:] if legacy else t.dims
            else:
                j = k - n_state
                if legacy:
                    dims = t.dims[2:]
                else:
                    a = axes[j] if j < len(axes) else 0
                    a = a + len(t.dims) if a < 0 else a
                    if not 0 <= a < len(t.dims):
                        continue
                    dims = t.dims[:a] + t.dims[a + 1 :]
            self._force(body, names_in[k], TType(t.elem, tuple(dims)))
        self._eval_graph(body)
        first = rest[n_state] if n_state < len(rest) else ""
        t = outer_types[n_state] if n_state < len(outer_types) else None
        facts: dict[str, AttrValue]
        if t is None or t.dims is None:
            facts = {"trip_count_reason": f"scan length not known statically (the shape of {first!r} is unknown)"}
        else:
            axis = 1 if legacy else (axes[0] if axes else 0)
            axis = axis + len(t.dims) if axis < 0 else axis
            picked = t.dims[: axis + 1] if legacy else t.dims[axis : axis + 1]
            if axis >= len(t.dims):
                facts = {"trip_count_reason": f"scan axis {axis} is beyond the rank of {first!r}"}
            elif all(isinstance(d, int) for d in picked):
                facts = {"trip_count": prod(int(d) for d in picked if isinstance(d, int))}
            else:
                sym = next((d for d in picked if not isinstance(d, int)), None)
                if isinstance(sym, str):
                    facts = {"trip_count_reason": f"scan length not known statically: dim {axis} ({sym!r}) of "
                                                  f"{first!r}; set it with --dim {sym}=N"}
                else:
                    facts = {"trip_count_reason": f"scan length not known statically (dim {axis} of {first!r})"}
        self.facts[(path, rec.pos)] = facts

    # ---- recording -------------------------------------------------------------------------
    def _set_const(self, path: str, name: str, arr: np.ndarray) -> None:
        if name not in self.consts[path]:
            self.consts[path][name] = arr
            self._changed = True

    def _force(self, path: str, name: str, t: TType) -> None:
        current = self.type_of(name, path, use_consts=False)
        if current is not None and current.is_static:
            return
        if current is not None and current.known() >= t.known():
            return
        prev = self.forced[path].get(name)
        if prev is not None and prev.known() >= t.known():
            return
        self.forced[path][name] = t
        self._pending_types.add((path, name))
        self._changed = True

    def _mark_folded(self, path: str, index: int) -> None:
        if (path, index) not in self._applied_nodes:
            self._pending_nodes.add((path, index))

    def _apply_pending(self) -> None:
        for path, index in sorted(self._pending_nodes):
            g = self._inf_graphs.get(path)
            if g is None:
                continue
            node = g.node[index]
            out = node.output[0]
            arr = self.consts[path].get(out)
            if arr is None:
                continue
            node.CopyFrom(make_node("Constant", [], [out], value=from_array(arr)))
            self._applied_nodes.add((path, index))
        self._pending_nodes.clear()
        for path, name in sorted(self._pending_types):
            t = self.forced[path][name]
            infos = self._value_infos(path)
            vi = infos.get(name)
            if vi is None:
                g = self._inf_graphs.get(path)
                if g is None:
                    continue
                vi = g.value_info.add()
                vi.name = name
                infos[name] = vi
            elif vi.type.WhichOneof("value") not in (None, "tensor_type"):
                continue
            write_tensor_type(t, vi.type)
        self._pending_types.clear()

    def _value_infos(self, path: str) -> dict[str, ValueInfoProto]:
        index = self._vi_index.get(path)
        if index is None:
            g = self._inf_graphs[path]
            index = {vi.name: vi for vi in (*g.value_info, *g.input, *g.output)}
            self._vi_index[path] = index
        return index

    def _count_unresolved(self) -> tuple[int, str]:
        """How many node outputs lack a static shape, and the first of them (for the notice)."""
        count = 0
        first = ""
        for path, slot in self.slots.items():
            for rec in slot.nodes:
                for o in rec.outputs:
                    if not o:
                        continue
                    t = self.type_of(o, path)
                    if t is None or (t.is_tensor and not t.is_static):
                        count += 1
                        if not first:
                            who = rec.proto.name or f"#{rec.pos}"
                            first = f"{o!r}, output of node {who!r} ({rec.op_type})"
        return count, first

    # ---- attributes ------------------------------------------------------------------------
    def _attrs(self, rec: NodeRec, path: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for a in rec.proto.attribute:
            if a.type == AttributeProto.INT:
                out[a.name] = int(a.i)
            elif a.type == AttributeProto.FLOAT:
                out[a.name] = float(a.f)
            elif a.type == AttributeProto.INTS:
                out[a.name] = [int(v) for v in a.ints]
            elif a.type == AttributeProto.FLOATS:
                out[a.name] = [float(v) for v in a.floats]
            elif a.type == AttributeProto.STRING:
                out[a.name] = a.s.decode("utf-8", "replace")
            elif a.type == AttributeProto.TENSOR:
                try:
                    if prod(tensor_dims(a.t)) <= FOLD_LIMIT and a.t.data_location != TensorProto.EXTERNAL:
                        out[a.name] = tensor_array(a.t)
                except (ValueError, TypeError):
                    pass
        if rec.op_type == "Split":
            out["_outputs"] = len(rec.outputs)
        if rec.op_type == "CastLike" and len(rec.inputs) > 1 and rec.inputs[1]:
            t = self.type_of(rec.inputs[1], path)
            target = np_dtype_of(t.elem) if t is not None and t.elem else None
            if target is not None:
                out["_target_dtype"] = target
        return out

    @staticmethod
    def _attr_int(rec: NodeRec, name: str, default: int) -> int:
        for a in rec.proto.attribute:
            if a.name == name and a.type == AttributeProto.INT:
                return int(a.i)
        return default

    @staticmethod
    def _attr_ints(rec: NodeRec, name: str) -> list[int]:
        for a in rec.proto.attribute:
            if a.name == name and a.type == AttributeProto.INTS:
                return [int(v) for v in a.ints]
        return []


def ort_symbolic_shapes(model: ModelProto) -> dict[str, TType]:
    """Types of the main graph's values from onnxruntime's symbolic shape inference, or {} when
    onnxruntime is not installed or the tool fails (it is an optional helper, never required).

    The tool's ``infer_shapes`` entry point writes ``sym_shape_infer_temp.onnx`` into the current
    folder when it cannot infer everything; its steps are run here instead, which also keeps the
    partial result (all this frontend needs).

    The tool reads the values of Constants and initializers with ``to_array``, which
    opens an external ``location`` relative to the *current* folder: it is given a sealed copy
    (:mod:`edgeprof.frontends.onnx._sealed`) in which no tensor is external any more."""
    try:
        from onnxruntime.tools.symbolic_shape_infer import SymbolicShapeInference
    except Exception:
        return {}
    if _default_opset(model) < 7:
        return {}
    copy, standins = sealed_copy(model)
    logger = logging.getLogger("onnxruntime.tools.symbolic_shape_infer")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            tool = SymbolicShapeInference(2**31 - 1, True, False, 0)
            tool._preprocess(copy)
            while tool.run_:
                tool._infer_impl()
            known = dict(tool.known_vi_)
    except Exception:
        return {}
    finally:
        logger.setLevel(level)
    found: dict[str, TType] = {}
    for name, vi in known.items():
        t = parse_type(vi.type)
        if t is not None and t.is_tensor and t.dims is not None and name not in standins:
            found[name] = t
    return found


def _default_opset(model: ModelProto) -> int:
    for o in model.opset_import:
        if o.domain in DEFAULT_DOMAINS:
            return int(o.version)
    return 1


def _apply_request(graphs: list[GraphProto], resolved: ResolvedInputs) -> None:
    """Give the main graph's inputs (``graphs[0]``) their resolved static shapes; substitute the
    named dims in every graph."""
    for vi in graphs[0].input:
        shape = resolved.shapes.get(vi.name)
        if shape is None:
            continue
        elem = vi.type.tensor_type.elem_type if vi.type.WhichOneof("value") == "tensor_type" else 0
        write_tensor_type(TType(elem or resolved.elem_types.get(vi.name, 0), shape), vi.type)
    substitute(graphs, dict(resolved.symbols))


def _declared_types(g: GraphProto, keep: Any) -> dict[str, TType]:
    out: dict[str, TType] = {}
    for vi in (*g.value_info, *g.output, *g.input):
        t = parse_type(vi.type, keep)
        if t is not None:
            out[vi.name] = t
    return out


def _copy_vi(vi: ValueInfoProto) -> ValueInfoProto:
    c = ValueInfoProto()
    c.CopyFrom(vi)
    return c


def _longest_1d(model: ModelProto) -> int:
    """The most elements of any 1-D tensor the model declares or ONNX inferred (all graphs)."""
    longest = 0
    for g in walk_graphs(model.graph):
        for vi in (*g.input, *g.output, *g.value_info):
            tt = vi.type.tensor_type if vi.type.HasField("tensor_type") else None
            if tt is not None and tt.HasField("shape") and len(tt.shape.dim) == 1:
                longest = max(longest, tt.shape.dim[0].dim_value)
        for t in g.initializer:
            if len(t.dims) == 1:
                longest = max(longest, int(t.dims[0]))
    return longest
