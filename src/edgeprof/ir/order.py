"""Topological order and validation of a Graph."""

from __future__ import annotations

import heapq
from collections.abc import Container
from dataclasses import dataclass
from weakref import WeakKeyDictionary

from edgeprof.errors import GraphError
from edgeprof.ir.graph import Graph, Node, node_reads

__all__ = ["kahn_order", "topological_indices", "topological_order", "validate"]


@dataclass(frozen=True, slots=True)
class _Topology:
    """A graph's topological order (indices into ``graph.nodes`` and the nodes themselves) and
    the faults found on the way, in the order they were met: ``(name, message)``, where a fault
    with a name is forgiven when that name is visible from an enclosing graph and one without
    (a value written twice, a cycle) never is."""

    indices: tuple[int, ...]
    nodes: tuple[Node, ...]
    faults: tuple[tuple[str | None, str], ...]


# One topology per graph, worked out on first use. A Graph is frozen all the way down (its
# nodes, their inputs and outputs, its values and weights are read-only), so it cannot go stale;
# it goes with its graph.
_TOPOLOGIES: WeakKeyDictionary[Graph, _Topology] = WeakKeyDictionary()


def topological_order(graph: Graph, outer: Container[str] = frozenset()) -> tuple[Node, ...]:
    """Nodes in an order where every value is written before it is read.

    Keeps the source order where it is already valid (Kahn's algorithm with ties broken by
    source position). ``outer`` names values visible from enclosing graphs.
    Raises :class:`GraphError` on a cycle or a value that nothing defines."""
    return _checked(graph, outer).nodes


def topological_indices(graph: Graph, outer: Container[str] = frozenset()) -> tuple[int, ...]:
    """:func:`topological_order` as indices into ``graph.nodes``."""
    return _checked(graph, outer).indices


def _checked(graph: Graph, outer: Container[str]) -> _Topology:
    topology = _TOPOLOGIES.get(graph)
    if topology is None:
        topology = _TOPOLOGIES[graph] = _topology(graph)
    for name, message in topology.faults:
        if name is None or name not in outer:
            raise GraphError(message)
    return topology


def _topology(graph: Graph) -> _Topology:
    nodes = graph.nodes
    own = set(graph.inputs) | set(graph.weights)
    faults: list[tuple[str | None, str]] = []
    producer: dict[str, int] = {}
    for i, node in enumerate(nodes):
        for out in node.outputs:
            if not out:
                continue
            if out in producer:
                faults.append((None, f"value {out!r} is written by two nodes: {nodes[producer[out]].name!r} and {node.name!r}"))
                return _Topology((), (), tuple(faults))
            if out in own:
                faults.append((out, f"value {out!r} is a graph input or weight and is also written by node {node.name!r}"))
            producer[out] = i
    deps: list[set[int]] = []
    in_source_order = True
    for i, node in enumerate(nodes):
        mine: set[int] = set()
        for name in node_reads(node):
            p = producer.get(name)
            if p is not None:
                mine.add(p)
                in_source_order = in_source_order and p < i
            elif name not in own:
                faults.append((name, f"node {node.name!r} ({node.op}) reads {name!r}, which nothing defines"))
        deps.append(mine)
    if in_source_order:  # every node reads only what earlier nodes write: Kahn's order is the source order
        return _Topology(tuple(range(len(nodes))), nodes, tuple(faults))
    order, stuck = kahn_order(deps)
    if stuck:
        names = [nodes[i].name for i in stuck[:3]]
        faults.append((None, f"the graph has a cycle through node(s) {', '.join(repr(s) for s in names)}"))
        return _Topology((), (), tuple(faults))
    return _Topology(tuple(order), tuple(nodes[i] for i in order), tuple(faults))


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
