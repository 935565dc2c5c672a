"""The frontend's working copy of a model: the structure without the large payloads.

The user's model is never modified. The working copy holds every node, input, output and
value_info, the small initializers with their values (inline or read from checked external
data) and, for each large initializer, only its header (a typed graph input). It is what the
inliner and ONNX shape inference run on, so a 100 MB model costs them what its structure costs.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgeprof.errors import ModelLoadError
from edgeprof.frontends.onnx._safety import ExternalData
from edgeprof.frontends.onnx._scope import SCOPE_KEY, inlined_scopes
from edgeprof.frontends.onnx._tensors import (
    SMALL_VALUES,
    as_text,
    check_payload,
    is_external,
    iter_model_tensors,
    tensor_dims,
)
from edgeprof.frontends.onnx_proto import ModelProto, TensorProto, ValueInfoProto, inline_local_functions


@dataclass(frozen=True)
class WorkModel:
    """The working copy and what it was built from. ``weight_names``: the main graph's
    (sparse) initializers; ``user_inputs``: the main graph inputs that are not initializers."""

    model: ModelProto
    weight_names: frozenset[str]
    user_inputs: tuple[str, ...]


def build_work_model(model: ModelProto, ext: ExternalData, label: str) -> WorkModel:
    """Copy the structure of ``model``, inline its local functions. ModelLoadError on a tensor
    header or payload that cannot be right."""
    work = ModelProto()
    work.ir_version = model.ir_version
    work.opset_import.extend(model.opset_import)
    work.producer_name = as_text(model.producer_name)
    work.producer_version = as_text(model.producer_version)
    work.domain = as_text(model.domain)
    work.model_version = model.model_version
    work.functions.extend(model.functions)
    src, g = model.graph, work.graph
    g.name = as_text(src.name)
    g.node.extend(src.node)
    weight_names: set[str] = set()
    headers: list[ValueInfoProto] = []
    for t in src.initializer:
        weight_names.add(t.name)
        _check_header(t, f"initializer {t.name!r}", label)
        if _small(t):
            payload = ext.read(t) if is_external(t) else None
            if not is_external(t):
                g.initializer.append(t)
                continue
            if payload is not None:
                inline = g.initializer.add()
                _inline_copy(t, payload, inline)
                continue
        headers.append(_header_input(t.name, t.data_type, tensor_dims(t)))
    for s in src.sparse_initializer:
        weight_names.add(s.values.name)
        dims = tuple(int(d) for d in s.dims)
        if any(d < 0 for d in dims):
            raise ModelLoadError(f"{label}: sparse initializer {s.values.name!r} has a negative dim")
        headers.append(_header_input(s.values.name, s.values.data_type, dims))
    user_inputs = []
    for vi in src.input:
        if vi.name in weight_names:
            continue
        g.input.append(vi)
        user_inputs.append(vi.name)
    g.input.extend(headers)
    g.output.extend(src.output)
    g.value_info.extend(src.value_info)
    _inline_small_external(work, ext, label)
    for t, what in iter_model_tensors(work, initializers=False):
        _check_header(t, what, label)
    if work.functions:
        work = _inline(work, label)
    return WorkModel(work, frozenset(weight_names), tuple(user_inputs))


def _small(t: TensorProto) -> bool:
    n = 1
    for d in t.dims:
        n *= int(d)
    return n <= SMALL_VALUES


def _check_header(t: TensorProto, what: str, label: str) -> None:
    try:
        tensor_dims(t)
        check_payload(t, what)
    except ValueError as exc:
        raise ModelLoadError(f"{label}: {exc}") from None


def _header_input(name: str, elem_type: int, dims: tuple[int, ...]) -> ValueInfoProto:
    vi = ValueInfoProto()
    vi.name = name
    tt = vi.type.tensor_type
    tt.elem_type = elem_type
    shape = tt.shape
    shape.SetInParent()
    for d in dims:
        shape.dim.add().dim_value = d
    return vi


def _inline_copy(t: TensorProto, payload: bytes, into: TensorProto) -> None:
    into.name = as_text(t.name)  # protobuf hands back bytes for a name that is not UTF-8
    into.data_type = t.data_type
    into.dims.extend(t.dims)
    into.raw_data = payload


def _inline_small_external(work: ModelProto, ext: ExternalData, label: str) -> None:
    """Small external tensors inside nodes and subgraphs get their bytes inline (shape math may
    need them); large ones keep only their header."""
    for t, _ in iter_model_tensors(work, initializers=False):
        if not is_external(t) or not _small(t):
            continue
        payload = ext.read(t)
        if payload is None:
            continue
        t.ClearField("external_data")
        t.data_location = TensorProto.DEFAULT
        t.raw_data = payload


def _inline(work: ModelProto, label: str) -> ModelProto:
    """Inline model-local functions; nodes from a function body get their call site's scope."""
    functions = {(f.domain, f.name): f for f in work.functions}
    scopes = inlined_scopes(list(work.graph.node), functions)
    try:
        inlined = inline_local_functions(work, convert_version=True)
    except Exception:  # the version converter refuses some functions: inline them as written
        try:
            inlined = inline_local_functions(work, convert_version=False)
        except Exception as exc:
            raise ModelLoadError(f"{label}: cannot inline the model-local functions ({exc})") from None
    if len(scopes) == len(inlined.graph.node):
        for node, (scope, from_body) in zip(inlined.graph.node, scopes, strict=True):
            if from_body:
                prop = node.metadata_props.add()
                prop.key = SCOPE_KEY
                prop.value = scope
    return inlined
