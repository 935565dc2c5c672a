"""Structural checks of an ONNX graph (and its subgraphs) before any inference runs.

One producer per value, no read of an undefined value, every graph output defined, no cycle.
The ONNX checker is not used: it refuses models that count fine (unsorted nodes, unknown
attributes) and its full mode is slow. Nodes that are acyclic but listed out of order are
sorted in place (on the frontend's working copy only).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from edgeprof.errors import GraphError, ModelLoadError
from edgeprof.frontends.onnx._tensors import CONSTANT_VALUE_ATTRS
from edgeprof.frontends.onnx_proto import AttributeProto, GraphProto, ModelProto, NodeProto
from edgeprof.ir.order import kahn_order


@dataclass(frozen=True)
class _Where:
    """Where a graph sits, for messages: "" for the main graph, else "in subgraph 'body' of node 'loop'"."""

    text: str

    def suffix(self) -> str:
        return f" {self.text}" if self.text else ""


def subgraphs_of(node: NodeProto) -> list[tuple[str, GraphProto]]:
    """The (attribute name, graph) pairs of a node's graph-valued attributes."""
    out: list[tuple[str, GraphProto]] = []
    for a in node.attribute:
        if a.type == AttributeProto.GRAPH:
            out.append((a.name, a.g))
        elif a.type == AttributeProto.GRAPHS:
            out.extend((f"{a.name}[{k}]", g) for k, g in enumerate(a.graphs))
    return out


def walk_graphs(*roots: GraphProto) -> Iterator[GraphProto]:
    """``roots`` and every graph nested in them (If/Loop/Scan bodies, at any depth), each once."""
    graphs = list(roots)
    while graphs:
        g = graphs.pop()
        yield g
        graphs.extend(sub for n in g.node for _, sub in subgraphs_of(n))


def function_subgraphs(model: ModelProto) -> list[GraphProto]:
    """The graphs held by the nodes of the model-local functions."""
    return [sub for f in model.functions for n in f.node for _, sub in subgraphs_of(n)]


def graph_defined(graph: GraphProto) -> set[str]:
    """Names a graph defines without a node: its inputs and (sparse) initializers."""
    names = {v.name for v in graph.input}
    names.update(t.name for t in graph.initializer)
    names.update(s.values.name for s in graph.sparse_initializer)
    return names


def free_names(graph: GraphProto) -> set[str]:
    """Names a (sub)graph reads that it does not define: values captured from enclosing graphs."""
    defined = graph_defined(graph)
    reads: set[str] = set()
    for n in graph.node:
        defined.update(o for o in n.output if o)
        reads.update(i for i in n.input if i)
        for _, sub in subgraphs_of(n):
            reads.update(free_names(sub))
    reads.update(o.name for o in graph.output)
    return reads - defined


def check_and_sort(model: ModelProto, label: str) -> None:
    """Check every graph of ``model``; sort nodes listed out of order. GraphError names the
    file, the node and the value."""
    _check_graph(model.graph, frozenset(), label, _Where(""))


def _check_graph(graph: GraphProto, outer: frozenset[str], label: str, where: _Where) -> None:
    _check_declarations(graph, label, where)
    defined = graph_defined(graph)
    nodes = list(graph.node)
    ios = [(tuple(n.input), tuple(n.output)) for n in nodes]
    producer: dict[str, int] = {}
    for i, (ins, outs) in enumerate(ios):
        _check_text(label, where, nodes[i].op_type, nodes[i].domain, nodes[i].name, *ins, *outs)
        if nodes[i].attribute:
            _check_text(label, where, *(a.name for a in nodes[i].attribute))
            _check_graph_attr_names(nodes[i], i, label, where)
        if not nodes[i].op_type:
            raise GraphError(f"{label}: node {i} ({nodes[i].name or 'unnamed'}){where.suffix()} has no op type")
        if nodes[i].op_type == "Constant" and nodes[i].domain in ("", "ai.onnx"):
            _check_constant(nodes[i], i, label, where)
        if nodes[i].op_type == "Einsum" and nodes[i].domain in ("", "ai.onnx"):
            _check_einsum(nodes[i], i, label, where)
        for out in outs:
            if not out:
                continue
            if out in producer:
                j = producer[out]
                raise GraphError(
                    f"{label}: value {out!r} is written by two nodes{where.suffix()}: "
                    f"{_node_label(nodes[j], j)} and {_node_label(nodes[i], i)}"
                )
            if out in defined:
                raise GraphError(
                    f"{label}: value {out!r} is a graph input or initializer{where.suffix()} and is also written by "
                    f"node {_node_label(nodes[i], i)}"
                )
            producer[out] = i
    visible: frozenset[str] | None = None  # built once, only for graphs that have subgraphs
    deps: list[set[int]] = []
    in_order = True
    for i, (ins, _) in enumerate(ios):
        mine: set[int] = set()
        for name in ins:
            if not name:
                continue
            p = producer.get(name)
            if p is not None:
                mine.add(p)
            elif name not in defined and name not in outer:
                raise GraphError(
                    f"{label}: node {_node_label(nodes[i], i)}{where.suffix()} reads {name!r}, "
                    "which nothing defines"
                )
        if nodes[i].attribute:
            for attr, sub in subgraphs_of(nodes[i]):
                if visible is None:
                    visible = outer | defined | producer.keys()
                text = f"in subgraph {attr!r} of node {_node_label(nodes[i], i)}" + (f" {where.text}" if where.text else "")
                _check_graph(sub, visible, label, _Where(text))
                for name in free_names(sub):
                    p = producer.get(name)
                    if p is not None:
                        mine.add(p)
        if i in mine:
            raise GraphError(
                f"{label}: the graph{where.suffix()} has a cycle through node(s) {_node_label(nodes[i], i)} "
                "(it reads its own output)"
            )
        if in_order and mine and max(mine) > i:
            in_order = False
        deps.append(mine)
    for out in graph.output:
        if out.name not in producer and out.name not in defined and out.name not in outer:
            raise GraphError(f"{label}: graph output {out.name!r}{where.suffix()} is not produced by any node")
    if in_order:
        return  # every node reads only what earlier nodes write: acyclic and already sorted
    order = _topological(nodes, deps, label, where)
    copies = []
    for i in order:
        c = NodeProto()
        c.CopyFrom(nodes[i])
        copies.append(c)
    del graph.node[:]
    graph.node.extend(copies)


def _check_declarations(graph: GraphProto, label: str, where: _Where) -> None:
    """A graph input or an initializer declared twice."""
    _check_text(label, where, *(v.name for v in graph.input), *(v.name for v in graph.output),
                *(t.name for t in graph.initializer), *(s.values.name for s in graph.sparse_initializer))
    seen: set[str] = set()
    for vi in graph.input:
        if vi.name in seen:
            raise GraphError(f"{label}: graph input {vi.name!r}{where.suffix()} is declared twice")
        seen.add(vi.name)
    seen.clear()
    for name in (*(t.name for t in graph.initializer), *(s.values.name for s in graph.sparse_initializer)):
        if name in seen:
            raise GraphError(f"{label}: initializer {name!r}{where.suffix()} is declared twice")
        seen.add(name)


def _check_text(label: str, where: _Where, *names: object) -> None:
    """protobuf hands back ``bytes`` for a string field that is not valid UTF-8: a corrupt file."""
    for name in names:
        if type(name) is not str:
            raise ModelLoadError(
                f"{label}: the model holds a name that is not valid UTF-8 ({name!r}){where.suffix()}; the file is corrupt"
            )


def _check_graph_attr_names(node: NodeProto, index: int, label: str, where: _Where) -> None:
    """Subgraphs are addressed by paths built from their attribute names (``/1.body``,
    ``/0.branches[2]``): a name holding ``/``, ``[`` or ``]`` (a damaged file) is refused."""
    for a in node.attribute:
        if a.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS) and (not a.name or any(c in a.name for c in "/[]")):
            raise GraphError(
                f"{label}: node {_node_label(node, index)}{where.suffix()} has a subgraph attribute with an invalid "
                f"name {a.name!r}"
            )


def _check_constant(node: NodeProto, index: int, label: str, where: _Where) -> None:
    values = [a.name for a in node.attribute if a.name in CONSTANT_VALUE_ATTRS]
    if len(values) != 1 or len(node.output) != 1 or not node.output[0]:
        raise GraphError(
            f"{label}: Constant node {_node_label(node, index)}{where.suffix()} needs exactly one value attribute "
            f"and one output (has {len(values)} and {len(node.output)})"
        )


# Letters, ellipses, commas, one arrow and spaces: an Einsum equation onnx's own shape inference
# can parse (an equation holding a digit, such as "1", makes onnx 1.x's inference loop forever).
_EINSUM = re.compile(r"[A-Za-z.,\s]*(->[A-Za-z.\s]*)?")


def _check_einsum(node: NodeProto, index: int, label: str, where: _Where) -> None:
    for a in node.attribute:
        if a.name == "equation":
            equation = a.s.decode("utf-8", "replace")
            if not _EINSUM.fullmatch(equation):
                raise GraphError(
                    f"{label}: Einsum node {_node_label(node, index)}{where.suffix()} has an invalid equation "
                    f"{equation[:80]!r} (letters, '...', ',' and one '->' only)"
                )


def _topological(nodes: list[NodeProto], deps: list[set[int]], label: str, where: _Where) -> list[int]:
    order, stuck = kahn_order(deps)
    if stuck:
        names = [_node_label(nodes[i], i) for i in stuck[:3]]
        raise GraphError(f"{label}: the graph{where.suffix()} has a cycle through node(s) {', '.join(names)}")
    return order


def _node_label(node: NodeProto, index: int) -> str:
    """``'name' (Op)``, or ``#index (Op)`` for an unnamed node."""
    return f"{node.name!r} ({node.op_type})" if node.name else f"#{index} ({node.op_type})"
