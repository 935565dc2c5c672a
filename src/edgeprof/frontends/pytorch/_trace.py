"""Record an ``nn.Module``'s forward at the dispatcher (aten) level into the IR.

A :class:`Tracer` owns three temporary hooks into torch, all removed in ``finally``:

* a ``TorchDispatchMode`` that sees every aten call (after autograd and the composite
  decompositions, so ``F.linear``, ``@``, ``einsum``, ``F.interpolate`` and hand-written attention
  are all seen) and turns each into IR nodes through the aten table (``_map``);
* a ``TorchFunctionMode`` that catches ``F.scaled_dot_product_attention`` and the recurrent
  layers' ``torch.lstm``/``gru``/``rnn_*`` *before* dispatch, so that they become one ONNX
  ``Attention`` node / one ``LSTM``/``GRU``/``RNN`` node per layer whichever backend torch would
  pick (flash, memory-efficient, math, CPU fused, mkldnn) and on meta and CPU alike;
* global module forward pre/post hooks that keep the stack of module paths, for attribution
  only (nothing is counted from hooks).

The forward runs on fake tensors (see ``_load.py``), so no weights or activations are allocated.
A model whose weights and inputs are all on the meta device runs on those meta tensors directly
(``Tracer.meta``): each aten call's output shapes and strides come from torch's meta kernel, and
are remembered for the trace by the call's input metadata (``_meta.meta_call``), so a call seen
before (the next identical block of a transformer) makes its outputs without running the kernel. Anything such
a run cannot do the way a fake run does (a tensor off the meta device, an op that raises, a
higher-order operator) stops it with :class:`LeaveMeta`, and the trace is redone on fake tensors.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch._ops import HigherOrderOperator
from torch._subclasses.fake_tensor import FakeTensor
from torch.overrides import TorchFunctionMode
from torch.utils import _pytree as pytree
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.weak import WeakIdKeyDictionary

from edgeprof.frontends.pytorch._graph import AtenCall, Builder, TranslateError, TRef
from edgeprof.frontends.pytorch._map import attention_node
from edgeprof.frontends.pytorch._meta import LeaveMeta, MetaCache, bind, meta_call, op_info
from edgeprof.frontends.pytorch._rnn import RnnCall, RnnKind, emit_rnn
from edgeprof.ir import DType, Graph, Node, dtype_by_name

_DTYPE_NAMES: dict[torch.dtype, str] = {
    torch.float32: "float32", torch.float64: "float64", torch.float16: "float16", torch.bfloat16: "bfloat16",
    torch.int64: "int64", torch.int32: "int32", torch.int16: "int16", torch.int8: "int8", torch.uint8: "uint8",
    torch.bool: "bool", torch.complex64: "complex64", torch.complex128: "complex128",
    torch.float8_e4m3fn: "float8e4m3fn", torch.float8_e5m2: "float8e5m2",
    torch.float8_e4m3fnuz: "float8e4m3fnuz", torch.float8_e5m2fnuz: "float8e5m2fnuz",
    torch.uint16: "uint16", torch.uint32: "uint32", torch.uint64: "uint64",
    torch.qint8: "int8", torch.quint8: "uint8", torch.qint32: "int32",
}


_IR_DTYPES: dict[torch.dtype, DType] = {dt: dtype_by_name(name) for dt, name in _DTYPE_NAMES.items()}


def ir_dtype(dt: torch.dtype) -> DType:
    found = _IR_DTYPES.get(dt)
    return found if found is not None else dtype_by_name("unknown")


def _dims(t: torch.Tensor) -> tuple[int | str, ...]:
    shape = tuple(t.shape)
    if all(type(d) is int for d in shape):
        return shape
    out: list[int | str] = []
    for d in t.shape:
        try:
            out.append(int(d))
        except (TypeError, ValueError, RuntimeError):
            out.append(str(d))
    return tuple(out)


@dataclass(frozen=True)
class OpFailure:
    """Where the forward failed: the op, the module path and the input shapes."""

    op: str
    scope: str
    shapes: str
    error: BaseException


@dataclass
class Tracer:
    """The state of one trace: the IR builder, tensor -> value names, the module stack."""

    module_names: dict[int, str]
    fake_mode: Any = None  # the FakeTensorMode of the run (None: a real or a meta run)
    meta: bool = False  # a run on the model's own meta tensors (see the module docstring)
    meta_layouts: MetaCache = field(default_factory=dict)  # output layouts by call (a meta run)
    builder: Builder = field(default_factory=Builder)
    names: WeakIdKeyDictionary = field(default_factory=WeakIdKeyDictionary)
    scopes: list[str] = field(default_factory=lambda: [""])
    module_calls: dict[str, int] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    failure: OpFailure | None = None
    suppress: int = 0
    _next: int = 0
    _consts: int = 0

    # ---- tensors -> values ---------------------------------------------------------------
    def as_fake(self, tree: Any) -> Any:
        """``tree`` with every real tensor replaced by its fake twin (memoised by the fake mode), so
        that no op computes on, allocates for or writes to the model's real tensors."""
        mode = self.fake_mode
        if mode is None:
            return tree

        def conv(t: Any) -> Any:
            if isinstance(t, torch.Tensor) and not isinstance(t, FakeTensor):
                return mode.from_tensor(t, static_shapes=True)
            return t

        return pytree.tree_map(conv, tree)

    def fresh(self, t: torch.Tensor) -> TRef:
        self._next += 1
        return TRef(f"%{self._next}", _dims(t), ir_dtype(t.dtype))

    def ref(self, t: torch.Tensor) -> TRef:
        """The value a tensor argument reads; a tensor never seen before (a constant attribute,
        a tensor made outside the trace) becomes a constant weight."""
        known = self.names.get(t)  # type: ignore[no-untyped-call]
        if known is not None:
            return known  # type: ignore[no-any-return]
        self._consts += 1
        r = TRef(f"%k{self._consts}", _dims(t), ir_dtype(t.dtype))
        self.builder.add_weight(r, "constant", storage_key=r.name)
        self.names[t] = r
        return r

    def add_weight(self, t: torch.Tensor, name: str, role: str, storage_key: str) -> None:
        r = TRef(name, _dims(t), ir_dtype(t.dtype))
        self.builder.add_weight(r, role, storage_key)  # type: ignore[arg-type]
        self.names[t] = r

    def add_input(self, t: torch.Tensor, name: str) -> TRef:
        r = TRef(name, _dims(t), ir_dtype(t.dtype))
        self.builder.add_input(r)
        self.names[t] = r
        return r

    def _convert(self, v: Any) -> Any:
        if isinstance(v, torch.Tensor):
            return self.ref(v)
        if isinstance(v, (list, tuple)):
            return [self._convert(x) for x in v]
        if isinstance(v, (torch.SymInt, torch.SymFloat, torch.SymBool)):
            try:
                return int(v) if isinstance(v, torch.SymInt) else float(v) if isinstance(v, torch.SymFloat) else bool(v)
            except (TypeError, ValueError, RuntimeError):
                return str(v)
        if isinstance(v, (torch.dtype, torch.device, torch.layout, torch.memory_format)):
            return str(v)
        return v

    # ---- aten calls --------------------------------------------------------------------------
    def record(self, func: Any, args: Sequence[Any], kwargs: dict[str, Any], out: Any) -> None:
        info = op_info(func)
        row = info.row
        if isinstance(out, torch.Tensor):
            out_tensors = [out]
        elif isinstance(out, (tuple, list)) and all(isinstance(t, torch.Tensor) or t is None for t in out):
            out_tensors = [t for t in out if t is not None]
        else:
            out_tensors = [t for t in pytree.tree_leaves(out) if isinstance(t, torch.Tensor)]
        if row is not None and not row.emits and not out_tensors:
            return  # a metadata query
        bound = bind(info, args, kwargs)
        call_args = {k: self._convert(v) for k, v in bound.items()}
        outs = tuple(self.fresh(t) for t in out_tensors)
        mutated = [bound[n] for n in info.writes if isinstance(bound.get(n), torch.Tensor)]
        inplace = bool(mutated) and bool(out_tensors)
        call = AtenCall(info.name, info.packet, info.overload, call_args, outs, inplace)
        self._translate(call, row.build if row is not None and row.emits else None, f"{info.namespace}::{info.packet}",
                        view=not inplace and info.view)
        for t, r in zip(out_tensors, outs, strict=True):
            if self.builder.is_defined(r.name):
                self.names[t] = r
        if inplace and self.builder.is_defined(outs[0].name):
            self.names[mutated[0]] = outs[0]  # later reads of the written tensor see the new value

    def _translate(self, call: AtenCall, build: Callable[[AtenCall, Builder], None] | None, fallback: str,
                   view: bool = False) -> None:
        b = self.builder
        b.scope = self.scopes[-1]
        b.source_op = call.op
        start = len(b.nodes)
        point = b.checkpoint()
        reason = ""
        if build is not None:
            try:
                build(call, b)
            except (TranslateError, ValueError, KeyError, IndexError, TypeError, ZeroDivisionError) as exc:
                b.rollback(point)
                reason = str(exc) or type(exc).__name__
                build = None
        if build is None:
            ins = [b.use(a) for a in _tensor_args(call.args)]
            b.node(fallback, ins, call.outs, reason=reason or None)
        missing = [o for o in call.outs if not b.is_defined(o.name)]
        if missing or ((call.inplace or view) and len(b.nodes) > start):
            self._amend_last(start, missing, call.inplace, view)

    def _amend_last(self, start: int, extra: list[TRef], inplace: bool, view: bool = False) -> None:
        """Attach outputs a translation left undefined (buffers such as a norm's saved mean) to
        its last node; mark an in-place op's last node ``inplace=1`` and a torch view op's
        ``view=1`` (its output aliases its input's storage)."""
        b = self.builder
        if len(b.nodes) == start:
            if not extra:
                return
            b.node("Identity", [], extra[:1])
            extra = extra[1:]
        last = b.nodes[-1]
        for r in extra:
            b.add_value(r)
        attrs = dict(last.attrs)
        if inplace:
            attrs["inplace"] = 1
        if view:
            attrs["view"] = 1
        b.nodes[-1] = Node(last.name, last.op, last.inputs, last.outputs + tuple(r.name for r in extra), attrs,
                           last.subgraphs, last.scope, last.source_op)

    # ---- calls caught before dispatch -----------------------------------------------------
    def sdpa(self, func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        names = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal", "scale", "enable_gqa")
        bound = dict(zip(names, args, strict=False))
        bound.update(kwargs)
        out = self._run_quiet("scaled_dot_product_attention", func, args, kwargs)
        q, k, v = (self.ref(bound[n]) for n in ("query", "key", "value"))
        mask_t = bound.get("attn_mask")
        mask = self.ref(mask_t) if isinstance(mask_t, torch.Tensor) else None
        if float(bound.get("dropout_p") or 0.0) > 0.0:
            self._notice("attention dropout (dropout_p > 0) is not counted: profile in eval mode")
        o = self.fresh(out)
        b = self.builder
        b.scope, b.source_op = self.scopes[-1], "torch.nn.functional.scaled_dot_product_attention"
        scale = bound.get("scale")
        attention_node(b, q, k, v, mask, bool(bound.get("is_causal")), None if scale is None else float(scale), [o])
        self.names[out] = o
        return out

    def higher_order(self, mode: Any, func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """A higher-order operator (``flex_attention``, ``cond``, ``while_loop``, ...), met with
        this trace's dispatch mode popped. ``flex_attention`` is counted like SDPA; any other runs
        unrecorded and becomes one *not counted* node named after it: never a failed profile."""
        name = str(getattr(func, "_name", func))
        if name == "flex_attention":
            return self._flex_attention(mode, func, args, kwargs)
        out = self._run_quiet(name, func, args, kwargs)
        out_tensors = [t for t in pytree.tree_leaves(out) if isinstance(t, torch.Tensor)]
        refs = tuple(self.fresh(t) for t in out_tensors)
        b = self.builder
        b.scope, b.source_op = self.scopes[-1], f"higher_order.{name}"
        ins = [b.use(self.ref(t)) for t in pytree.tree_leaves((list(args), kwargs)) if isinstance(t, torch.Tensor)]
        b.node(f"higher_order::{name}", ins, refs,
               reason="a higher-order operator edgeprof does not trace into: its work is not counted")
        for t, r in zip(out_tensors, refs, strict=True):
            self.names[t] = r
        return out

    def _flex_attention(self, mode: Any, func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        """``flex_attention`` as one ``Attention`` node (score and value matmuls, scale, softmax),
        with its mask_mod's and score_mod's arithmetic recorded on the full (B, H, Lq, Lk) score
        grid, as torch's own eager implementation applies them: the mask_mod's result is the
        Attention node's mask (one add per score), the score_mod reads the scores."""
        from torch.nn.attention import flex_attention as flex

        names = ("query", "key", "value", "score_mod", "block_mask", "scale", "kernel_options",
                 "score_mod_other_buffers", "mask_mod_other_buffers")
        bound = dict(zip(names, args, strict=False))
        bound.update(kwargs)
        out = self._run_quiet("flex_attention", func, args, kwargs)
        q_t, k_t, v_t = bound["query"], bound["key"], bound["value"]
        score_mod, block_mask = bound.get("score_mod"), bound.get("block_mask") or ()
        mask_mod = block_mask[-1] if block_mask else None
        score_bufs = tuple(bound.get("score_mod_other_buffers") or ())
        mask_bufs = tuple(bound.get("mask_mod_other_buffers") or ())
        batch, heads, q_len = (int(d) for d in q_t.shape[:3])
        k_len = int(k_t.shape[2])
        custom_mask = callable(mask_mod) and mask_mod is not getattr(flex, "noop_mask", None)
        custom_score = callable(score_mod) and score_mod is not getattr(flex, "_identity", None)
        mask_t: torch.Tensor | None = None
        idx: tuple[torch.Tensor, ...] = ()
        if custom_mask or custom_score:
            with mode:
                idx = tuple(torch.arange(n, device=q_t.device) for n in (batch, heads, q_len, k_len))
        if custom_mask and mask_mod is not None:
            with mode:
                mask_t = flex._vmap_for_bhqkv(mask_mod, prefix=(), suffix=(None,) * len(mask_bufs))(*idx, *mask_bufs)
        out_tensors = [t for t in pytree.tree_leaves(out) if isinstance(t, torch.Tensor)]
        outs = [self.fresh(t) for t in out_tensors]
        scores_t: torch.Tensor | None = None
        if custom_score:
            scores_t = q_t.new_empty((batch, heads, q_len, k_len), dtype=torch.float32)
            outs.append(self.fresh(scores_t))
        b = self.builder
        b.scope, b.source_op = self.scopes[-1], "torch.nn.attention.flex_attention"
        scale = bound.get("scale")
        mask = self.ref(mask_t) if isinstance(mask_t, torch.Tensor) else None
        attention_node(b, self.ref(q_t), self.ref(k_t), self.ref(v_t), mask, False,
                       None if scale is None else float(scale), outs)
        for t, r in zip([*out_tensors, *([scores_t] if scores_t is not None else [])], outs, strict=True):
            self.names[t] = r
        if scores_t is not None and score_mod is not None:
            from torch._dynamo._trace_wrapped_higher_order_op import TransformGetItemToIndex

            with mode, TransformGetItemToIndex():
                flex._vmap_for_bhqkv(score_mod, prefix=(0,), suffix=(None,) * len(score_bufs))(scores_t, *idx,
                                                                                                 *score_bufs)
        return out

    def rnn(self, kind: RnnKind, func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        if kwargs or len(args) != 9 or not isinstance(args[2], (list, tuple)):
            return func(*args, **kwargs)  # packed sequences: recorded op by op at dispatch
        x, hx, weights, has_bias, num_layers, dropout, train, bidirectional, batch_first = args
        if kind == "lstm":
            h0, c0 = hx
            if h0.shape[-1] != c0.shape[-1]:
                return func(*args, **kwargs)  # proj_size: no ONNX form, recorded op by op
        else:
            h0, c0 = hx, None
        out = self._run_quiet(kind, func, args, kwargs)
        out_tensors = [t for t in pytree.tree_leaves(out) if isinstance(t, torch.Tensor)]
        refs = tuple(self.fresh(t) for t in out_tensors)
        call = RnnCall(
            kind, self.ref(x), self.ref(h0), self.ref(c0) if c0 is not None else None,
            tuple(self.ref(w) for w in weights), bool(has_bias), int(num_layers), bool(bidirectional),
            bool(batch_first), refs,
        )
        if train and dropout and num_layers > 1:
            self._notice(f"{kind} dropout between layers (training mode) is not counted")
        b = self.builder
        b.scope, b.source_op = self.scopes[-1], f"torch.{kind}"
        point = b.checkpoint()
        try:
            emit_rnn(b, call)
        except (TranslateError, ValueError) as exc:
            b.rollback(point)
            ins = [b.use(a) for a in (call.x, call.h0, *call.weights)]
            b.node(f"aten::{kind}", ins, refs, reason=str(exc))
        for t, r in zip(out_tensors, refs, strict=True):
            self.names[t] = r
        return out

    def _run_quiet(self, name: str, func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        self.suppress += 1
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            self.note_failure(name, args, kwargs, exc)
            raise
        finally:
            self.suppress -= 1

    def note_failure(self, op: str, args: Sequence[Any], kwargs: dict[str, Any], exc: BaseException) -> None:
        if self.failure is None:
            shapes = ", ".join(
                "x".join(str(d) for d in t.shape) or "scalar"
                for t in pytree.tree_leaves((list(args), kwargs)) if isinstance(t, torch.Tensor)
            )
            self.failure = OpFailure(op, self.scopes[-1], shapes, exc)

    def _notice(self, text: str) -> None:
        if text not in self.notices:
            self.notices.append(text)

    # ---- module attribution --------------------------------------------------------------------
    def _pre_hook(self, module: torch.nn.Module, _args: Any) -> None:
        name = self.module_names.get(id(module))
        path = name if name is not None else self.scopes[-1]
        self.scopes.append(path)
        if name is not None:
            self.module_calls[path] = self.module_calls.get(path, 0) + 1

    def _post_hook(self, _module: torch.nn.Module, _args: Any, _out: Any) -> None:
        if len(self.scopes) > 1:
            self.scopes.pop()

    @contextlib.contextmanager
    def recording(self) -> Iterator[None]:
        """Record every aten call made inside; all hooks and modes are removed on exit."""
        from torch.nn.modules.module import register_module_forward_hook, register_module_forward_pre_hook

        pre = register_module_forward_pre_hook(self._pre_hook)
        try:
            post = register_module_forward_hook(self._post_hook, always_call=True)
            try:
                with _eager_flex_attention(), _Intercept(self), _Record(self):
                    yield
            finally:
                post.remove()
        finally:
            pre.remove()

    def graph(self, name: str, outputs: Any) -> Graph:
        out_names: list[str] = []
        for t in pytree.tree_leaves(outputs):
            if isinstance(t, torch.Tensor):
                r = self.ref(t)
                self.builder.use(r)
                if r.name not in out_names:
                    out_names.append(r.name)
        return self.builder.build(name, out_names)


@contextlib.contextmanager
def _eager_flex_attention() -> Iterator[None]:
    """Outside torch.compile, ``flex_attention`` wraps its higher-order op in a ``torch.compile``
    call, which a trace cannot go through; torch's own debug flag makes it call the op directly
    (restored on exit)."""
    try:
        from torch.nn.attention import flex_attention as flex
    except ImportError:  # pragma: no cover - torch without flex attention
        yield
        return
    before = getattr(flex, "_FLEX_ATTENTION_DISABLE_COMPILE_DEBUG", None)
    if before is None:
        yield
        return
    flex._FLEX_ATTENTION_DISABLE_COMPILE_DEBUG = True
    try:
        yield
    finally:
        flex._FLEX_ATTENTION_DISABLE_COMPILE_DEBUG = before


def _tensor_args(args: dict[str, Any]) -> list[TRef]:
    out: list[TRef] = []
    for v in args.values():
        if isinstance(v, TRef):
            out.append(v)
        elif isinstance(v, list):
            out.extend(x for x in v if isinstance(x, TRef))
    return out


class _Record(TorchDispatchMode):  # type: ignore[no-untyped-call]
    supports_higher_order_operators = True  # they come to __torch_dispatch__ (this mode popped)

    def __init__(self, tracer: Tracer) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.tracer = tracer

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if self.tracer.meta:
            if isinstance(func, HigherOrderOperator):
                raise LeaveMeta
            out = meta_call(self.tracer.meta_layouts, op_info(func), func, args, kwargs)
            if not self.tracer.suppress:
                self.tracer.record(func, args, kwargs, out)
            return out
        fargs, fkwargs = self.tracer.as_fake(args), self.tracer.as_fake(kwargs)
        if self.tracer.suppress:
            return func(*fargs, **fkwargs)
        if isinstance(func, HigherOrderOperator):
            return self.tracer.higher_order(self, func, fargs, fkwargs)
        try:
            out = func(*fargs, **fkwargs)
        except Exception as exc:
            self.tracer.note_failure(str(func), args, kwargs, exc)
            raise
        self.tracer.record(func, args, kwargs, out)
        return out


_RNN: dict[Any, RnnKind] = {torch.lstm: "lstm", torch.gru: "gru", torch.rnn_tanh: "rnn_tanh", torch.rnn_relu: "rnn_relu"}


class _Intercept(TorchFunctionMode):
    def __init__(self, tracer: Tracer) -> None:
        super().__init__()
        self.tracer = tracer

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if self.tracer.suppress:
            return func(*args, **kwargs)
        if func is F.scaled_dot_product_attention:
            return self.tracer.sdpa(func, args, kwargs)
        kind = _RNN.get(func)
        if kind is not None:
            return self.tracer.rnn(kind, func, args, kwargs)
        return func(*args, **kwargs)
