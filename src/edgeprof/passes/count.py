"""The count pass: cost every node with the op registry, recursing into control flow.

Returns a :class:`CountResult`: one :class:`LayerCost` per node (subgraph nodes included,
multiplied by their trip count), the ops that could not be counted, and the totals.

Control flow, as set up by the frontend:

* ``If``: ``attrs["branch"]`` is ``"then_branch"``/``"else_branch"`` when the condition is known
  statically; only that branch is counted. Otherwise every branch is listed, its nodes marked
  with ``range_group``, and **one rule** holds everywhere: the totals (and so the categories,
  the per-operator and per-module views and every share) are those of the **costlier branch**
  (the most FLOPs + integer OPs, then MACs: the worst case a budget must hold); the other
  branch's nodes are listed with their own figures and ``in_totals=False`` (left out of every
  sum and share); the totals carry the cheaper end of the range (``flops_min``, ``macs_min``),
  and the If's row names both branches' figures.
* ``Loop``/``Scan``: ``attrs["trip_count"]`` (an int) multiplies the body; when it is unknown
  the node is not counted and the reason names the flag that sets it. A trip count that is only
  an upper bound (``attrs["trip_count_reason"]`` says why: the body may end the loop early)
  gives a range of 0 .. trip_count iterations: the totals at trip_count (the same worst-case rule),
  the minimum at 0.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from edgeprof.ir import Graph, Node, Value, topological_order
from edgeprof.ops.registry import Category, Entry, OpCall, OpCost, Uncountable, cost_of, lookup
from edgeprof.passes.params import WeightTable
from edgeprof.report.model import LayerCost, NotCounted


@dataclass
class _Acc:
    """Figures along the costliest path (every unknown If at its costlier branch, an early-exit
    Loop at its full trip count), and the FLOPs and MACs of the cheapest path."""

    flops: int = 0
    int_ops: int = 0
    macs: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    flops_min: int = 0
    macs_min: int = 0

    def add(self, other: _Acc) -> None:
        self.flops += other.flops
        self.int_ops += other.int_ops
        self.macs += other.macs
        self.bytes_read += other.bytes_read
        self.bytes_written += other.bytes_written
        self.flops_min += other.flops_min
        self.macs_min += other.macs_min

    @staticmethod
    def of(layers: list[LayerCost]) -> _Acc:
        """The sums of counted layers (on every path: their FLOPs and MACs are the cheapest's too)."""
        flops = sum([x.flops for x in layers])
        macs = sum([x.macs for x in layers])
        return _Acc(flops, sum([x.int_ops for x in layers]), macs, sum([x.bytes_read for x in layers]),
                    sum([x.bytes_written for x in layers]), flops, macs)


@dataclass
class CountResult:
    """The layers, the ops not counted, the totals along the costliest path and the cheapest
    path's FLOPs and MACs (equal to ``flops``/``macs`` without unknown control flow)."""

    layers: list[LayerCost] = field(default_factory=list)
    not_counted: list[NotCounted] = field(default_factory=list)
    flops: int = 0
    int_ops: int = 0
    macs: int = 0
    flops_min: int = 0
    macs_min: int = 0
    bytes_read: int = 0
    bytes_written: int = 0


def count(graph: Graph, weights: WeightTable) -> CountResult:
    """Cost every node of ``graph`` (and of its subgraphs)."""
    counter = _Counter(weights)
    acc = counter.walk(graph, {}, prefix="", calls=1, range_group="")
    layers, missing = counter.layers, counter.missing
    not_counted = [
        NotCounted(op=op, count=len(names), example=names[0], reason=reason)
        for (op, reason), names in sorted(missing.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    return CountResult(
        layers, not_counted, acc.flops, acc.int_ops, acc.macs, acc.flops_min, acc.macs_min, acc.bytes_read,
        acc.bytes_written,
    )


class _Counter:
    """One count: the weight table it reads, and the layers and the ops it cannot cost, collected
    while it walks the graph and its subgraphs."""

    def __init__(self, weights: WeightTable) -> None:
        self.weights = weights
        self.layers: list[LayerCost] = []
        self.missing: dict[tuple[str, str], list[str]] = {}

    def walk(self, graph: Graph, outer: Mapping[str, Value], prefix: str, calls: int, range_group: str) -> _Acc:
        weights, layers, missing = self.weights, self.layers, self.missing
        # what the nodes may read: the graph's values over those of the enclosing graphs
        scope_values: Mapping[str, Value] = {**outer, **graph.values} if outer else graph.values
        total = _Acc()
        counted: list[LayerCost] = []
        for node in topological_order(graph, outer):
            name = prefix + (node.name or node.op)
            entry = lookup(node.op)
            if entry is not None and entry.state == "subgraph":
                total.add(self.control_flow(node, entry, scope_values, name, calls, range_group))
                continue
            call = _call(node, scope_values)
            params = _node_params(node, graph, weights)
            out_shape = _out_shape(call)
            try:
                if entry is None:
                    raise Uncountable(f"no formula for op {node.op!r}")
                cost = cost_of(entry, call)
            except Uncountable as exc:
                reason = str(exc) if entry is not None else "no formula for this op"
                missing.setdefault((node.op, reason), []).append(name)
                layers.append(
                    LayerCost(name, node.op, (entry.category if entry else Category.OTHER).value, "not_counted", out_shape,
                              params=params, scope=node.scope, calls=calls, range_group=range_group, note=reason)
                )
                continue
            layer = _layer(name, node, entry, cost, out_shape, params, calls, range_group)
            layers.append(layer)
            counted.append(layer)
        total.add(_Acc.of(counted))
        return total

    def control_flow(
        self, node: Node, entry: Entry, scope_values: Mapping[str, Value], name: str, calls: int, range_group: str,
    ) -> _Acc:
        """An If, Loop or Scan: its subgraphs counted as often as they run, or listed as not counted
        when that is not known (module docstring)."""
        layers, missing = self.layers, self.missing
        out_shape = _out_shape(_call(node, scope_values))

        def row(note: str, state: str = "zero") -> None:
            layers.append(LayerCost(name, node.op, entry.category.value, state, out_shape,  # type: ignore[arg-type]
                                    scope=node.scope, calls=calls, range_group=range_group, note=note))

        if node.op == "If":
            branch = str(node.attrs.get("branch") or "")
            if branch in node.subgraphs:
                row(f"condition known statically: counts {branch}")
                return self.walk(node.subgraphs[branch], scope_values, f"{name}/{branch}/", calls, range_group)
            return self.unknown_if(node, scope_values, name, calls, range_group, row)
        trips = node.attrs.get("trip_count")
        body = node.subgraphs.get("body")
        if body is None:
            row("no body subgraph", "not_counted")
            missing.setdefault((node.op, "no body subgraph"), []).append(name)
            return _Acc()
        if not isinstance(trips, int) or isinstance(trips, bool) or trips < 0:
            reason = str(node.attrs.get("trip_count_reason") or "trip count not known statically")
            row(reason, "not_counted")
            missing.setdefault((node.op, reason), []).append(name)
            return _Acc()
        bound = str(node.attrs.get("trip_count_reason") or "")
        if trips == 0:
            row("body runs 0 times")
            return _Acc()
        if not bound:
            row(f"body runs {trips} time(s)")
            return self.walk(body, scope_values, f"{name}/body/", calls * trips, range_group)
        # The loop may exit early: its body is listed for the full trip count and the totals carry
        # the range 0 .. trips iterations, like an If whose branch is not known.
        row(f"body runs at most {trips} time(s): {bound}; totals at {trips} (the range from 0)")
        upper = self.walk(body, scope_values, f"{name}/body/", calls * trips, range_group or name)
        return _Acc(upper.flops, upper.int_ops, upper.macs, upper.bytes_read, upper.bytes_written, 0, 0)

    def unknown_if(
        self, node: Node, scope_values: Mapping[str, Value], name: str, calls: int, range_group: str,
        row: Callable[[str], None],
    ) -> _Acc:
        """An If whose condition is not known statically: every branch listed; the totals those of
        the costlier branch, the other branches' layers ``in_totals=False`` (module docstring)."""
        layers = self.layers
        at = len(layers)
        row("")
        branches: list[tuple[str, _Acc, int, int]] = []
        for k, g in sorted(node.subgraphs.items()):
            start = len(layers)
            acc = self.walk(g, scope_values, f"{name}/{k}/", calls, range_group or name)
            branches.append((k, acc, start, len(layers)))
        if not branches:
            layers[at] = replace(layers[at], note="condition not known statically; the If has no branches")
            return _Acc()
        worst, hi, _, _ = max(branches, key=lambda b: (b[1].flops + b[1].int_ops, b[1].macs))
        for k, _, start, end in branches:
            if k != worst:
                layers[start:end] = [replace(x, in_totals=False) for x in layers[start:end]]
        figures = ", ".join(f"{k} {a.flops:,} FLOPs + {a.int_ops:,} int OPs, {a.macs:,} MACs" for k, a, _, _ in branches)
        layers[at] = replace(layers[at], note=(
            f"condition not known statically: totals, categories and shares at the costlier branch ({worst}); "
            f"the other branch is listed, not in the totals ({figures})"
        ))
        return _Acc(hi.flops, hi.int_ops, hi.macs, hi.bytes_read, hi.bytes_written,
                    min(a.flops_min for _, a, _, _ in branches), min(a.macs_min for _, a, _, _ in branches))


def _call(node: Node, values: Mapping[str, Value]) -> OpCall:
    ins = tuple([values.get(i) if i else None for i in node.inputs])
    outs = tuple([values[o] for o in node.outputs if o and o in values])
    return OpCall(node.op, ins, outs, node.attrs)


def _out_shape(call: OpCall) -> tuple[int | str, ...]:
    if not call.outputs or call.outputs[0].shape is None:
        return ()
    return tuple(call.outputs[0].shape.dims)


def _node_params(node: Node, graph: Graph, weights: WeightTable) -> int:
    seen: set[str] = set()
    total = 0
    for name in node.inputs:
        w = graph.weights.get(name)
        if w is None or w.key in seen:
            continue
        seen.add(w.key)
        if weights.roles.get(w.key) == "parameter":
            total += w.numel
    return total


def _layer(
    name: str, node: Node, entry: Entry, cost: OpCost, out_shape: tuple[int | str, ...], params: int, calls: int,
    range_group: str,
) -> LayerCost:
    return LayerCost(
        name=name,
        op=node.op,
        category=cost.category.value,
        # A data-movement formula (Gather, Slice: exact partial-read bytes) is a zero-FLOP op too.
        state="zero" if entry.state == "zero" or (cost.category is Category.DATA_MOVEMENT and cost.flops == cost.int_ops == 0)
        else "counted",
        output_shape=out_shape,
        flops=cost.flops * calls,
        int_ops=cost.int_ops * calls,
        macs=cost.macs * calls,
        bytes_read=cost.bytes_read * calls,
        bytes_written=cost.bytes_written * calls,
        params=params,
        precision=cost.precision,
        scope=node.scope,
        calls=calls,
        range_group=range_group,
    )
