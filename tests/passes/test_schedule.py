"""The memory-aware execution order: hand-computed optima and properties over random graphs."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeprof.errors import GraphError
from edgeprof.ir import Graph, dtype_by_name
from edgeprof.passes.memory import _retyped_size, analyse_memory
from edgeprof.passes.schedule import default_order, evaluate, is_valid_order, search_order, storage_model
from tests.passes.test_memory import Net


def _names(g: Graph, order: Sequence[int]) -> list[str]:
    return [g.nodes[i].name for i in order]


def test_two_branches_finish_one_branch_before_starting_the_other() -> None:
    n = Net()
    n.input("x", (10,))
    n.op("Conv", ["x"], "a1", (1000,))
    n.op("Conv", ["x"], "b1", (1000,))
    n.op("GlobalAveragePool", ["a1"], "a2", (10,))
    n.op("GlobalAveragePool", ["b1"], "b2", (10,))
    n.op("Add", ["a2", "b2"], "y", (10,))
    g = n.build("y")
    model = storage_model(g, inputs_held=False)
    # source order a1, b1, a2, b2: while b1 is written, x (40) + a1 (4000) + b1 (4000) are live
    assert evaluate(model, default_order(model)).peak_bytes == 8040
    found = search_order(model)
    # a1, a2, b1, b2: at b1 only x, a2 (40 each) and b1 are live: 4080, which no order beats
    # (the second big tensor is always written next to x and the first branch's small result)
    assert (found.peak_bytes, found.method) == (4080, "exact")
    assert _names(g, found.order) in (["a1", "a2", "b1", "b2", "y"], ["b1", "b2", "a1", "a2", "y"])
    r = analyse_memory(g, inputs_held=False)
    assert r.predicted.schedule is not None
    assert (r.predicted.schedule.default_peak_activation_bytes, r.predicted.schedule.best_peak_activation_bytes) == (8040, 4080)
    assert r.predicted.schedule.saved_bytes == 3960
    assert r.predicted.schedule.method == "exact"
    assert r.predicted.schedule.order == tuple(_names(g, r.predicted.schedule.order_indices))


def _three_branches() -> Graph:
    n = Net()
    n.input("x", (10,))
    for k, size in ((1, 1000), (2, 2000), (3, 3000)):
        n.op("Conv", ["x"], f"big{k}", (size,))
    for k in (1, 2, 3):
        n.op("GlobalAveragePool", [f"big{k}"], f"small{k}", (10,))
    n.op("Sum", ["small1", "small2", "small3"], "y", (10,))
    return n.build("y")


def test_exact_search_beats_greedy_on_three_uneven_branches() -> None:
    g = _three_branches()
    model = storage_model(g, inputs_held=False)
    # default: big1, big2, big3 all live when big3 is written: 4000 + 8000 + 12000 (+ x 40)
    assert evaluate(model, default_order(model)).peak_bytes == 24040
    found = search_order(model, depth_first=False)
    # optimum: the largest branch first. big3 then small3: x 40 + big3 12000 + small3 40 = 12080;
    # then big2 with x, small3: 8080, small2: 8120; big1: 4120; small1: 4120.
    # Any order pays at least x + big3 + small3 (big3 first) or x + two smalls + big3 (big3 later).
    assert (found.peak_bytes, found.method) == (12080, "exact")
    assert _names(g, found.order)[:2] == ["big3", "small3"]
    # the greedy choice (cheapest next step, a beam of one) takes the small branch first and
    # ends at x + small1 + small2 + big3 = 12120
    greedy = search_order(model, max_states_per_step=0, beam_width=1, depth_first=False)
    assert (greedy.peak_bytes, greedy.method) == (12120, "heuristic")
    # a depth-first order from the output that visits the latest branch first finds the optimum
    # without a search (it meets no lower bound, so the search still runs and proves it)
    assert search_order(model).peak_bytes == 12080


def test_chain_is_proven_optimal_without_search() -> None:
    n = Net()
    n.input("x", (100,))
    n.op("Relu", ["x"], "a", (100,))
    n.op("Relu", ["a"], "b", (100,))
    found = search_order(storage_model(n.build("b"), inputs_held=False))
    assert (found.peak_bytes, found.method, found.states_explored, found.lower_bound_bytes) == (800, "exact", 0, 800)


def test_in_place_op_runs_after_the_other_readers_of_its_buffer() -> None:
    n = Net()
    n.input("x", (10,))
    n.op("Exp", ["x"], "a", (1000,))
    n.op("Neg", ["a"], "c", (2000,))  # reads a before the in-place Relu overwrites it
    n.op("Relu", ["a"], "b", (1000,), inplace=1)
    n.op("Add", ["b", "c"], "y", (2000,))
    g = n.build("y")
    model = storage_model(g, inputs_held=False)
    a, c, b, y = range(4)
    assert c in model.preds[b]
    assert not is_valid_order(model, [a, b, c, y])
    assert is_valid_order(model, [a, c, b, y])
    found = search_order(model)
    assert found.order.index(c) < found.order.index(b)
    # a (4000) and c (8000) live while b (in place, no new bytes) runs; then y (8000) is written
    assert evaluate(model, found.order).during == (4040, 12000, 12000, 20000)


def test_source_nodes_are_placed_just_before_their_reader_without_branching_on_them() -> None:
    n = Net()
    n.input("x", (10,))
    for k in range(1, 21):  # twenty 4000-byte constants made at run time, listed first
        n.op("ConstantOfShape", [], f"s{k}", (1000,))
    n.op("Relu", ["x"], "c0", (1000,))
    for k in range(1, 21):
        n.op("Add", [f"c{k - 1}", f"s{k}"], f"c{k}", (1000,))
    g = n.build("c20")
    model = storage_model(g)  # x is held by the caller: 40 bytes live throughout
    # source order: all twenty constants, then c0, then c1 with x + s1..s20 + c0 + c1 live
    assert evaluate(model, default_order(model)).peak_bytes == 40 + 20 * 4000 + 4000 + 4000
    found = search_order(model, depth_first=False)
    # each s_k just before c_k: x + c_{k-1} + s_k + c_k = 12040, the least any order can do
    assert (found.peak_bytes, found.method) == (12040, "exact")
    names = _names(g, found.order)
    # c0 reads only the held x, so it is placed like the constants: s1 and c0 (in source order)
    # just before c1, every later s_k just before c_k
    assert names[:3] == ["s1", "c0", "c1"]
    assert all(names.index(f"s{k}") == names.index(f"c{k}") - 1 for k in range(2, 21))
    # the constants are not branched on: one set per step of the chain c1..c20
    assert found.states_explored == 20


def test_unread_outputs_of_source_nodes_go_where_the_fewest_bytes_are_live() -> None:
    n = Net()
    n.input("x", (10,))
    n.op("Exp", ["x"], "c1", (1000,))
    for k in range(10):  # 12000-byte outputs nobody reads (a traced torch.empty, say)
        n.op("ConstantOfShape", [], f"d{k}", (3000,))
    n.op("Neg", ["c1"], "c2", (1000,))
    g = n.build("c2")
    model = storage_model(g)
    # source order: each d_k is written next to x (40) and c1 (4000)
    assert evaluate(model, default_order(model)).peak_bytes == 40 + 4000 + 12000
    found = search_order(model, depth_first=False)
    # before c1 only the held x is live: 12040, the least a d_k step can hold (x is always live)
    assert (found.peak_bytes, found.method) == (12040, "exact")
    assert _names(g, found.order)[-2:] == ["c1", "c2"]
    assert found.states_explored <= 2


def test_heuristic_is_never_worse_than_the_default_order() -> None:
    model = storage_model(_three_branches(), inputs_held=False)
    for width in (1, 2, 3):
        found = search_order(model, max_states_per_step=0, beam_width=width)
        assert found.peak_bytes <= 24040
        assert is_valid_order(model, found.order)


# ---- properties over random graphs ------------------------------------------------------------


@st.composite
def random_graphs(draw: st.DrawFn, max_nodes: int = 7, views: bool = False, sources: bool = False) -> Graph:
    """Random DAGs: 1-2 inputs, then nodes reading 1-3 earlier values (``sources``: or none, like a
    ConstantOfShape; ``views``: or a Reshape/Flatten of one value), sizes 0-50 floats."""
    n = Net()
    available: list[str] = []
    sizes: dict[str, int] = {}
    for k in range(draw(st.integers(1, 2))):
        size = draw(st.integers(0, 50))
        available.append(n.input(f"in{k}", (size,)))
        sizes[f"in{k}"] = size
    for k in range(draw(st.integers(1, max_nodes))):
        out = f"v{k}"
        if views and draw(st.booleans()):
            src = draw(st.sampled_from(available))
            n.op("Reshape" if draw(st.booleans()) else "Flatten", [src], out, (sizes[src],))
        else:
            ins = draw(st.lists(st.sampled_from(available), min_size=0 if sources else 1, max_size=3, unique=True))
            sizes[out] = draw(st.integers(0, 50))
            n.op("Sum", ins, out, (sizes[out],))
        if out not in sizes:
            sizes[out] = sizes[n.nodes[-1].inputs[0]]
        available.append(out)
    produced = [node.outputs[0] for node in n.nodes]
    outputs = [produced[-1], *draw(st.lists(st.sampled_from(produced), max_size=2, unique=True))]
    return n.build(*dict.fromkeys(outputs))


def _topological_orders(g: Graph) -> Iterator[list[int]]:
    producer = {node.outputs[0]: i for i, node in enumerate(g.nodes)}
    deps = [{producer[x] for x in node.inputs if x in producer} for node in g.nodes]

    def extend(done: list[int]) -> Iterator[list[int]]:
        if len(done) == len(g.nodes):
            yield list(done)
            return
        for i in range(len(g.nodes)):
            if i not in done and deps[i] <= set(done):
                yield from extend([*done, i])

    yield from extend([])


def _naive_peak(g: Graph, order: Sequence[int], inputs_held: bool) -> int:
    """Peak bytes of a graph without aliases: a value is live at step k when it exists by then
    (a graph input, or written at or before k) and is still needed (read at or after k, a graph
    output, a graph input the caller holds, or written at k)."""
    pos = {i: k for k, i in enumerate(order)}
    written = {node.outputs[0]: pos[i] for i, node in enumerate(g.nodes)}
    read_at: dict[str, list[int]] = {}
    for i, node in enumerate(g.nodes):
        for x in node.inputs:
            read_at.setdefault(x, []).append(pos[i])
    peak = 0
    for k in range(len(order)):
        total = 0
        for name, value in g.values.items():
            born = written.get(name, -1)
            held = inputs_held and name in g.inputs
            needed = held or name in g.outputs or any(r >= k for r in read_at.get(name, [])) or born == k
            if born <= k and needed:
                total += value.nbytes()
        peak = max(peak, total)
    return peak


@settings(max_examples=300, deadline=None)
@given(random_graphs(sources=True), st.booleans(), st.booleans())
def test_exact_search_matches_brute_force_over_all_orders(g: Graph, held: bool, depth_first: bool) -> None:
    model = storage_model(g, inputs_held=held)
    found = search_order(model, depth_first=depth_first)
    best = min(_naive_peak(g, order, held) for order in _topological_orders(g))
    assert found.peak_bytes == best
    assert found.method == "exact"  # a few nodes: the search never needs the beam
    assert evaluate(model, found.order).peak_bytes == best
    assert evaluate(model, default_order(model)).peak_bytes == _naive_peak(g, range(len(g.nodes)), held)


def _check_order(g: Graph, order: Sequence[int]) -> None:
    """Every node once, each after the nodes that write its inputs (checked from the graph)."""
    assert sorted(order) == list(range(len(g.nodes)))
    producer = {node.outputs[0]: i for i, node in enumerate(g.nodes)}
    seen: set[int] = set()
    for i in order:
        assert all(producer[x] in seen for x in g.nodes[i].inputs if x in producer)
        seen.add(i)


@settings(max_examples=150, deadline=None)
@given(random_graphs(max_nodes=25, views=True))
def test_peak_bounds_and_best_order_properties(g: Graph) -> None:
    r = analyse_memory(g, max_states_per_step=50)
    assert r.predicted.schedule is not None
    # peak >= the bytes one node touches (its distinct inputs and output, aliases resolved) and
    # <= every activation buffer at once
    root: dict[str, str] = {name: name for name in g.inputs}
    for node in g.nodes:
        root[node.outputs[0]] = root[node.inputs[0]] if node.op in ("Reshape", "Flatten") else node.outputs[0]
    largest_step = max(sum(g.values[b].nbytes() for b in {root[x] for x in (*nd.inputs, *nd.outputs)}) for nd in g.nodes)
    all_buffers = sum(g.values[b].nbytes() for b in set(root.values()))
    assert largest_step <= r.predicted.schedule.best_peak_activation_bytes <= r.predicted.peak_activation_bytes <= all_buffers
    assert r.predicted.activation_total_bytes == all_buffers
    _check_order(g, r.predicted.schedule.order_indices)
    model = storage_model(g)
    assert evaluate(model, r.predicted.schedule.order_indices).peak_bytes == r.predicted.schedule.best_peak_activation_bytes
    assert max(p.op_peak_bytes for p in r.predicted.timeline) == r.predicted.peak_activation_bytes


def test_in_place_marks_that_cannot_be_ordered_are_a_graph_error() -> None:
    n = Net()
    n.input("x", (10,))
    n.op("Exp", ["x"], "p", (10,))
    n.op("Neg", ["x"], "q", (10,))
    n.op("Add", ["p", "q"], "i1", (10,), inplace=1)  # overwrites p, which i2 still reads
    n.op("Sub", ["q", "p"], "i2", (10,), inplace=1)  # overwrites q, which i1 still reads
    n.op("Mul", ["i1", "i2"], "y", (10,))
    model = storage_model(n.build("y"))
    assert 3 in model.preds[2] and 2 in model.preds[3]
    with pytest.raises(GraphError, match="in-place ops cannot be ordered"):
        default_order(model)


@st.composite
def graphs_with_in_place_ops(draw: st.DrawFn) -> Graph:
    n = Net()
    available = [n.input("in0", (draw(st.integers(0, 50)),))]
    sizes = {"in0": n.values["in0"].numel()}
    for k in range(draw(st.integers(1, 12))):
        out = f"v{k}"
        if draw(st.booleans()):  # an in-place op on one earlier value
            src = draw(st.sampled_from(available))
            n.op("Relu", [src], out, (sizes[src],), inplace=1)
            sizes[out] = sizes[src]
        else:
            ins = draw(st.lists(st.sampled_from(available), min_size=1, max_size=3, unique=True))
            sizes[out] = draw(st.integers(0, 50))
            n.op("Sum", ins, out, (sizes[out],))
        available.append(out)
    return n.build(available[-1])


@settings(max_examples=200, deadline=None)
@given(graphs_with_in_place_ops())
def test_in_place_constraints_match_a_naive_reading_and_the_search_keeps_them(g: Graph) -> None:
    model = storage_model(g)
    producer = {node.outputs[0]: i for i, node in enumerate(g.nodes)}
    data = [{producer[x] for x in node.inputs if x in producer} for node in g.nodes]
    root = {"in0": "in0"}
    for node in g.nodes:
        root[node.outputs[0]] = root[node.inputs[0]] if node.attrs.get("inplace") else node.outputs[0]

    def descendants(i: int) -> set[int]:
        found = {j for j, deps in enumerate(data) if i in deps}
        grew = True
        while grew:
            more = {j for j, deps in enumerate(data) if deps & found} - found
            grew = bool(more)
            found |= more
        return found

    for i, node in enumerate(g.nodes):
        expected = set(data[i])
        if node.attrs.get("inplace"):
            buffer = root[node.inputs[0]]
            readers = {j for j, other in enumerate(g.nodes) if any(root[x] == buffer for x in other.inputs)}
            expected |= readers - {i} - descendants(i)
        assert set(model.preds[i]) == expected and list(model.preds[i]) == sorted(expected)
    try:
        base = default_order(model)
    except GraphError:
        return  # two in-place ops that each overwrite what the other reads: no valid order
    found = search_order(model)
    assert is_valid_order(model, found.order)
    assert found.peak_bytes <= evaluate(model, base).peak_bytes


@settings(max_examples=150, deadline=None)
@given(random_graphs(sources=True, views=True), st.booleans())
def test_each_precision_re_sizes_the_stored_lifetimes_as_a_model_built_at_that_precision_would(
    g: Graph, held: bool
) -> None:
    """The memory report re-sizes one storage model per precision instead of building one per
    precision; its figures are those of a model built from scratch at that precision."""
    report = analyse_memory(g, inputs_held=held).predicted
    assert report.schedule is not None
    for row in report.by_precision[1:]:
        model = storage_model(g, _retyped_size(dtype_by_name(row.activation_dtype)), inputs_held=held)
        default = evaluate(model, default_order(model)).peak_bytes
        assert row.peak_activation_bytes == default
        assert row.best_order_peak_activation_bytes == min(
            default, evaluate(model, report.schedule.order_indices).peak_bytes
        )


def test_the_model_s_default_memory_is_its_default_order_s() -> None:
    n = Net()
    n.input("x", (10,))
    n.op("Conv", ["x"], "a", (100,))
    n.op("Relu", ["a"], "b", (100,))
    model = storage_model(n.build("b"))
    assert model.default_memory == evaluate(model, default_order(model))
    assert model.default_memory is model.default_memory  # worked out once: the model is frozen
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.storages = ()  # type: ignore[misc]
