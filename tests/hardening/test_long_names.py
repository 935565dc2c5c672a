"""An 8-million-character node name: every text format renders it in time linear in its input
(the terminal table once wrapped such a name in quadratic time: 194 s), and the terminal report
stays small: a name over ``NAME_LIMIT`` characters shows as its head, ``...`` and its tail."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from onnx import TensorProto, helper

from edgeprof.cli import main
from edgeprof.render.terminal import NAME_LIMIT, wrap_path

LENGTH = 8_000_000
GUARD_S = 60.0  # generous: each format takes about 2 s on a 2-core VM


def _model(path: Path, name: str) -> Path:
    nodes = [helper.make_node("Relu", ["x"], ["h"], name=name), helper.make_node("Abs", ["h"], ["y"], name="/tail/Abs")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())
    return path


@pytest.fixture(scope="module")
def huge_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    name = "/enc/" + "x" * LENGTH + "/block.7/Relu"
    return _model(tmp_path_factory.mktemp("long") / "m.onnx", name)


@pytest.mark.parametrize("fmt", ["table", "md", "csv", "json", "html"])
def test_an_8m_character_node_name_renders_in_bounded_time(huge_model: Path, capsys: pytest.CaptureFixture[str],
                                                         fmt: str) -> None:
    start = time.monotonic()
    code = main(["profile", str(huge_model), "--format", fmt, "--by-module", "2", "--by-operator", "--top", "0"])
    elapsed = time.monotonic() - start
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert elapsed < GUARD_S, f"{fmt}: {elapsed:.1f} s"
    if fmt == "table":  # the terminal gets the head and the informative tail, not 8 MB
        assert len(out) < 20_000, len(out)
        assert "/block.7/Relu" in out.replace("\n", "").replace(" ", "") and "..." in out
    else:  # files keep the whole name
        assert len(out) > LENGTH


def test_wrapping_a_long_name_is_linear() -> None:
    start = time.monotonic()
    lines = wrap_path("y" * LENGTH, 7)
    assert time.monotonic() - start < 10.0
    assert len(lines) == -(-LENGTH // 7) and all(len(line) <= 7 for line in lines)
    assert NAME_LIMIT < 1000
