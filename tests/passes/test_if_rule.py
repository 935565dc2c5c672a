"""An ``If`` whose condition is a graph input (not known statically): one rule across the totals,
the categories, the per-operator and per-module views, the layers and every renderer's share
column. The totals are the costlier branch's (the worst case), the other branch's layers are
listed with their own figures but left out of every sum and share, and the range down to the
cheaper branch is stated."""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import edgeprof
from edgeprof.render.csv import render_csv
from edgeprof.render.format import ViewOptions
from edgeprof.render.html import render_html
from edgeprof.render.markdown import render_markdown
from edgeprof.render.terminal import render_terminal

PRE, POST = 8, 32  # Add over 8 elements; Sigmoid over 8 (4 each)
MM, RELU = 2 * 8 * 8 - 8, 8  # MatMul (1,8)x(8,8): 8 dot products of 8 = 120 FLOPs, 64 MACs
THEN = 3 * MM + RELU  # three matmuls: the costlier branch
ELSE = MM + RELU


def _branch(name: str, matmuls: int) -> onnx.GraphProto:
    nodes, inits, cur = [], [], "x"
    for k in range(matmuls):
        inits.append(numpy_helper.from_array(np.ones((8, 8), np.float32), f"{name}_w{k}"))
        nodes.append(helper.make_node("MatMul", [cur, f"{name}_w{k}"], [f"{name}_h{k}"], name=f"{name}_mm{k}"))
        cur = f"{name}_h{k}"
    nodes.append(helper.make_node("Relu", [cur], [f"{name}_out"], name=f"{name}_relu"))
    return helper.make_graph(nodes, name, [], [helper.make_tensor_value_info(f"{name}_out", TensorProto.FLOAT, [1, 8])],
                             inits)


def _model() -> onnx.ModelProto:
    nodes = [
        helper.make_node("Add", ["inp", "inp"], ["x"], name="pre"),
        helper.make_node("If", ["cond"], ["y"], name="if", then_branch=_branch("then", 3),
                         else_branch=_branch("else", 1)),
        helper.make_node("Sigmoid", ["y"], ["out"], name="post"),
    ]
    graph = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("inp", TensorProto.FLOAT, [1, 8]),
         helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 8])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_totals_categories_views_and_shares_follow_the_costlier_branch() -> None:
    p = edgeprof.profile(_model())
    t = p.totals
    assert (t.flops, t.macs) == (PRE + THEN + POST, 3 * 64)
    assert (t.flops_min, t.macs_min) == (PRE + ELSE + POST, 64) and (t.flops_max, t.macs_max) == (t.flops, t.macs)
    # the categories add up to the totals (the branch rows are in them: linear is the then-branch's matmuls)
    assert sum(c.flops for c in p.categories) == t.flops and sum(c.macs for c in p.categories) == t.macs
    assert {c.category: c.flops for c in p.categories}["linear"] == 3 * MM
    assert abs(sum(c.share for c in p.categories) - 1) < 1e-9
    assert sum(r.flops for r in p.by_operator()) == t.flops == sum(r.flops for r in p.by_module())
    # the layers in the totals add up to them; the other branch is listed with its own figures
    shown = [x for x in p.layers if x.in_totals]
    other = [x for x in p.layers if not x.in_totals]
    assert sum(x.flops for x in shown) == t.flops
    assert {x.name for x in other} == {"if/else_branch/else_mm0", "if/else_branch/else_relu"}
    assert sum(x.flops for x in other) == ELSE
    note = next(x.note for x in p.layers if x.name == "if")
    assert "costlier branch (then_branch)" in note and f"else_branch {ELSE:,} FLOPs" in note


def _shares(cells: list[str]) -> float:
    return sum(float(c.rstrip("%")) for c in cells if c.endswith("%") and c != "<0.1%")


def test_every_renderer_shows_shares_within_the_totals() -> None:
    p = edgeprof.profile(_model())
    text = render_terminal(p, ViewOptions(top=0), width=200)
    rows = [line for line in text.splitlines() if re.match(r"^(pre|if|post)\b", line)]
    assert len(rows) == 9
    # shares of the layers in the totals add up to 100% (rounding aside); the other branch shows "-"
    assert abs(_shares([line.split()[-1] for line in rows]) - 100) < 0.5
    assert all(line.split()[-1] == "-" for line in rows if "not in the totals" in line)
    assert "FLOPs 168 .. 408" in text and "costlier branch" in text
    md = render_markdown(p, ViewOptions(top=0))
    md_rows = [line for line in md.splitlines() if line.startswith(("| pre", "| if", "| post"))]
    assert abs(_shares([r.strip("| ").split("|")[-1].strip() for r in md_rows]) - 100) < 0.5
    assert sum("not in the totals" in r for r in md_rows) == 2
    html = render_html(p)
    assert html.count("<small>(other branch of if: not in the totals)</small>") == 2
    assert "else_mm0 (MatMul)" not in html  # the FLOPs chart's bars carry shares: only layers in the totals
    rows_csv = list(csv.DictReader(io.StringIO(render_csv(p))))
    assert [r["in_totals"] for r in rows_csv].count("False") == 2
    data = json.loads(p.to_json())
    assert data["totals"]["flops_min"] == PRE + ELSE + POST


def test_latency_and_energy_follow_the_costlier_branch_too() -> None:
    """The same rule in the device predictions: the costlier branch's kernels are predicted and
    costed, the cheaper branch's left out with a note; neither makes the figure a lower bound."""
    p = edgeprof.estimate_energy(edgeprof.predict_latency(edgeprof.profile(_model()), ["rpi5"]), ["rpi5"])
    lat = p.latency.predicted["rpi5"]  # type: ignore[union-attr]
    timed = {x.name for x in lat.layers if x.time_s > 0}
    assert any("then_mm2" in n for n in timed) and not any("else_mm0" in n for n in timed)
    assert not lat.is_lower_bound
    assert any("cheaper branch of an If" in n for n in lat.missing)
    e = p.energy.estimated["rpi5"]  # type: ignore[union-attr]
    assert not e.is_lower_bound and any("cheaper branch" in m for m in e.missing)
    assert any("then_mm0" in x.name for x in e.layers) and not any("else_mm0" in x.name for x in e.layers)
