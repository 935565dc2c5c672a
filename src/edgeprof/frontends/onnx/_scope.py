"""Module paths (``layer1.0.conv1``) of ONNX nodes, where the exporter recorded them.

* torch's dynamo exporter writes ``metadata_props`` on every node:
  ``pkg.torch.onnx.name_scopes`` is a Python list literal such as
  ``['', 'layer1', 'layer1.0', 'layer1.0.conv1', 'conv2d_1']`` (module paths, then the FX node),
  and ``namespace`` the same path as ``': Net/layer1: Sequential/.../conv2d_1: aten.conv2d.default'``;
* the TorchScript exporter names nodes ``/layer1/layer1.0/conv1/Conv``: one segment per module,
  each the module's name from its last non-numeric attribute on (``layer1.0`` is child ``0`` of
  ``layer1``), then the op;
* nodes inlined from a model-local function (``export_modules_as_functions``) take the scope
  of their call site (see :func:`inlined_scopes`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping, Sequence

from edgeprof.frontends.onnx_proto import FunctionProto, NodeProto

SCOPE_KEY = "edgeprof.scope"  # set by the frontend on its working copy only
_NAME_SCOPES = "pkg.torch.onnx.name_scopes"
_NAMESPACE = "namespace"


def node_scope(node: NodeProto) -> str:
    """The module path of ``node``: from exporter metadata, else from a ``/a/b/Op`` name."""
    if node.metadata_props:
        props = {p.key: p.value for p in node.metadata_props}
        if SCOPE_KEY in props:
            return str(props[SCOPE_KEY])
        found = scope_from_metadata(props)
        if found is not None:
            return found
    return scope_from_name(node.name)


def scope_from_metadata(props: Mapping[str, str]) -> str | None:
    """The module path from torch dynamo metadata, or None when there is none."""
    raw = props.get(_NAME_SCOPES)
    if raw:
        try:
            scopes = ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            scopes = None
        if isinstance(scopes, (list, tuple)) and all(isinstance(s, str) for s in scopes):
            # The last entry is the FX node itself; the one before it is the innermost module.
            return str(scopes[-2]) if len(scopes) >= 2 else ""
    ns = props.get(_NAMESPACE)
    if ns:
        parts = [p.split(":", 1)[0].strip() for p in ns.split("/")]
        return parts[-2] if len(parts) >= 2 else ""
    return None


def scope_from_name(name: str) -> str:
    """``/layer1/layer1.0/conv1/Conv`` -> ``layer1.0.conv1``; names without ``/`` -> ``""``."""
    if "/" not in name:
        return ""
    segments = [s for s in name.split("/") if s]
    if len(segments) < 2:
        return ""
    return join_segments(segments[:-1])


def join_segments(segments: Iterable[str]) -> str:
    """Rebuild a module path from TorchScript scope segments (each segment is a module's path
    from its last non-numeric attribute on, so ``layer1`` then ``layer1.0`` is ``layer1.0``)."""
    path: list[str] = []
    for seg in segments:
        atoms = [a for a in seg.split(".") if a]
        if not atoms:
            continue
        if len(atoms) > 1 and all(a.isdigit() for a in atoms[1:]) and path:
            last = max((i for i, a in enumerate(path) if not a.isdigit()), default=-1)
            tail = path[last + 1 :]
            if last >= 0 and path[last] == atoms[0] and atoms[1 : 1 + len(tail)] == tail:
                path = path[:last] + atoms
                continue
        path.extend(atoms)
    return ".".join(path)


def join_scopes(outer: str, inner: str) -> str:
    if not outer:
        return inner
    if not inner:
        return outer
    return f"{outer}.{inner}"


def inlined_scopes(
    nodes: Sequence[NodeProto], functions: Mapping[tuple[str, str], FunctionProto]
) -> list[tuple[str, bool]]:
    """The scope of every node the inliner produces from ``nodes``, in order, with whether it
    came from a function body. A call ``/layer1/layer1.0/Block`` gives its body's nodes the scope
    ``layer1.0`` (plus their own scope inside the function)."""
    out: list[tuple[str, bool]] = []

    def expand(ns: Sequence[NodeProto], prefix: str, inlined: bool, depth: int) -> None:
        for n in ns:
            fn = functions.get((n.domain, n.op_type))
            own = join_scopes(prefix, node_scope(n))
            if fn is None or depth > 64:
                out.append((own, inlined))
            else:
                expand(fn.node, own, True, depth + 1)

    expand(nodes, "", False, 0)
    return out
