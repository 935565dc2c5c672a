"""IR invariants: frozen dataclasses, exact sizes, topological order and validation."""

from __future__ import annotations

import dataclasses

import pytest

from edgeprof.errors import GraphError
from edgeprof.ir import Graph, Node, Shape, Value, dtype_by_name, topological_order, validate
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
