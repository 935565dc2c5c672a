"""If, Loop and Scan: subgraphs as IR graphs and the facts the count pass reads (the branch an
If takes, a Loop's or Scan's trip count, or why it is not known)."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper

import edgeprof
from edgeprof.frontends.base import ShapeRequest
from edgeprof.frontends.onnx import load_onnx
from edgeprof.ir import Shape
from tests.frontends.onnx_builders import BOOL, FLOAT, INT64, const, make_graph, make_model, node, vinfo


def _if_model(cond_node: list[onnx.NodeProto], extra_inputs: list[tuple[str, list[int], int]]) -> onnx.ModelProto:
    """y = If(cond) then MatMul(x, w) (1x8 @ 8x4) else Relu(x)[:, :4] (a Slice)."""
    then_g = make_graph([node("MatMul", ["x", "w"], ["t"], name="mm")], [], [("t", None)])
    else_g = make_graph(
        [node("Relu", ["x"], ["e0"], name="relu"), node("Slice", ["x", "s0", "s4", "s1"], ["e"], name="cut")],
        [], [("e", None)],
    )
    return make_model(
        [*cond_node, node("If", ["cond"], ["y"], name="branch", then_branch=then_g, else_branch=else_g)],
        inputs=[("x", [1, 8]), *extra_inputs], outputs=["y"],
        initializers=[("w", np.ones((8, 4), np.float32)), ("s0", np.array([0], np.int64)),
                      ("s4", np.array([4], np.int64)), ("s1", np.array([1], np.int64))],
    )


def test_if_with_a_constant_condition_takes_its_branch() -> None:
    model = _if_model([const("cond", np.array(False))], [])
    lm = load_onnx(model, ShapeRequest())
    if_node = lm.graph.nodes[0]
    assert if_node.op == "If" and if_node.attrs["branch"] == "else_branch"
    assert set(if_node.subgraphs) == {"then_branch", "else_branch"}
    assert if_node.subgraphs["else_branch"].values["e"].shape == Shape((1, 4))
    assert lm.graph.values["y"].shape == Shape((1, 4))
    p = edgeprof.profile(model)
    assert p.totals.macs == 0 and p.totals.flops == p.totals.flops_max == 8  # Relu over 8 elements


def test_if_with_a_computed_condition_takes_its_branch() -> None:
    """cond = Shape(x)[1] > 4: known once the shape is."""
    cond_nodes = [node("Shape", ["x"], ["s"]), node("Gather", ["s", "i1"], ["d"], axis=0),
                  node("Greater", ["d", "four"], ["cond"])]
    model = _if_model(cond_nodes, [])
    model.graph.initializer.extend([helper.make_tensor("i1", INT64, [], [1]), helper.make_tensor("four", INT64, [], [4])])
    lm = load_onnx(model, ShapeRequest())
    assert next(n for n in lm.graph.nodes if n.op == "If").attrs["branch"] == "then_branch"
    assert edgeprof.profile(model).totals.macs == 8 * 4


def test_if_with_an_unknown_condition_has_no_branch() -> None:
    model = _if_model([], [("cond", [], BOOL)])
    lm = load_onnx(model, ShapeRequest())
    assert "branch" not in lm.graph.nodes[0].attrs
    p = edgeprof.profile(model)
    assert (p.totals.macs_min, p.totals.macs) == (0, 32)  # the range over the branches; totals at the costlier


def test_if_condition_from_a_value_flag() -> None:
    model = _if_model([], [("cond", [], BOOL)])
    taken = load_onnx(model, ShapeRequest(values={"cond": (1.0,)}))
    assert taken.graph.nodes[0].attrs["branch"] == "then_branch"
    assert taken.graph.values["y"].shape == Shape((1, 4))
    not_taken = load_onnx(model, ShapeRequest(values={"cond": (0.0,)}))
    assert not_taken.graph.nodes[0].attrs["branch"] == "else_branch"
    assert edgeprof.profile(model, values={"cond": 1}).totals.macs == 32


def _loop_model(m_source: str, cond_out: str = "cond_in") -> onnx.ModelProto:
    """acc (1, 4) carried; body: acc = acc @ w (4x4). ``m_source``: "const" (M = 5) or "input"."""
    body_nodes = [node("MatMul", ["acc_in", "w"], ["acc_out"], name="body_mm")]
    if cond_out == "computed":
        body_nodes.append(node("Less", ["i", "three"], ["cond_out"]))
    elif cond_out == "identity":
        body_nodes.append(node("Identity", ["cond_in"], ["cond_out"]))
    body = make_graph(
        body_nodes,
        inputs=[("i", [], INT64), ("cond_in", [], BOOL), ("acc_in", None)],
        outputs=[("cond_in" if cond_out == "cond_in" else "cond_out", [], BOOL), ("acc_out", None)],
    )
    pre = [const("M", np.array(5, np.int64))] if m_source == "const" else []
    inputs: list[tuple[object, ...]] = [("x", [1, 4])] + ([("M", [], INT64)] if m_source == "input" else [])
    return make_model(
        [*pre, const("true", np.array(True)), node("Loop", ["M", "true", "x"], ["y"], name="loop", body=body)],
        inputs=inputs, outputs=["y"],
        initializers=[("w", np.ones((4, 4), np.float32)), ("three", np.array(3, np.int64))],
    )


def test_loop_with_a_constant_trip_count() -> None:
    lm = load_onnx(_loop_model("const"), ShapeRequest())
    loop = next(n for n in lm.graph.nodes if n.op == "Loop")
    assert loop.attrs["trip_count"] == 5 and "trip_count_reason" not in loop.attrs
    body = loop.subgraphs["body"]
    assert body.values["acc_in"].shape == Shape((1, 4)) and body.values["acc_out"].shape == Shape((1, 4))
    assert lm.graph.values["y"].shape == Shape((1, 4))
    assert edgeprof.profile(_loop_model("const")).totals.macs == 5 * 16


def test_loop_whose_body_passes_the_condition_through_an_identity() -> None:
    loop = next(n for n in load_onnx(_loop_model("const", "identity"), ShapeRequest()).graph.nodes if n.op == "Loop")
    assert loop.attrs["trip_count"] == 5 and "trip_count_reason" not in loop.attrs


def test_loop_that_may_exit_early_counts_its_upper_bound() -> None:
    loop = next(n for n in load_onnx(_loop_model("const", "computed"), ShapeRequest()).graph.nodes if n.op == "Loop")
    assert loop.attrs["trip_count"] == 5
    assert str(loop.attrs["trip_count_reason"]).startswith("upper bound")


def test_loop_with_an_unknown_trip_count_names_the_flag() -> None:
    model = _loop_model("input")
    loop = next(n for n in load_onnx(model, ShapeRequest()).graph.nodes if n.op == "Loop")
    assert "trip_count" not in loop.attrs
    assert loop.attrs["trip_count_reason"] == "trip count not known statically; set it with --value M=N"
    p = edgeprof.profile(model)
    assert [(n.op, n.reason) for n in p.not_counted] == [("Loop", loop.attrs["trip_count_reason"])]
    assert p.totals.is_lower_bound
    given = load_onnx(model, ShapeRequest(values={"M": (3.0,)}))
    assert next(n for n in given.graph.nodes if n.op == "Loop").attrs["trip_count"] == 3


def test_loop_trip_count_computed_from_an_input_names_that_input() -> None:
    model = _loop_model("const")
    # M = steps * 2, steps a graph input
    model.graph.node[0].CopyFrom(node("Mul", ["steps", "two"], ["M"]))
    model.graph.input.append(vinfo("steps", [], INT64))
    model.graph.initializer.append(helper.make_tensor("two", INT64, [], [2]))
    loop = next(n for n in load_onnx(model, ShapeRequest()).graph.nodes if n.op == "Loop")
    assert "'steps'" in str(loop.attrs["trip_count_reason"]) and "--value steps=" in str(loop.attrs["trip_count_reason"])
    loop = next(n for n in load_onnx(model, ShapeRequest(values={"steps": (4.0,)})).graph.nodes if n.op == "Loop")
    assert loop.attrs["trip_count"] == 8


def _scan_model(seq: int | str, axis: int | None = None) -> onnx.ModelProto:
    """A running sum over the rows of x (seq, 3): state (3,), scan input slices (3,)."""
    body = make_graph(
        [node("Add", ["s_in", "row"], ["s_out"], name="acc"), node("Identity", ["s_out"], ["row_out"])],
        inputs=[("s_in", None), ("row", None)], outputs=[("s_out", None), ("row_out", None)],
    )
    attrs: dict[str, Any] = {"num_scan_inputs": 1}
    x_shape: list[int | str] = [seq, 3]
    if axis is not None:
        attrs["scan_input_axes"] = [axis]
        attrs["scan_output_axes"] = [axis]
        x_shape = [3, seq]
    return make_model(
        [node("Scan", ["init", "x"], ["final", "rows"], name="scan", body=body, **attrs)],
        inputs=[("x", x_shape)], outputs=["final", "rows"], initializers=[("init", np.zeros(3, np.float32))],
    )


def test_scan_trip_count_is_the_scan_axis_length() -> None:
    lm = load_onnx(_scan_model(6), ShapeRequest())
    scan = lm.graph.nodes[0]
    assert scan.attrs["trip_count"] == 6
    body = scan.subgraphs["body"]
    assert body.values["row"].shape == Shape((3,)) and body.values["s_in"].shape == Shape((3,))
    assert edgeprof.profile(_scan_model(6)).totals.flops == 6 * 3  # one Add of 3 per step


def test_scan_along_another_axis() -> None:
    scan = load_onnx(_scan_model(5, axis=1), ShapeRequest()).graph.nodes[0]
    assert scan.attrs["trip_count"] == 5


def test_scan_length_from_a_dim_flag() -> None:
    model = _scan_model("steps")
    assert load_onnx(model, ShapeRequest(dims={"steps": 9})).graph.nodes[0].attrs["trip_count"] == 9


def test_subgraph_values_read_from_outer_scope_stay_referenced_by_name() -> None:
    lm = load_onnx(_loop_model("const"), ShapeRequest())
    body = next(n for n in lm.graph.nodes if n.op == "Loop").subgraphs["body"]
    assert "w" not in body.values and "w" not in body.weights
    assert "w" in lm.graph.weights


def test_loop_carried_shape_from_outer_value_when_inference_cannot() -> None:
    """A custom op in the body: ONNX cannot infer it, the carried value keeps the outer shape."""
    body = make_graph(
        [node("Step", ["h_in"], ["h_out"], domain="custom")],
        inputs=[("i", [], INT64), ("c", [], BOOL), ("h_in", None)],
        outputs=[("c", [], BOOL), ("h_out", None)],
    )
    model = make_model(
        [const("M", np.array(2, np.int64)), node("Loop", ["M", "", "h0"], ["h"], body=body)],
        inputs=[("h0", [2, 16], FLOAT)], outputs=["h"], domains={"custom": 1},
    )
    loop = next(n for n in load_onnx(model, ShapeRequest()).graph.nodes if n.op == "Loop")
    assert loop.subgraphs["body"].values["h_in"].shape == Shape((2, 16))
    assert loop.attrs["trip_count"] == 2


def test_if_branch_outputs_shape_the_if_outputs() -> None:
    """Branches of different shapes: ONNX merges them into an unknown dim; a known condition
    gives the If the taken branch's shape."""
    then_g = make_graph([node("Identity", ["a"], ["t"])], [], [("t", None)])
    else_g = make_graph([node("Identity", ["b"], ["e"])], [], [("e", None)])
    model = make_model(
        [const("cond", np.array(True)), node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g),
         node("Relu", ["y"], ["z"])],
        inputs=[("a", [2, 3]), ("b", [2, 5])], outputs=["z"],
    )
    lm = load_onnx(model, ShapeRequest())
    assert lm.graph.values["y"].shape == Shape((2, 3))
    assert lm.graph.values["z"].shape == Shape((2, 3))


def test_nested_if_inside_a_loop_body() -> None:
    inner_then = make_graph([node("Neg", ["acc_in"], ["t"])], [], [("t", None)])
    inner_else = make_graph([node("Relu", ["acc_in"], ["e"])], [], [("e", None)])
    body = make_graph(
        [const("flag", np.array(False)), node("If", ["flag"], ["acc_out"], name="inner", then_branch=inner_then,
                                              else_branch=inner_else)],
        inputs=[("i", [], INT64), ("c", [], BOOL), ("acc_in", None)],
        outputs=[("c", [], BOOL), ("acc_out", None)],
    )
    model = make_model(
        [const("M", np.array(3, np.int64)), node("Loop", ["M", "", "x"], ["y"], body=body)],
        inputs=[("x", [4])], outputs=["y"],
    )
    g = load_onnx(model, ShapeRequest()).graph
    loop = next(n for n in g.nodes if n.op == "Loop")
    inner = next(n for n in loop.subgraphs["body"].nodes if n.op == "If")
    assert inner.attrs["branch"] == "else_branch" and loop.attrs["trip_count"] == 3
    assert edgeprof.profile(model).totals.flops == 3 * 4  # Relu of 4, three times


def test_if_output_dtype_comes_from_the_branch() -> None:
    model = _if_model([const("cond", np.array(True))], [])
    lm = load_onnx(model, ShapeRequest())
    assert lm.graph.values["y"].dtype.name == "float32"


def test_scan_of_opset_8_has_a_batch_axis() -> None:
    """Opset 8 Scan: inputs (sequence_lens, states..., scans...), axis 0 batch, axis 1 the sequence:
    the body runs batch x sequence times."""
    body = make_graph(
        [node("Add", ["s_in", "row"], ["s_out"]), node("Identity", ["s_out"], ["row_out"])],
        inputs=[("s_in", None), ("row", None)], outputs=[("s_out", None), ("row_out", None)],
    )
    model = make_model([node("Scan", ["", "init", "x"], ["final", "rows"], body=body, num_scan_inputs=1)],
                       inputs=[("x", [2, 6, 3]), ("init", [2, 3])], outputs=["final", "rows"], opset=8)
    scan = load_onnx(model, ShapeRequest()).graph.nodes[0]
    assert scan.attrs["trip_count"] == 12
    assert scan.subgraphs["body"].values["row"].shape == Shape((3,))
    assert edgeprof.profile(model).totals.flops == 12 * 3


def test_loop_scan_outputs_stack_along_the_trip_count() -> None:
    body = make_graph(
        [node("Relu", ["acc_in"], ["acc_out"]), node("Identity", ["acc_out"], ["scan_out"])],
        inputs=[("i", [], INT64), ("c", [], BOOL), ("acc_in", None)],
        outputs=[("c", [], BOOL), ("acc_out", None), ("scan_out", None)],
    )
    model = make_model([const("M", np.array(4, np.int64)), node("Loop", ["M", "", "x"], ["y", "ys"], body=body)],
                       inputs=[("x", [2, 3])], outputs=["y", "ys"])
    g = load_onnx(model, ShapeRequest()).graph
    assert g.values["y"].shape == Shape((2, 3))
    assert g.values["ys"].shape == Shape((4, 2, 3))


def test_loop_with_initial_condition_false_runs_zero_times() -> None:
    model = _loop_model("const")
    model.graph.node[1].CopyFrom(const("true", np.array(False)))
    loop = next(n for n in load_onnx(model, ShapeRequest()).graph.nodes if n.op == "Loop")
    assert loop.attrs["trip_count"] == 0
