"""The count pass: totals, not-counted ops, control flow (If ranges, Loop/Scan trip counts)."""

from __future__ import annotations

from edgeprof.frontends.base import LoadedModel
from edgeprof.ir import Graph
from edgeprof.passes.summary import build_profile
from edgeprof.report.model import ModelInfo, Profile
from tests.irbuild import GraphBuilder


def _profile(g: Graph) -> Profile:
    return build_profile(LoadedModel(g, ModelInfo("t", "test"), ()))


def _mm_body(name: str, k: int) -> Graph:
    """A subgraph with one (1,k)x(k,1) MatMul reading outer 'x' and outer weight 'w'."""
    b = GraphBuilder(name)
    b.node("MatMul", ["x", "w"], f"{name}_y", (1, 1), name=f"mm_{name}")
    return b.build([f"{name}_y"])


def _outer(k: int) -> GraphBuilder:
    b = GraphBuilder()
    b.input("x", (1, k))
    b.weight("w", (k, 1))
    return b


def test_totals_sum_layers_and_unknown_op_is_listed_not_zero() -> None:
    b = _outer(8)
    b.node("MatMul", ["x", "w"], "y", (1, 1), name="mm")
    b.node("MyCustomOp", ["y"], "z", (1, 1), name="custom")
    b.node("MyCustomOp", ["z"], "z2", (1, 1), name="custom2")
    p = _profile(b.build(["z2"]))
    assert p.totals.flops == 2 * 8 - 1
    assert p.totals.macs == 8
    assert p.totals.is_lower_bound
    assert [(n.op, n.count, n.example) for n in p.not_counted] == [("MyCustomOp", 2, "custom")]
    states = {layer.name: layer.state for layer in p.layers}
    assert states == {"mm": "counted", "custom": "not_counted", "custom2": "not_counted"}


def test_params_count_parameters_once_and_skip_buffers() -> None:
    b = GraphBuilder()
    b.input("x", (1, 4))
    b.weight("w", (4, 3), role="parameter", key="shared")
    b.weight("w_tied", (4, 3), role="parameter", key="shared")  # the same storage under another name
    b.weight("stat", (3,), role="buffer")
    b.node("MatMul", ["x", "w"], "a", (1, 3))
    b.node("MatMul", ["x", "w_tied"], "c", (1, 3))
    b.node("Add", ["a", "stat"], "d", (1, 3))
    p = _profile(b.build(["c", "d"]))
    assert p.totals.params == 12
    assert p.totals.weight_bytes == 4 * (12 + 3)
    assert {layer.name: layer.params for layer in p.layers if layer.op == "MatMul"} == {"a": 12, "c": 12}


def test_if_with_known_branch_counts_only_that_branch() -> None:
    b = _outer(8)
    b.input("cond", (), "bool")
    b.node("If", ["cond"], "y", (1, 1), name="if", branch="then_branch",
           subgraphs={"then_branch": _mm_body("then", 8), "else_branch": Graph("else", (), (), ("x",), {})})
    p = _profile(b.build(["y"]))
    assert p.totals.flops == 15
    assert p.totals.flops_max == 15
    assert any(layer.name == "if/then_branch/mm_then" for layer in p.layers)


def test_if_with_unknown_branch_gives_a_range() -> None:
    two = GraphBuilder("else")
    two.node("MatMul", ["x", "w"], "e1", (1, 1), name="mm1")
    two.node("MatMul", ["x", "w"], "e2", (1, 1), name="mm2")
    b = _outer(8)
    b.input("cond", (), "bool")
    b.node("If", ["cond"], "y", (1, 1), name="if",
           subgraphs={"then_branch": _mm_body("then", 8), "else_branch": two.build(["e2"])})
    p = _profile(b.build(["y"]))
    # the totals are the costlier branch's (else: two matmuls); the range goes down to the cheaper one
    assert (p.totals.flops_min, p.totals.flops, p.totals.flops_max) == (15, 30, 30)
    assert (p.totals.macs_min, p.totals.macs, p.totals.macs_max) == (8, 16, 16)
    in_branches = [layer for layer in p.layers if layer.range_group == "if"]
    assert len(in_branches) == 3
    assert [x.name for x in in_branches if not x.in_totals] == ["if/then_branch/mm_then"]


def test_loop_multiplies_the_body_by_its_trip_count() -> None:
    b = _outer(8)
    b.node("Loop", [], "y", (1, 1), name="loop", trip_count=5, subgraphs={"body": _mm_body("body", 8)})
    p = _profile(b.build(["y"]))
    assert p.totals.flops == 5 * 15
    body = next(layer for layer in p.layers if layer.name == "loop/body/mm_body")
    assert body.calls == 5
    assert body.macs == 40


def test_loop_with_unknown_trip_count_is_not_counted_with_reason() -> None:
    b = _outer(8)
    b.node("Loop", [], "y", (1, 1), name="loop", trip_count_reason="trip count not known statically; set --value M=N",
           subgraphs={"body": _mm_body("body", 8)})
    p = _profile(b.build(["y"]))
    assert p.totals.is_lower_bound
    assert p.not_counted[0].op == "Loop"
    assert "--value" in p.not_counted[0].reason


def test_symbolic_shape_makes_a_node_not_counted() -> None:
    b = GraphBuilder()
    b.input("x", ("n", 4))
    b.weight("w", (4, 3))
    b.node("MatMul", ["x", "w"], "y", ("n", 3))
    p = _profile(b.build(["y"]))
    assert p.totals.is_lower_bound
    assert "symbolic" in p.not_counted[0].reason


def test_profile_json_round_trip() -> None:
    b = _outer(8)
    b.node("MatMul", ["x", "w"], "y", (1, 1), name="mm")
    b.node("Mystery", ["y"], "z", (1, 1), name="q")
    p = _profile(b.build(["z"]))
    assert Profile.from_json(p.to_json()) == p


def test_quantised_weights_are_parameters_and_their_scales_are_not() -> None:
    from edgeprof.passes.params import weight_table

    b = GraphBuilder()
    b.input("xq", (1, 16), "uint8")
    b.weight("w_q", (16, 8), "int8")
    for name, dtype in (("xs", "float32"), ("xz", "uint8"), ("ws", "float32"), ("wz", "int8"), ("ys", "float32"),
                        ("yz", "uint8")):
        b.weight(name, (), dtype)
    b.node("QLinearMatMul", ["xq", "xs", "xz", "w_q", "ws", "wz", "ys", "yz"], "y", (1, 8), "uint8")
    table = weight_table(b.build(["y"]))
    assert table.params == 16 * 8
    assert {w.name for w in table.weights if table.role(w) == "constant"} == {"xs", "xz", "ws", "wz", "ys", "yz"}


def test_loop_that_may_exit_early_gives_a_range_up_to_its_trip_count() -> None:
    b = _outer(8)
    b.node("Loop", [], "y", (1, 1), name="loop", trip_count=5,
           trip_count_reason="upper bound: loop may exit early (its condition is computed in the body)",
           subgraphs={"body": _mm_body("body", 8)})
    p = _profile(b.build(["y"]))
    assert (p.totals.flops_min, p.totals.flops, p.totals.flops_max) == (0, 5 * 15, 5 * 15)
    assert (p.totals.macs_min, p.totals.macs, p.totals.macs_max) == (0, 5 * 8, 5 * 8)
    assert all(x.in_totals for x in p.layers)
    loop_row = next(layer for layer in p.layers if layer.name == "loop")
    assert "at most 5" in loop_row.note
    assert all(layer.range_group == "loop" for layer in p.layers if layer.name.startswith("loop/"))
