"""IR invariants: frozen dataclasses, exact sizes, topological order and validation."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from edgeprof.errors import GraphError
from edgeprof.ir import (
    Graph,
    Node,
    Shape,
    Value,
    dtype_by_name,
    node_reads,
    topological_indices,
    topological_order,
    validate,
)
from tests.irbuild import GraphBuilder


def test_sizes_are_exact_python_ints_beyond_64_bits() -> None:
    v = Value("x", dtype_by_name("float32"), Shape.of(2**40, 2**30))
    assert v.numel() == 2**70
    assert v.nbytes() == 4 * 2**70


def test_sub_byte_dtypes_round_up_per_tensor() -> None:
    assert dtype_by_name("int4").nbytes_for(3) == 2
    assert dtype_by_name("int4").nbytes_for(4) == 2
    assert dtype_by_name("bool").nbytes_for(3) == 3


def test_symbolic_shape() -> None:
    s = Shape.of("batch", 3, 224, 224)
    assert not s.is_static
    assert s.symbols == ("batch",)
    assert str(s) == "batchx3x224x224"
    with pytest.raises(ValueError, match="batch"):
        s.numel()


def test_ir_is_frozen() -> None:
    n = Node("n", "Relu", ("x",), ("y",), {"a": 1})
    with pytest.raises(dataclasses.FrozenInstanceError):
        n.op = "Sigmoid"  # type: ignore[misc]
    with pytest.raises(TypeError):
        n.attrs["a"] = 2  # type: ignore[index]


def _chain_reversed() -> Graph:
    b = GraphBuilder()
    b.input("x", (4,))
    # written in reverse order on purpose: z depends on y
    b.node("Relu", ["y"], "z", (4,))
    b.node("Relu", ["x"], "y", (4,))
    return b.build(["z"])


def test_topological_order_fixes_source_order_and_keeps_it_when_valid() -> None:
    g = _chain_reversed()
    assert [n.name for n in topological_order(g)] == ["y", "z"]
    b = GraphBuilder()
    b.input("x", (4,))
    b.node("Relu", ["x"], "a", (4,))
    b.node("Relu", ["x"], "b", (4,))
    b.node("Add", ["a", "b"], "c", (4,))
    assert [n.name for n in topological_order(b.build(["c"]))] == ["a", "b", "c"]


def test_cycle_is_a_graph_error() -> None:
    b = GraphBuilder()
    b.input("x", (4,))
    b.node("Add", ["x", "z"], "y", (4,))
    b.node("Relu", ["y"], "z", (4,))
    with pytest.raises(GraphError, match="cycle"):
        validate(b.build(["z"]))


def test_two_producers_is_a_graph_error() -> None:
    b = GraphBuilder()
    b.input("x", (4,))
    b.node("Relu", ["x"], "y", (4,), name="r1")
    b.node("Relu", ["x"], "y", (4,), name="r2")
    with pytest.raises(GraphError, match="two nodes"):
        validate(b.build(["y"]))


def test_undefined_input_and_output_are_graph_errors() -> None:
    b = GraphBuilder()
    b.input("x", (4,))
    b.node("Add", ["x", "ghost"], "y", (4,))
    with pytest.raises(GraphError, match="ghost"):
        validate(b.build(["y"]))
    b2 = GraphBuilder()
    b2.input("x", (4,))
    b2.node("Relu", ["x"], "y", (4,))
    with pytest.raises(GraphError, match="not produced"):
        validate(b2.build(["nowhere"]))


def test_subgraph_may_read_outer_values() -> None:
    body = GraphBuilder("then")
    body.node("Relu", ["x"], "t", (4,))
    then_g = body.build(["t"])
    b = GraphBuilder()
    b.input("x", (4,))
    b.input("c", (), "bool")
    b.node("If", ["c"], "y", (4,), subgraphs={"then_branch": then_g, "else_branch": then_g})
    g = b.build(["y"])
    validate(g)
    assert g.consumers["x"][0].op == "If"  # the If reads x through its subgraph


# ---- what is worked out once per shape, node and graph ----------------------------------------


def test_a_shape_works_out_its_static_dims_and_element_count_once_and_compares_by_dims_only() -> None:
    s = Shape.of(2, 3, 4)
    assert (s.static(), s.numel(), s.is_static) == ((2, 3, 4), 24, True)
    assert s == Shape((2, 3, 4)) and hash(s) == hash(Shape((2, 3, 4)))
    assert [f.name for f in dataclasses.fields(s) if f.compare] == ["dims"]
    assert dataclasses.replace(s, dims=(5,)).numel() == 5  # a new shape works its own figures out
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.dims = (1,)  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(s)).numel() == 24
    assert not pickle.loads(pickle.dumps(Shape.of("batch", 3))).is_static
    with pytest.raises(ValueError, match="batch"):
        Shape.of("batch", 3).static()


def test_a_node_keeps_what_it_reads_and_cannot_change() -> None:
    n = Node("n", "Add", ("x", "", "x", "y"), ("z",))
    assert n.reads == ("x", "y") and node_reads(n) is n.reads
    with pytest.raises(dataclasses.FrozenInstanceError):
        n.inputs = ("y",)  # type: ignore[misc]
    assert dataclasses.replace(n, inputs=("y",)).reads == ("y",)
    assert n.attrs == {} and n.subgraphs == {}
    with pytest.raises(TypeError):
        n.attrs["a"] = 1  # type: ignore[index]


def test_the_cached_order_cannot_go_stale() -> None:
    g = _chain_reversed()
    assert [n.name for n in topological_order(g)] == ["y", "z"]
    assert topological_indices(g) == (1, 0)
    # the graph cannot be changed in place: a changed graph is a new graph, with its own order
    with pytest.raises(dataclasses.FrozenInstanceError):
        g.nodes = tuple(reversed(g.nodes))  # type: ignore[misc]
    with pytest.raises(TypeError):
        g.values["x"] = g.values["z"]  # type: ignore[index]
    swapped = dataclasses.replace(g, nodes=tuple(reversed(g.nodes)))
    assert [n.name for n in topological_order(swapped)] == ["y", "z"]
    assert topological_indices(swapped) == (0, 1)
    assert topological_indices(g) == (1, 0)


def test_the_cached_order_still_checks_the_outer_names_of_each_call() -> None:
    b = GraphBuilder()
    b.node("Relu", ["outer"], "y", (4,))
    g = b.build(["y"])
    assert [n.name for n in topological_order(g, frozenset({"outer"}))] == ["y"]
    with pytest.raises(GraphError, match="'outer', which nothing defines"):
        topological_order(g)
    assert [n.name for n in topological_order(g, {"outer": None})] == ["y"]


def test_a_cycle_is_refused_every_time() -> None:
    b = GraphBuilder()
    b.input("x", (4,))
    b.node("Add", ["x", "b"], "a", (4,))
    b.node("Relu", ["a"], "b", (4,))
    g = b.build(["b"])
    for _ in range(2):
        with pytest.raises(GraphError, match="cycle"):
            topological_order(g)
