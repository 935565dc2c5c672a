"""ONNX TypeProtos <-> the frontends' tensor types (:class:`~edgeprof.frontends.common.TType`),
and the named dims of an ONNX model."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from edgeprof.frontends.common import TDim, TType
from edgeprof.frontends.onnx_proto import GraphProto, TypeProto

ANONYMOUS_DIMS = frozenset({"", "?", "-1", "*", "None", "none", "null", "dynamic", "unk"})
"""``dim_param`` values exporters write for a dim they know nothing about (Paddle2ONNX ``?``;
others ``""``, ``-1``, ...): each is its own unknown, never a name that ties dims together."""


def is_anonymous(dim_param: str) -> bool:
    return dim_param.strip() in ANONYMOUS_DIMS


def parse_type(tp: TypeProto, keep_symbol: Callable[[str], bool] = lambda _s: True) -> TType | None:
    """The :class:`TType` of an ONNX TypeProto (None when it holds nothing). A ``dim_param``
    that ``keep_symbol`` refuses (ONNX's own ``unk__N`` names) or an anonymous one (``?``, see
    :data:`ANONYMOUS_DIMS`) becomes an unknown dim."""
    kind = tp.WhichOneof("value")
    if kind == "tensor_type" or kind == "sparse_tensor_type":
        tt = tp.tensor_type if kind == "tensor_type" else tp.sparse_tensor_type
        if not tt.HasField("shape"):
            return TType(tt.elem_type, None)
        dims: list[TDim] = []
        for d in tt.shape.dim:
            which = d.WhichOneof("value")
            if which == "dim_value":
                v = d.dim_value
                dims.append(v if v >= 0 else None)
            elif which == "dim_param":
                s = d.dim_param
                dims.append(s if not is_anonymous(s) and keep_symbol(s) else None)
            else:
                dims.append(None)
        return TType(tt.elem_type, tuple(dims))
    if kind == "sequence_type":
        inner = parse_type(tp.sequence_type.elem_type, keep_symbol)
        return TType(inner.elem if inner else 0, None, is_tensor=False)
    if kind == "optional_type":
        inner = parse_type(tp.optional_type.elem_type, keep_symbol)
        if inner is None:
            return None
        return TType(inner.elem, inner.dims if inner.is_tensor else None, is_tensor=False)
    if kind == "map_type":
        inner = parse_type(tp.map_type.value_type, keep_symbol)
        return TType(inner.elem if inner else 0, None, is_tensor=False)
    return None


def write_tensor_type(t: TType, tp: TypeProto) -> None:
    """Overwrite ``tp`` with the tensor type ``t`` (unknown dims left empty)."""
    tp.Clear()
    tt = tp.tensor_type
    tt.elem_type = t.elem
    if t.dims is None:
        return
    shape = tt.shape
    shape.SetInParent()
    for d in t.dims:
        dim = shape.dim.add()
        if isinstance(d, int):
            dim.dim_value = d
        elif isinstance(d, str):
            dim.dim_param = d


def merge(primary: TType | None, fallback: TType | None) -> TType | None:
    """``primary`` with its unknowns filled from ``fallback`` (when both have the same rank)."""
    if primary is None:
        return fallback
    if fallback is None:
        return primary
    if primary.dims is None:
        return TType(primary.elem or fallback.elem, fallback.dims, primary.is_tensor)
    if fallback.dims is None or len(primary.dims) != len(fallback.dims):
        return primary  # a fallback of another rank is stale: the primary knows the rank
    dims: list[TDim] = []
    for a, b in zip(primary.dims, fallback.dims, strict=True):
        if isinstance(a, int):
            dims.append(a)
        elif isinstance(b, int):
            dims.append(b)
        else:
            dims.append(a if a is not None else b)
    return TType(primary.elem or fallback.elem, tuple(dims), primary.is_tensor)


def symbols_of(graphs: Iterable[GraphProto]) -> set[str]:
    """Every ``dim_param`` the graphs name (inputs, outputs, value_info); anonymous ones are no names."""
    found: set[str] = set()

    def from_type(tp: TypeProto) -> None:
        kind = tp.WhichOneof("value")
        if kind in ("tensor_type", "sparse_tensor_type"):
            tt = tp.tensor_type if kind == "tensor_type" else tp.sparse_tensor_type
            found.update(d.dim_param for d in tt.shape.dim if d.HasField("dim_param") and not is_anonymous(d.dim_param))
        elif kind == "sequence_type":
            from_type(tp.sequence_type.elem_type)
        elif kind == "optional_type":
            from_type(tp.optional_type.elem_type)
        elif kind == "map_type":
            from_type(tp.map_type.value_type)

    for g in graphs:
        for vi in (*g.input, *g.output, *g.value_info):
            from_type(vi.type)
    return found


def substitute(graphs: Iterable[GraphProto], sizes: dict[str, int]) -> None:
    """Replace every ``dim_param`` in ``sizes`` by its value, in every graph's inputs, outputs and
    value_info (ONNX gives one name one size across the model)."""
    if not sizes:
        return

    def fix(tp: TypeProto) -> None:
        kind = tp.WhichOneof("value")
        if kind in ("tensor_type", "sparse_tensor_type"):
            tt = tp.tensor_type if kind == "tensor_type" else tp.sparse_tensor_type
            for d in tt.shape.dim:
                if d.HasField("dim_param") and d.dim_param in sizes:
                    d.dim_value = sizes[d.dim_param]
        elif kind == "sequence_type":
            fix(tp.sequence_type.elem_type)
        elif kind == "optional_type":
            fix(tp.optional_type.elem_type)

    for g in graphs:
        for vi in (*g.input, *g.output, *g.value_info):
            fix(vi.type)
