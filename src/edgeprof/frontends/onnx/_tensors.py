"""ONNX tensors as the ONNX frontend sees them: element types, header dims, small values.

Large payloads are never read here: dims and element types come from the TensorProto header.
Values are decoded only for small tensors (shape operands, axes, scalars).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from math import prod

import numpy as np

from edgeprof.frontends.common import dtype_of
from edgeprof.frontends.onnx_proto import (
    AttributeProto,
    GraphProto,
    ModelProto,
    NodeProto,
    SparseTensorProto,
    TensorProto,
    make_tensor,
    np_dtype_to_tensor_dtype,
    to_array,
)

SMALL_VALUES = 4096  # elements: a weight keeps its values (for shape math) up to this size


def as_text(value: str | bytes) -> str:
    """A string field as text: protobuf returns ``bytes`` when the file's bytes are not UTF-8."""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def elem_type_of(arr: np.ndarray) -> int | None:
    """The ONNX element type of a numpy array, or None."""
    try:
        return int(np_dtype_to_tensor_dtype(arr.dtype))
    except (KeyError, TypeError, ValueError):
        return None


def tensor_dims(t: TensorProto) -> tuple[int, ...]:
    """The header dims of a tensor; ValueError on a negative dim."""
    dims = tuple(int(d) for d in t.dims)
    for d in dims:
        if d < 0:
            raise ValueError(f"tensor {t.name!r} has a negative dim ({d})")
    return dims


def tensor_numel(t: TensorProto) -> int:
    return prod(tensor_dims(t))


def is_external(t: TensorProto) -> bool:
    return t.data_location == TensorProto.EXTERNAL


def tensor_nbytes(t: TensorProto) -> int:
    """Bytes the dense payload of ``t`` takes (sub-byte types packed)."""
    return dtype_of(t.data_type).nbytes_for(tensor_numel(t))


def check_payload(t: TensorProto, what: str) -> None:
    """A consistency check of a small inline tensor (one whose values may be read): its
    raw_data must hold the bytes its dims say. Large payloads are not touched (reading their
    length would copy them); their header is all the frontend uses."""
    if is_external(t) or t.data_type == TensorProto.STRING or tensor_numel(t) > SMALL_VALUES:
        return
    if t.HasField("raw_data"):
        need = tensor_nbytes(t)
        have = len(t.raw_data)
        if have < need:
            raise ValueError(f"{what} holds fewer bytes ({have}) than its shape {list(t.dims)} needs ({need})")


def tensor_array(t: TensorProto, payload: bytes | None = None) -> np.ndarray:
    """The values of a (small) tensor as a numpy array. ``payload`` is the raw bytes of an
    external tensor (read by the caller from inside the model's folder). An external tensor
    without it is refused: onnx would open its ``location`` relative to the current folder."""
    if payload is None and is_external(t):
        raise ValueError(f"tensor {as_text(t.name)!r} is stored externally; its bytes were not read")
    if payload is not None:
        inline = TensorProto()
        inline.data_type = t.data_type
        inline.dims.extend(t.dims)
        inline.name = t.name
        inline.raw_data = payload
        t = inline
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return to_array(t)
    except (KeyError, IndexError, AttributeError, RuntimeError, TypeError, ValueError) as exc:
        raise ValueError(f"tensor {as_text(t.name)!r} cannot be decoded ({type(exc).__name__}: {exc})") from None


def array_values(arr: np.ndarray) -> tuple[float | int, ...] | None:
    """A flat tuple of Python numbers, or None when the elements are not numbers."""
    flat = arr.reshape(-1)
    kind = flat.dtype.kind
    try:
        if kind == "b":
            return tuple(int(x) for x in flat.tolist())
        if kind in "iu":
            return tuple(int(x) for x in flat.tolist())
        if kind == "f":
            return tuple(float(x) for x in flat.tolist())
        if kind == "c" or kind in "OSU":
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            as_float = flat.astype(np.float64)
        return tuple(float(x) for x in as_float.tolist())
    except (TypeError, ValueError):
        return None


# ---- Constant nodes and tensor-valued attributes ---------------------------------------------

CONSTANT_VALUE_ATTRS = (
    "value", "sparse_value", "value_float", "value_floats", "value_int", "value_ints", "value_string",
    "value_strings",
)


def constant_tensor(node: NodeProto) -> TensorProto | SparseTensorProto:
    """The tensor a ``Constant`` node produces, whichever ``value*`` attribute holds it.
    ValueError when the node has none (or several)."""
    found = [a for a in node.attribute if a.name in CONSTANT_VALUE_ATTRS]
    if len(found) != 1:
        raise ValueError(f"Constant node {node.name or node.output[0]!r} must have exactly one value attribute")
    a = found[0]
    name = node.output[0] if node.output else ""
    if a.name == "value":
        tensor: TensorProto = a.t
        return tensor
    if a.name == "sparse_value":
        sparse: SparseTensorProto = a.sparse_tensor
        return sparse
    if a.name == "value_float":
        return make_tensor(name, TensorProto.FLOAT, [], [a.f])
    if a.name == "value_floats":
        return make_tensor(name, TensorProto.FLOAT, [len(a.floats)], list(a.floats))
    if a.name == "value_int":
        return make_tensor(name, TensorProto.INT64, [], [a.i])
    if a.name == "value_ints":
        return make_tensor(name, TensorProto.INT64, [len(a.ints)], list(a.ints))
    if a.name == "value_string":
        return make_tensor(name, TensorProto.STRING, [], [a.s])
    return make_tensor(name, TensorProto.STRING, [len(a.strings)], list(a.strings))


def sparse_dense_array(s: SparseTensorProto, numel_limit: int = SMALL_VALUES) -> np.ndarray | None:
    """The dense values of a small sparse tensor (None above ``numel_limit`` or when external)."""
    dims = tuple(int(d) for d in s.dims)
    if any(d < 0 for d in dims) or prod(dims) > numel_limit or is_external(s.values) or is_external(s.indices):
        return None
    vals = tensor_array(s.values).reshape(-1)
    idx = tensor_array(s.indices).astype(np.int64)
    dense = np.zeros(prod(dims), dtype=vals.dtype)
    if vals.size:
        flat = idx.reshape(-1) if idx.ndim == 1 else np.ravel_multi_index(tuple(idx.T), dims)
        dense[flat] = vals
    return dense.reshape(dims)


def _node_tensors(nodes: Iterable[NodeProto], graphs: list[GraphProto]) -> Iterator[tuple[TensorProto, str]]:
    for n in nodes:
        if not n.attribute:
            continue
        where = f"node {n.name or n.op_type!r}"
        for a in n.attribute:
            if a.type == AttributeProto.TENSOR:
                yield a.t, f"tensor attribute {a.name!r} of {where}"
            elif a.type == AttributeProto.TENSORS:
                for t in a.tensors:
                    yield t, f"tensor attribute {a.name!r} of {where}"
            elif a.type == AttributeProto.SPARSE_TENSOR:
                yield a.sparse_tensor.values, f"sparse attribute {a.name!r} of {where}"
                yield a.sparse_tensor.indices, f"sparse attribute {a.name!r} of {where}"
            elif a.type == AttributeProto.GRAPH:
                graphs.append(a.g)
            elif a.type == AttributeProto.GRAPHS:
                graphs.extend(a.graphs)


def iter_graph_tensors(graph: GraphProto, initializers: bool = True) -> Iterator[tuple[TensorProto, str]]:
    """Every TensorProto stored in a graph and its subgraphs (references, not copies), with a
    description for messages: initializers, sparse initializers' parts, tensor attributes.
    ``initializers=False`` skips the top graph's own (sparse) initializers."""
    stack = [graph]
    top = True
    while stack:
        g = stack.pop()
        if initializers or not top:
            for t in g.initializer:
                yield t, f"initializer {t.name!r}"
            for s in g.sparse_initializer:
                yield s.values, f"sparse initializer {s.values.name!r}"
                yield s.indices, f"sparse initializer {s.values.name!r} (indices)"
        top = False
        yield from _node_tensors(g.node, stack)


def iter_model_tensors(model: ModelProto, initializers: bool = True) -> Iterator[tuple[TensorProto, str]]:
    """Every TensorProto of a model: graphs, subgraphs and model-local function bodies."""
    yield from iter_graph_tensors(model.graph, initializers)
    for f in model.functions:
        stack: list[GraphProto] = []
        yield from _node_tensors(f.node, stack)
        for g in stack:
            yield from iter_graph_tensors(g)
