"""An index of a model's graphs: the main graph and every subgraph, each under a path.

Paths are ``""`` for the main graph and ``"<parent>/<node index>.<attribute>"`` for a subgraph
(``"/12.body"``: the body of node 12 of the main graph). Two copies of one model (the working
copy, the inference copy, ONNX's inferred result) index the same way, node for node.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from edgeprof.frontends.onnx_proto import AttributeProto, GraphProto, ModelProto, NodeProto

DEFAULT_DOMAINS = ("", "ai.onnx")


class NodeRec(NamedTuple):
    """One node as the frontend reads it, with the paths of its subgraphs by attribute name."""

    pos: int  # the position in its graph (after sorting)
    op_type: str
    domain: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    proto: NodeProto
    subgraphs: tuple[tuple[str, str], ...] = ()

    @property
    def is_default(self) -> bool:
        return self.domain in DEFAULT_DOMAINS


@dataclass
class GraphSlot:
    path: str
    proto: GraphProto
    parent: str | None
    nodes: list[NodeRec] = field(default_factory=list)
    producer: dict[str, NodeRec] = field(default_factory=dict)

    @cached_property
    def input_names(self) -> list[str]:
        return [v.name for v in self.proto.input]

    @cached_property
    def output_names(self) -> list[str]:
        return [v.name for v in self.proto.output]

    @cached_property
    def own_names(self) -> frozenset[str]:
        """Names this graph defines without a node: inputs and (sparse) initializers."""
        names = {v.name for v in self.proto.input}
        names.update(t.name for t in self.proto.initializer)
        names.update(s.values.name for s in self.proto.sparse_initializer)
        return frozenset(names)


def child_path(path: str, index: int, attr: str) -> str:
    return f"{path}/{index}.{attr}"


def locate(model: ModelProto, paths: Iterable[str]) -> dict[str, GraphProto]:
    """The graphs at ``paths`` in ``model`` (a copy of the model the paths were made from),
    found by following each path, not by walking the whole model. Missing paths are left out."""
    out: dict[str, GraphProto] = {}
    for path in sorted(paths, key=lambda p: p.count("/")):
        if path == "":
            out[path] = model.graph
            continue
        parent, _, last = path.rpartition("/")
        g = out.get(parent)
        index_s, _, attr = last.partition(".")
        if g is None or not index_s.isdigit() or int(index_s) >= len(g.node):
            continue
        name, _, k = attr.partition("[")
        for a in g.node[int(index_s)].attribute:
            if a.name != name:
                continue
            if a.type == AttributeProto.GRAPH and not k:
                out[path] = a.g
            elif a.type == AttributeProto.GRAPHS and k:
                j = int(k.rstrip("]"))
                if j < len(a.graphs):
                    out[path] = a.graphs[j]
    return out


def graph_protos(model: ModelProto) -> dict[str, GraphProto]:
    """Every graph of ``model`` by path (no node records: for copies that are only written)."""
    out: dict[str, GraphProto] = {}
    stack: list[tuple[str, GraphProto]] = [("", model.graph)]
    while stack:
        path, g = stack.pop()
        out[path] = g
        for i, n in enumerate(g.node):
            if not n.attribute:
                continue
            for a in n.attribute:
                if a.type == AttributeProto.GRAPH:
                    stack.append((child_path(path, i, a.name), a.g))
                elif a.type == AttributeProto.GRAPHS:
                    stack.extend((child_path(path, i, f"{a.name}[{k}]"), sub) for k, sub in enumerate(a.graphs))
    return out


def index_graphs(model: ModelProto) -> dict[str, GraphSlot]:
    """Every graph of ``model`` with its node records, by path, outer graphs first."""
    slots: dict[str, GraphSlot] = {}
    queue: deque[tuple[str, GraphProto, str | None]] = deque([("", model.graph, None)])
    while queue:
        path, g, parent = queue.popleft()
        slot = GraphSlot(path, g, parent)
        slots[path] = slot
        nodes, producer = slot.nodes, slot.producer
        for i, n in enumerate(g.node):
            subs: list[tuple[str, str]] = []
            attrs = n.attribute
            if attrs:
                for a in attrs:
                    if a.type == AttributeProto.GRAPH:
                        cp = child_path(path, i, a.name)
                        subs.append((a.name, cp))
                        queue.append((cp, a.g, path))
                    elif a.type == AttributeProto.GRAPHS:
                        for k, sub in enumerate(a.graphs):
                            key = f"{a.name}[{k}]"
                            cp = child_path(path, i, key)
                            subs.append((key, cp))
                            queue.append((cp, sub, path))
            outputs = tuple(n.output)
            rec = NodeRec(i, n.op_type, n.domain, tuple(n.input), outputs, n, tuple(subs))
            nodes.append(rec)
            for o in outputs:
                if o:
                    producer[o] = rec
    return slots


def chain(slots: dict[str, GraphSlot], path: str) -> list[str]:
    """``path`` and the paths of its enclosing graphs, innermost first."""
    out = []
    p: str | None = path
    while p is not None:
        out.append(p)
        p = slots[p].parent
    return out
