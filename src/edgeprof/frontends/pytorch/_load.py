"""PyTorch frontend: an ``nn.Module``, a ``"package.module:callable"`` that builds one, or a
``torch.export`` ``.pt2`` file -> the IR.

The forward runs once on fake tensors (``FakeTensorMode``: shapes and dtypes only, no storage),
under ``torch.no_grad()``, with every module temporarily in eval mode; the tracer
(``_trace``) records each aten call. A model whose parameters, buffers and inputs are all on the
meta device runs on those meta tensors instead (no fake twins to make), unless that run meets
something only a fake run handles; it is then redone on fake tensors. Weights are never copied or allocated, so a model
built under ``torch.device("meta")`` profiles exactly like the same model on the CPU.

Nothing is left behind on the model: the training flags are restored attribute by attribute,
the hooks and modes are removed in ``finally``, also when the forward raises. A forward that
reads tensor values (``.item()``, data-dependent shapes) cannot run on fake tensors; for a
model with real weights and real example inputs it is then run for real, once, on a copy of
its inputs, with its parameters, buffers and the RNG state restored afterwards.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import os
import re
import sys
import traceback
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch._subclasses.fake_tensor import FakeTensor, FakeTensorMode
from torch.utils import _pytree as pytree

from edgeprof.errors import EdgeprofError, ModelLoadError, ShapeError, UsageError
from edgeprof.frontends.base import CALLABLE_SPEC, LoadedModel, ShapeRequest
from edgeprof.frontends.pytorch._meta import LeaveMeta
from edgeprof.frontends.pytorch._trace import Tracer, ir_dtype
from edgeprof.ir import Graph
from edgeprof.report.model import InputSpec, ModelInfo

__all__ = ["CALLABLE_SPEC", "load_callable", "load_pt2", "load_torch", "trace_module"]


_INT_INPUT_NAMES = re.compile(r"(^|_)(ids|mask|positions?|indices|index|labels?|lengths?)$")

_OPTIONS = {"example_inputs", "input_dtypes", "eval_mode"}

_PLAIN_VALUES = (int, float, bool, complex, str, type(None), torch.dtype)


class TorchTrace:
    """A traced forward: the graph, its inputs as profiled, notices and module call counts."""

    def __init__(self, graph: Graph, inputs: tuple[InputSpec, ...], notices: tuple[str, ...],
                 module_calls: Mapping[str, int]) -> None:
        self.graph = graph
        self.inputs = inputs
        self.notices = notices
        self.module_calls = dict(module_calls)


# ---- public entry points ----------------------------------------------------------------------


def load_torch(model: Any, request: ShapeRequest | None = None, *, name: str | None = None,
               model_format: str = "torch", path: str = "", **options: Any) -> LoadedModel:
    """Trace ``model`` (an ``nn.Module``) at the request's input shapes or ``example_inputs``.

    Options: ``example_inputs`` (a tensor, a tuple of positional inputs or a dict of keyword
    inputs; real, meta or fake tensors), ``input_dtypes`` (dtype names by input name or in
    order, for ``input_shapes``; ids and masks default to int64, the rest to float32),
    ``eval_mode`` (default True: every module in eval mode during the trace, then restored)."""
    _check_options(options)
    traced = trace_module(model, request or ShapeRequest(), **options)
    info = ModelInfo(name=name or type(model).__name__, format=model_format, path=path,
                     file_bytes=os.path.getsize(path) if path and os.path.isfile(path) else None,
                     producer=f"torch {torch.__version__}")
    return LoadedModel(traced.graph, info, traced.inputs, traced.notices, traced.module_calls)


def _check_options(options: Mapping[str, Any]) -> None:
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise UsageError(f"unknown option(s) for a torch model: {', '.join(unknown)}")


@contextlib.contextmanager
def _cwd_importable() -> Iterator[None]:
    """The current directory on ``sys.path`` while the callable's module is imported, as
    ``python -m`` has it (the spec is the user's own code, named on the command line)."""
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        yield
    finally:
        if added and cwd in sys.path:
            sys.path.remove(cwd)


def load_callable(spec: str, request: ShapeRequest | None = None, **options: Any) -> LoadedModel:
    """Import ``"package.module:callable"``, call it with no arguments and trace the
    ``nn.Module`` it returns."""
    module_name, _, attr_path = spec.partition(":")
    try:
        with _cwd_importable():
            obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelLoadError(f"{spec}: cannot import module {module_name!r}: {exc}") from None
    except Exception as exc:  # the module's own code raised on import
        raise ModelLoadError(f"{spec}: importing {module_name!r} raised {type(exc).__name__}: {_line(exc)}") from None
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            raise ModelLoadError(f"{spec}: {module_name!r} has no attribute {attr_path!r}")
        obj = getattr(obj, part)
    if isinstance(obj, torch.nn.Module):
        model = obj
    elif callable(obj):
        try:
            model = obj()
        except Exception as exc:
            raise ModelLoadError(f"{spec}: calling it raised {type(exc).__name__}: {_line(exc)}") from None
    else:
        raise ModelLoadError(f"{spec}: {attr_path!r} is a {type(obj).__name__}, not a callable that builds a model")
    if not isinstance(model, torch.nn.Module):
        raise ModelLoadError(f"{spec}: returned a {type(model).__name__}, not a torch.nn.Module")
    return load_torch(model, request, name=spec, **options)


def load_pt2(path: str | os.PathLike[str], request: ShapeRequest | None = None, **options: Any) -> LoadedModel:
    """Load a ``torch.export`` program (``torch.export.save``) and trace its graph.

    The archive's tensors are read with ``weights_only`` unpickling only; an archive holding
    pickled Python objects (custom or opaque objects) is refused."""
    _check_options(options)
    p = Path(path)
    program = _safe_export_load(p)
    gm = program.module()
    request = request or ShapeRequest()
    shapes, dtypes = _placeholder_inputs(program)
    if options.get("example_inputs") is None and not request.inputs:
        dynamic = [i for i, s in enumerate(shapes) if any(isinstance(d, str) for d in s)]
        if dynamic:
            raise ShapeError(f"{p}: input {dynamic[0]} has dynamic dims {shapes[dynamic[0]]}; pass input shapes")
        request = ShapeRequest(tuple((None, tuple(int(d) for d in s)) for s in shapes), request.dims, request.values)
        options.setdefault("input_dtypes", dtypes)
    elif request.inputs:
        if len(request.inputs) != len(shapes):
            raise ShapeError(f"{p}: the program takes {len(shapes)} input(s), {len(request.inputs)} shape(s) given")
        for (_, given), recorded in zip(request.inputs, shapes, strict=True):
            fixed = [(i, d) for i, d in enumerate(recorded) if isinstance(d, int)]
            if len(given) != len(recorded) or any(given[i] != d for i, d in fixed):
                raise ShapeError(f"{p}: the program was exported for input shape {tuple(recorded)} and cannot take "
                                 f"{tuple(given)}; export it with dynamic_shapes to profile other shapes")
        options.setdefault("input_dtypes", dtypes)
    traced = trace_module(gm, request, _program=program, **options)
    info = ModelInfo(name=p.stem, format="torch-export", path=str(p), file_bytes=p.stat().st_size,
                     producer=f"torch {torch.__version__}")
    return LoadedModel(traced.graph, info, traced.inputs, traced.notices, traced.module_calls)


# ---- tracing --------------------------------------------------------------------------------


def trace_module(model: Any, request: ShapeRequest, *, example_inputs: Any = None,
                 input_dtypes: Mapping[str, str] | Sequence[str] | None = None, eval_mode: bool = True,
                 _program: Any = None, _extra_inputs: Sequence[tuple[str, torch.Tensor]] = ()) -> TorchTrace:
    """Run ``model``'s forward once on fake tensors and record it (see the module docstring)."""
    if not isinstance(model, torch.nn.Module):
        raise UsageError(f"expected a torch.nn.Module, got {type(model).__name__}")
    original = getattr(model, "_orig_mod", None)
    if type(model).__name__ == "OptimizedModule" and isinstance(original, torch.nn.Module):
        model = original  # torch.compile's wrapper: profile the module it compiles
    if isinstance(model, torch.jit.ScriptModule):
        raise ModelLoadError("TorchScript modules are not supported: pass the nn.Module (or export it to .pt2/.onnx)")
    if example_inputs is not None and request.inputs:
        raise UsageError("pass either example_inputs or input shapes, not both")
    if request.dims or request.values:
        raise UsageError("named dims and input values (--dim, --value) apply to ONNX models; give a torch model's "
                         "full input shapes (--input)")
    user_mode = _user_fake_mode(model, example_inputs)
    if user_mode is None and _program is None and _all_meta(model, example_inputs, _extra_inputs):
        try:
            return _trace(model, request, example_inputs, input_dtypes, eval_mode, None, None, _extra_inputs,
                          real=False, meta=True)
        except LeaveMeta:
            pass  # redone on fake tensors below
    try:
        return _trace(model, request, example_inputs, input_dtypes, eval_mode, _program, user_mode, _extra_inputs,
                      real=False)
    except _NeedsRealRun as need:
        if not _can_run_real(model, example_inputs):
            raise ModelLoadError(
                f"{type(model).__name__}.forward reads tensor values ({need.reason}), which a meta-device or "
                "fake-tensor run cannot provide: build the model on CPU and pass real example_inputs"
            ) from None
        traced = _trace(model, request, example_inputs, input_dtypes, eval_mode, _program, None, _extra_inputs,
                        real=True)
        note = f"the forward reads tensor values ({need.reason}): traced once with real tensors on the CPU"
        return TorchTrace(traced.graph, traced.inputs, (*traced.notices, note), traced.module_calls)


class _NeedsRealRun(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_DATA_DEPENDENT = {
    "DataDependentOutputException", "DynamicOutputShapeException", "UnsupportedOperatorException",
    "GuardOnDataDependentSymNode", "UnsupportedFakeTensorException",
}


def _trace(model: torch.nn.Module, request: ShapeRequest, example_inputs: Any, input_dtypes: Any, eval_mode: bool,
           program: Any, user_mode: FakeTensorMode | None, extra_inputs: Sequence[tuple[str, torch.Tensor]],
           real: bool, meta: bool = False) -> TorchTrace:
    module_names = {id(m): n for n, m in model.named_modules()}
    fake_mode: FakeTensorMode | None = None
    restore_allow: bool | None = None
    if not real and not meta:
        fake_mode = user_mode or FakeTensorMode(allow_non_fake_inputs=True)
        if user_mode is not None and not user_mode.allow_non_fake_inputs:
            restore_allow = user_mode.allow_non_fake_inputs
            user_mode.allow_non_fake_inputs = True
    tracer = Tracer(module_names, fake_mode, meta=meta)
    _register_weights(tracer, model)
    flags = [(m, m.training) for m in model.modules()]
    notices: list[str] = []
    was_training = model.training
    try:
        if eval_mode:
            for m, _ in flags:
                m.training = False
        guard = _real_run_guard(model) if real else contextlib.nullcontext()
        with guard, torch.inference_mode(False), torch.no_grad():
            with fake_mode if fake_mode is not None else contextlib.nullcontext():
                args, kwargs, specs = _make_inputs(model, request, example_inputs, input_dtypes, fake_mode, meta)
                _check_signature(model, args, kwargs)
                _register_inputs(tracer, model, args, kwargs)
                for label, t in extra_inputs:  # tensors held inside an input object (a KV cache)
                    tracer.add_input(t, label)
                    specs.append(InputSpec(label, tuple(int(d) for d in t.shape), ir_dtype(t.dtype).name, "example"))
                with tracer.recording():
                    if program is not None:
                        out = _run_program(tracer, model, args, kwargs)
                    else:
                        out = model(*args, **kwargs)
                graph = tracer.graph(type(model).__name__, out)
    except EdgeprofError:
        raise
    except Exception as exc:
        if meta:
            raise LeaveMeta from exc
        reason = _data_dependent(exc)
        if reason and not real:
            raise _NeedsRealRun(reason) from None
        raise _forward_error(exc, tracer, model) from None
    finally:
        for m, flag in flags:
            m.training = flag
        if restore_allow is not None and user_mode is not None:
            user_mode.allow_non_fake_inputs = restore_allow
    if eval_mode and was_training and program is None:
        notices.append("the model was in training mode: profiled in eval mode (its training flags are restored)")
    notices.extend(tracer.notices)
    unused = _unused_parameters(graph, model)
    if unused:
        notices.append(unused)
    return TorchTrace(graph, tuple(specs), tuple(notices), tracer.module_calls)


def _register_weights(tracer: Tracer, model: torch.nn.Module) -> None:
    """Every parameter and buffer once (tied weights share one entry); a real tensor that
    shares storage with an earlier one gets that one's storage key."""
    seen: set[int] = set()
    storage: dict[tuple[Any, ...], str] = {}
    for role, items in (("parameter", model.named_parameters(remove_duplicate=False)),
                        ("buffer", model.named_buffers(remove_duplicate=False))):
        for name, t in items:
            if t is None or id(t) in seen:
                continue
            seen.add(id(t))
            key = name
            if not isinstance(t, FakeTensor) and t.device.type != "meta" and t.numel() > 0:
                data = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), tuple(t.stride()),
                        t.dtype)
                key = storage.setdefault(data, name)
            tracer.add_weight(t, name, role, key)


def _unused_parameters(graph: Graph, model: torch.nn.Module) -> str:
    read = {i for n, _ in graph.iter_all_nodes() for i in n.inputs}
    unused = [w for w in graph.weights.values() if w.role == "parameter" and w.name not in read]
    if not unused:
        return ""
    elements = sum(w.numel for w in unused)
    names = ", ".join(w.name for w in unused[:3]) + (", ..." if len(unused) > 3 else "")
    return (f"{len(unused)} parameter tensor(s) ({elements:,} elements) are never used by forward at these "
            f"inputs ({names}); they are included in the parameter count")


# ---- inputs -----------------------------------------------------------------------------------


def _user_fake_mode(model: torch.nn.Module, example_inputs: Any) -> FakeTensorMode | None:
    for t in [*pytree.tree_leaves(example_inputs), *model.parameters(), *model.buffers()]:
        if isinstance(t, FakeTensor):
            return t.fake_mode
    return None


def _all_meta(model: torch.nn.Module, example_inputs: Any, extra_inputs: Sequence[tuple[str, torch.Tensor]]) -> bool:
    """Whether the trace can run on the model's own meta tensors (see the module docstring): its
    parameters, buffers and input tensors (at least one of them, and a weight when the inputs are
    made from shapes, on the weights' device) are all plain meta tensors, and the inputs hold
    nothing else but numbers and strings: an object such as a KV cache, which the forward may
    change, would be seen changed by a fake run redoing a meta run that stopped half-way."""
    if extra_inputs:
        return False
    weights = [*model.parameters(), *model.buffers()]
    leaves = pytree.tree_leaves(example_inputs)
    if not all(isinstance(v, (torch.Tensor, *_PLAIN_VALUES)) for v in leaves):
        return False
    tensors = [*weights, *(t for t in leaves if isinstance(t, torch.Tensor))]
    if not tensors or (example_inputs is None and not weights):
        return False
    return all(type(t) in (torch.Tensor, torch.nn.Parameter) and t.device.type == "meta" for t in tensors)


def _model_device(model: torch.nn.Module) -> torch.device:
    for t in [*model.parameters(), *model.buffers()]:
        if isinstance(t, FakeTensor):
            return t.fake_device
        return t.device
    return torch.device("cpu")


def _forward_params(model: torch.nn.Module) -> list[inspect.Parameter]:
    try:
        sig = inspect.signature(model.forward)
    except (TypeError, ValueError):
        return []
    return list(sig.parameters.values())


def _make_inputs(model: torch.nn.Module, request: ShapeRequest, example_inputs: Any, input_dtypes: Any,
                 fake_mode: FakeTensorMode | None,
                 meta: bool = False) -> tuple[tuple[Any, ...], dict[str, Any], list[InputSpec]]:
    real = fake_mode is None and not meta
    params = _forward_params(model)
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    specs: list[InputSpec] = []
    if example_inputs is not None:
        if isinstance(example_inputs, torch.Tensor):
            example_inputs = (example_inputs,)
        if isinstance(example_inputs, Mapping):
            args: tuple[Any, ...] = ()
            kwargs = {str(k): _prepare(v, fake_mode, meta) for k, v in example_inputs.items()}
        elif isinstance(example_inputs, (tuple, list)):
            args, kwargs = tuple(_prepare(v, fake_mode, meta) for v in example_inputs), {}
        else:
            raise UsageError(f"example_inputs must be a tensor, a tuple or a dict, not {type(example_inputs).__name__}")
        for i, v in enumerate(args):
            specs.extend(_specs(_arg_name(positional, i), v, "example"))
        for k, v in kwargs.items():
            specs.extend(_specs(k, v, "example"))
        return args, kwargs, specs
    if not request.inputs:
        raise ShapeError(
            f"{type(model).__name__} needs input shapes: pass example_inputs=(tensor, ...) or "
            "input_shapes=[(1, 3, 224, 224)] (CLI: --input 1x3x224x224)"
        )
    device = _model_device(model)
    accepts = {p.name for p in params}
    var_kw = any(p.kind == p.VAR_KEYWORD for p in params)
    args_l: list[Any] = []
    kwargs = {}
    for i, (name, shape) in enumerate(request.inputs):
        if name is None:
            if kwargs:
                raise UsageError("unnamed input shapes must come before named ones")
            arg_name = _arg_name(positional, len(args_l))
        else:
            if name not in accepts and not var_kw:
                raise ShapeError(f"{type(model).__name__}.forward has no input named {name!r}; it takes "
                                 f"({', '.join(p.name for p in params)})")
            arg_name = name
        dtype = _input_dtype(arg_name, i, input_dtypes)
        t = _new_input(shape, dtype, device, real)
        if name is None:
            args_l.append(t)
        else:
            kwargs[name] = t
        specs.append(InputSpec(arg_name, tuple(shape), ir_dtype(dtype).name, "flag"))
    return tuple(args_l), kwargs, specs


def _arg_name(positional: list[str], i: int) -> str:
    return positional[i] if i < len(positional) else f"input_{i}"


def _input_dtype(name: str, index: int, input_dtypes: Any) -> torch.dtype:
    chosen: Any = None
    if isinstance(input_dtypes, Mapping):
        chosen = input_dtypes.get(name)
    elif isinstance(input_dtypes, (list, tuple)) and index < len(input_dtypes):
        chosen = input_dtypes[index]
    elif isinstance(input_dtypes, str):
        chosen = input_dtypes
    if chosen is None:
        return torch.int64 if _INT_INPUT_NAMES.search(name) else torch.get_default_dtype()
    if isinstance(chosen, torch.dtype):
        return chosen
    dt = getattr(torch, str(chosen), None)
    if not isinstance(dt, torch.dtype):
        raise UsageError(f"unknown dtype {chosen!r} for input {name!r}")
    return dt


def _new_input(shape: Sequence[int], dtype: torch.dtype, device: torch.device, real: bool) -> torch.Tensor:
    if not real:
        return torch.empty(tuple(shape), dtype=dtype, device=device)
    if dtype.is_floating_point:
        gen = torch.Generator().manual_seed(0)
        return torch.randn(tuple(shape), generator=gen).to(dtype=dtype, device=device)
    return torch.zeros(tuple(shape), dtype=dtype, device=device)


def _prepare(v: Any, fake_mode: FakeTensorMode | None, meta: bool = False) -> Any:
    """A user's example input as the trace uses it: a fake tensor (or, for a real run, a copy; for
    a meta run, a new meta tensor of the same layout, as its fake twin would be)."""

    def conv(t: Any) -> Any:
        if not isinstance(t, torch.Tensor):
            return t
        if meta:
            alias = t.detach()
            return alias.requires_grad_() if t.requires_grad else alias
        if fake_mode is None:
            return t.detach().clone()
        if isinstance(t, FakeTensor):
            return t
        return fake_mode.from_tensor(t)

    return pytree.tree_map(conv, v)


def _specs(name: str, v: Any, source: str) -> list[InputSpec]:
    leaves = [t for t in pytree.tree_leaves(v) if isinstance(t, torch.Tensor)]
    return [InputSpec(name if len(leaves) == 1 else f"{name}.{i}", tuple(int(d) for d in t.shape),
                      ir_dtype(t.dtype).name, source) for i, t in enumerate(leaves)]  # type: ignore[arg-type]


def _register_inputs(tracer: Tracer, model: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    positional = [p.name for p in _forward_params(model) if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    taken = set(tracer.builder.weights)
    items = [(_arg_name(positional, i), v) for i, v in enumerate(args)] + list(kwargs.items())
    for name, v in items:
        leaves = [t for t in pytree.tree_leaves(v) if isinstance(t, torch.Tensor)]
        for i, t in enumerate(leaves):
            label = name if len(leaves) == 1 else f"{name}.{i}"
            if label in taken:
                label = f"input:{label}"
            if tracer.names.get(t) is None:  # type: ignore[no-untyped-call]
                tracer.add_input(t, label)


def _check_signature(model: torch.nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        sig = inspect.signature(model.forward)
    except (TypeError, ValueError):
        return
    try:
        sig.bind(*args, **kwargs)
    except TypeError as exc:
        raise ShapeError(f"{type(model).__name__}.forward{_short_sig(sig)} cannot take the given inputs: {exc}") from None


def _short_sig(sig: inspect.Signature) -> str:
    return "(" + ", ".join(p.name for p in sig.parameters.values()) + ")"


# ---- real runs, exported programs -------------------------------------------------------------


def _can_run_real(model: torch.nn.Module, example_inputs: Any) -> bool:
    tensors = [*model.parameters(), *model.buffers(), *pytree.tree_leaves(example_inputs)]
    return not any(isinstance(t, torch.Tensor) and (isinstance(t, FakeTensor) or t.device.type == "meta")
                   for t in tensors)


@contextlib.contextmanager
def _real_run_guard(model: torch.nn.Module) -> Iterator[None]:
    """Restore parameters, buffers and the RNG state after a real run."""
    saved = {id(t): (t, t.detach().clone()) for t in [*model.parameters(), *model.buffers()]}
    rng = torch.random.get_rng_state()
    try:
        yield
    finally:
        torch.random.set_rng_state(rng)
        with torch.no_grad():
            for t, copy in saved.values():
                if t.shape == copy.shape:
                    t.copy_(copy)


def _run_program(tracer: Tracer, gm: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Run an exported program's graph node by node, attributing each node to the module path
    torch.export recorded for it (``nn_module_stack``)."""

    import torch.nn.functional as F

    # Ops torch.export keeps whole: call them through their Python binding so that the tracer
    # catches them before dispatch (one Attention / LSTM node, whichever kernel would run).
    whole = {
        torch.ops.aten.scaled_dot_product_attention.default: F.scaled_dot_product_attention,
        torch.ops.aten.lstm.input: torch.lstm,
        torch.ops.aten.gru.input: torch.gru,
        torch.ops.aten.rnn_tanh.input: torch.rnn_tanh,
        torch.ops.aten.rnn_relu.input: torch.rnn_relu,
    }

    class Scoped(torch.fx.Interpreter):
        def run_node(self, n: torch.fx.Node) -> Any:
            stack = n.meta.get("nn_module_stack") or {}
            path = str(list(stack.values())[-1][0]) if stack else ""
            tracer.scopes.append(path)
            try:
                return super().run_node(n)
            finally:
                tracer.scopes.pop()

        def call_function(self, target: Any, args: Any, kwargs: Any) -> Any:
            return super().call_function(whole.get(target, target), args, kwargs)

    flat = [t for t in pytree.tree_leaves((args, kwargs))]
    out = Scoped(gm).run(*flat)
    out_spec = getattr(gm, "_out_spec", None)
    if out_spec is not None:
        return pytree.tree_unflatten(list(out) if isinstance(out, (list, tuple)) else [out], out_spec)
    return out


def _safe_export_load(path: Path) -> Any:
    """The exported program in ``path``, read by edgeprof's own archive reader (no pickles, no
    compiled code, nothing extracted): see :mod:`edgeprof.frontends.pytorch._pt2`."""
    from edgeprof.frontends.pytorch._pt2 import read_exported_program

    return read_exported_program(path)


def _placeholder_inputs(program: Any) -> tuple[list[tuple[int | str, ...]], list[torch.dtype]]:
    """The shapes (a dynamic dim as its symbol's name) and dtypes of the program's user inputs."""
    user = set(program.graph_signature.user_inputs)
    shapes: list[tuple[int | str, ...]] = []
    dtypes: list[torch.dtype] = []
    for node in program.graph.nodes:
        if node.op == "placeholder" and node.name in user:
            v = node.meta.get("val")
            if not isinstance(v, torch.Tensor):
                raise ShapeError(f"exported program input {node.name!r} is not a tensor")
            dims: list[int | str] = []
            for d in v.shape:
                dims.append(str(d) if isinstance(d, torch.SymInt) else int(d))
            shapes.append(tuple(dims))
            dtypes.append(v.dtype)
    return shapes, dtypes


# ---- errors ---------------------------------------------------------------------------------


def _line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    return first if len(first) <= 300 else first[:297] + "..."


def _data_dependent(exc: BaseException) -> str:
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if type(e).__name__ in _DATA_DEPENDENT:
            return f"{type(e).__name__}: {_line(e)}"
        msg = str(e)
        if "meta tensors" in msg and ("item()" in msg or "data" in msg):
            return _line(e)
        e = e.__cause__ or e.__context__
    return ""


def _raising_module(exc: BaseException, module_names: Mapping[int, str]) -> str | None:
    """The innermost module of the model on the traceback (the module whose code raised)."""
    found: str | None = None
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        obj = frame.f_locals.get("self")
        if isinstance(obj, torch.nn.Module) and id(obj) in module_names:
            found = module_names[id(obj)]
    return found


def _forward_error(exc: BaseException, tracer: Tracer, model: torch.nn.Module) -> EdgeprofError:
    classes = {n: type(m).__name__ for n, m in model.named_modules()}
    model_name = type(model).__name__
    f = tracer.failure
    if f is not None and (f.error is exc or f.error is exc.__cause__ or f.error is exc.__context__):
        where = f"module {f.scope!r} ({classes.get(f.scope, '?')})" if f.scope else f"{model_name}.forward"
        op = f.op.replace("aten.", "aten::", 1) if f.op.startswith("aten.") else f.op
        return ShapeError(f"{where} failed in {op} with input shapes [{f.shapes}]: {_line(f.error)}")
    scope = _raising_module(exc, tracer.module_names)
    where = f"in module {scope!r} ({classes.get(scope, '?')})" if scope else f"in {model_name}.forward"
    return ModelLoadError(f"{model_name}.forward raised {type(exc).__name__} {where}: {_line(exc)}")
