"""Topological order and validation of a Graph."""

from __future__ import annotations

import heapq

from edgeprof.errors import GraphError
from edgeprof.ir.graph import Graph, Node, node_reads


def topological_order(graph: Graph, outer: frozenset[str] = frozenset()) -> tuple[Node, ...]:
    """Nodes in an order where every value is written before it is read.

    Keeps the source order where it is already valid (Kahn's algorithm with ties broken by
    source position). ``outer`` names values visible from enclosing graphs.
    Raises :class:`GraphError` on a cycle or a value that nothing defines."""
    available = set(graph.inputs) | set(graph.weights) | set(outer)
    producer: dict[str, int] = {}
    for i, node in enumerate(graph.nodes):
        for out in node.outputs:
            if not out:
                continue
            if out in producer:
                raise GraphError(
                    f"value {out!r} is written by two nodes: {graph.nodes[producer[out]].name!r} and {node.name!r}"
                )
            if out in available and out not in outer:
                raise GraphError(f"value {out!r} is a graph input or weight and is also written by node {node.name!r}")
            producer[out] = i
    deps: list[set[int]] = []
    for node in graph.nodes:
        mine: set[int] = set()
        for name in node_reads(node):
            if name in producer:
                mine.add(producer[name])
            elif name not in available:
                raise GraphError(f"node {node.name!r} ({node.op}) reads {name!r}, which nothing defines")
        deps.append(mine)
    order, stuck = kahn_order(deps)
    if stuck:
        names = [graph.nodes[i].name for i in stuck[:3]]
        raise GraphError(f"the graph has a cycle through node(s) {', '.join(repr(s) for s in names)}")
    return tuple(graph.nodes[i] for i in order)


def kahn_order(deps: list[set[int]]) -> tuple[list[int], list[int]]:
    """Kahn's algorithm over nodes ``0..n-1`` where ``deps[i]`` are the nodes ``i`` depends on.

    Ties are broken by index (a heap of ready nodes), so an order that is already valid is kept.
    Returns the order and the nodes left over (non-empty only when there is a cycle)."""
    users: list[list[int]] = [[] for _ in deps]
    for i, d in enumerate(deps):
        for j in d:
            users[j].append(i)
    pending = [len(d) for d in deps]
    ready = [i for i, n in enumerate(pending) if n == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users[i]:
            pending[u] -= 1
            if pending[u] == 0:
                heapq.heappush(ready, u)
    return order, [i for i, n in enumerate(pending) if n > 0]


def validate(graph: Graph, outer: frozenset[str] = frozenset()) -> None:
    """Check the IR invariants: acyclic, one producer per value, every value known and
    every graph output defined; recurse into subgraphs. Raises :class:`GraphError`."""
    topological_order(graph, outer)
    defined = set(graph.inputs) | set(graph.weights) | {o for n in graph.nodes for o in n.outputs if o}
    for out in graph.outputs:
        if out not in defined and out not in outer:
            raise GraphError(f"graph output {out!r} is not produced by any node")
    for node in graph.nodes:
        for name in (*node.inputs, *node.outputs):
            if name and name not in graph.values and name not in outer:
                raise GraphError(f"node {node.name!r} ({node.op}) uses {name!r}, which has no type or shape")
        for sub in node.subgraphs.values():
            validate(sub, outer | frozenset(defined) | frozenset(graph.values))


