"""External data is read from the model's folder only, on every path (#12 item 5).

onnxruntime's symbolic shape inference (the fallback when an op of another domain leaves shapes
unresolved) calls ``numpy_helper.to_array`` on every Constant, and onnx resolves an external
``location`` against the *current* folder. The hostile model lies in folder A and names
``secret.bin``; A holds a harmless ``secret.bin`` (so the model-folder check passes) and the
folder the user stands in, B, holds a ``secret.bin`` of known values. Before the fix those
values came back as the dims of a Reshape. Now no tensor with external data reaches
third-party code (``frontends/onnx/_sealed.py``): B's file is never opened and its values appear
in no output, wherever the Constant sits (main graph, If branch, function body, subgraph
initializer, sparse Constant) and also for an in-memory model with no folder.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from edgeprof.cli import main
from edgeprof.frontends.base import ShapeRequest
from edgeprof.frontends.onnx import load_onnx
from edgeprof.frontends.onnx._sealed import has_external, sealed_copy
from edgeprof.frontends.onnx._shapes import ort_symbolic_shapes

SECRET_BASE = 987_654_321
SECRET_TEXT = "98765"
LARGE = 4097  # more elements than the frontend reads itself (SMALL_VALUES = 4096)

_opened: list[str] | None = None


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _opened is not None and isinstance(args[0], (str, bytes, os.PathLike)):
        _opened.append(os.fsdecode(args[0]))


sys.addaudithook(_audit)


@contextmanager
def _watch_opens() -> Iterator[list[str]]:
    """Every path Python opens while the block runs (audit hook: ``open`` events)."""
    global _opened
    _opened = []
    try:
        yield _opened
    finally:
        _opened = None


def _external(name: str, n: int, elem: int = TensorProto.INT64) -> TensorProto:
    t = TensorProto()
    t.name = name
    t.data_type = elem
    t.dims.append(n)
    t.data_location = TensorProto.EXTERNAL
    e = t.external_data.add()
    e.key, e.value = "location", "secret.bin"
    return t


def _vi(name: str, shape: list[int] | None, elem: int = TensorProto.FLOAT) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, shape)


def _hostile(where: str, n: int = LARGE) -> onnx.ModelProto:
    """``com.microsoft::Gelu`` (onnxruntime's inference is the fallback for other domains), then a
    Reshape of its output by a Constant whose values are external data ``secret.bin``."""
    gelu = helper.make_node("Gelu", ["x"], ["y"], domain="com.microsoft")
    reshape = helper.make_node("Reshape", ["y", "c"], ["z"])
    functions: list[onnx.FunctionProto] = []
    inits: list[TensorProto] = []
    if where == "main":
        nodes = [gelu, helper.make_node("Constant", [], ["c"], value=_external("c", n)), reshape]
    elif where == "sparse":
        sparse = helper.make_sparse_tensor(_external("c", 1), helper.make_tensor("i", TensorProto.INT64, [1], [0]),
                                           [n])
        nodes = [gelu, helper.make_node("Constant", [], ["c"], sparse_value=sparse), reshape]
    elif where == "function":
        body = [helper.make_node("Constant", [], ["c"], value=_external("c", n)),
                helper.make_node("Reshape", ["a", "c"], ["b"])]
        functions.append(helper.make_function("local", "Leak", ["a"], ["b"], body,
                                              [helper.make_opsetid("", 17)]))
        nodes = [gelu, helper.make_node("Leak", ["y"], ["z"], domain="local")]
    elif where in ("if_branch", "if_initializer"):
        if where == "if_branch":
            then_g = helper.make_graph([helper.make_node("Constant", [], ["c"], value=_external("c", n)),
                                        helper.make_node("Reshape", ["y", "c"], ["t"])], "then", [], [_vi("t", None)])
        else:
            then_g = helper.make_graph([helper.make_node("Reshape", ["y", "c"], ["t"])], "then", [], [_vi("t", None)],
                                       [_external("c", n)])
        else_g = helper.make_graph([helper.make_node("Identity", ["y"], ["e"])], "else", [], [_vi("e", None)])
        nodes = [gelu, helper.make_node("If", ["flag"], ["z"], then_branch=then_g, else_branch=else_g)]
        inits.append(helper.make_tensor("flag", TensorProto.BOOL, [], [True]))
    else:
        raise AssertionError(where)
    g = helper.make_graph(nodes, "g", [_vi("x", [1, 4])], [_vi("z", None)], inits)
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1), helper.make_opsetid("local", 1)]
    m = helper.make_model(g, opset_imports=opsets, functions=functions)
    m.ir_version = 8
    return m


def _lay_out(tmp_path: Path, model: onnx.ModelProto, n: int = LARGE) -> tuple[Path, Path]:
    """Folder A: the model and a harmless secret.bin. Folder B (returned second): the user's
    folder, whose secret.bin holds the known values."""
    a, b = tmp_path / "A", tmp_path / "B"
    a.mkdir()
    b.mkdir()
    (a / "model.onnx").write_bytes(model.SerializeToString())
    (a / "secret.bin").write_bytes(np.ones(n, np.int64).tobytes())
    (b / "secret.bin").write_bytes((np.arange(n, dtype=np.int64) + SECRET_BASE).tobytes())
    return a / "model.onnx", b


def _assert_only_folder_a(opened: list[str], a: Path) -> None:
    for p in opened:
        if os.path.basename(p) == "secret.bin":
            real = Path(os.path.realpath(p))
            assert real.parent == a.resolve(), f"opened {real}, outside the model's folder {a}"


@pytest.mark.parametrize("where", ["main", "sparse", "function", "if_branch", "if_initializer"])
def test_external_data_is_never_read_from_the_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], where: str) -> None:
    path, user_folder = _lay_out(tmp_path, _hostile(where))
    monkeypatch.chdir(user_folder)
    with _watch_opens() as opened:
        codes = [main(["profile", str(path), "--format", fmt]) for fmt in ("json", "table")]
        lm = load_onnx(path, ShapeRequest())
    out, err = capsys.readouterr()
    assert codes == [0, 0], err
    assert SECRET_TEXT not in out and SECRET_TEXT not in err
    assert SECRET_TEXT not in json.dumps([str(v.shape) for v in lm.graph.values.values()]) + repr(lm.notices)
    _assert_only_folder_a(opened, path.parent)


def test_an_in_memory_model_with_small_external_tensors_reads_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no folder to check against, even a small external tensor is not read (the frontend
    notes it was not), and the current folder's file of that name is never opened."""
    model = _hostile("main", n=3)
    _, user_folder = _lay_out(tmp_path, model, n=3)
    monkeypatch.chdir(user_folder)
    with _watch_opens() as opened:
        lm = load_onnx(model, ShapeRequest())
    assert not any(os.path.basename(p) == "secret.bin" for p in opened)
    assert any("external data, which was not read" in n for n in lm.notices)
    assert SECRET_TEXT not in repr([str(v.shape) for v in lm.graph.values.values()])


@pytest.mark.parametrize("where", ["main", "sparse", "function", "if_branch", "if_initializer"])
def test_the_copy_given_to_third_party_inference_has_no_external_tensor(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    model = _hostile(where)
    assert has_external(model)
    sealed, standins = sealed_copy(model)
    assert not has_external(sealed)
    assert has_external(model)  # the model given is never modified
    _, user_folder = _lay_out(tmp_path, model)
    monkeypatch.chdir(user_folder)
    with _watch_opens() as opened:
        found = ort_symbolic_shapes(model)
    assert not any(os.path.basename(p) == "secret.bin" for p in opened)
    assert not standins & found.keys()
    assert SECRET_TEXT not in repr(found)
