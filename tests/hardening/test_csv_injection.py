"""CSV formula injection: node names that a spreadsheet would run as formulas (``=HYPERLINK``,
``+1``, ``-2+3``, ``@SUM``, a leading tab) are written with a leading ``'`` so that they show as
text; the counts edgeprof writes stay numbers (a negative number too: the type of the cell
decides, not its text)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from onnx import TensorProto, helper

from edgeprof.cli import main
from edgeprof.render.tables import csv_cell, csv_table

FORMULAS = ('=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=2")


def _model(path: Path) -> Path:
    names = list(FORMULAS)
    nodes = []
    src = "x"
    for i, name in enumerate(names):
        dst = "y" if i == len(names) - 1 else f"v{i}"
        nodes.append(helper.make_node("Relu", [src], [dst], name=name))
        src = dst
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


def test_formula_like_node_names_are_written_as_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", str(_model(tmp_path / "m.onnx")), "--format", "csv"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["name"] for r in rows] == ["'=HYPERLINK(\"http://x\")", "'+1", "'-2+3", "'@SUM(A1)", "'\\x09=1",
                                        "'\\x0d=2"]
    for r in rows:  # every cell a spreadsheet would evaluate starts with a quote
        assert all(not v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in r.values()), r
        assert r["flops"] == "4" and r["params"] == "0"  # numbers stay numbers


def test_the_type_of_a_cell_decides_not_its_text() -> None:
    assert csv_cell(-5) == "-5" and csv_cell(-0.25) == "-0.25" and csv_cell(12) == "12"
    assert csv_cell("-5") == "'-5"  # text that looks like a number stays text (a model's name)
    assert csv_cell("a=b") == "a=b" and csv_cell("") == ""
    text = csv_table(["name", "delta"], [["=1+1", -3], ["ok", 4]])
    assert text == "name,delta\n'=1+1,-3\nok,4\n"
