"""Every way an ONNX file can be wrong gives a typed edgeprof error with one clear line that
names the file and the problem, never a traceback from onnx or protobuf."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import helper

from edgeprof.errors import EdgeprofError, GraphError, ModelLoadError
from edgeprof.frontends.base import ShapeRequest
from edgeprof.frontends.onnx import load_onnx
from tests.frontends.onnx_builders import conv_net, make_model, node, save


def _load_error(source: Path | onnx.ModelProto, kind: type[EdgeprofError]) -> str:
    with pytest.raises(kind) as info:
        load_onnx(source, ShapeRequest())
    message = str(info.value)
    assert "\n" not in message
    return message


# ---- reading ------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.onnx"
    msg = _load_error(path, ModelLoadError)
    assert str(path) in msg and "no such file" in msg


def test_directory(tmp_path: Path) -> None:
    msg = _load_error(tmp_path, ModelLoadError)
    assert str(tmp_path) in msg and "directory" in msg


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = save(conv_net(), tmp_path / "locked.onnx")
    path.chmod(0)
    try:
        msg = _load_error(path, ModelLoadError)
    finally:
        path.chmod(0o600)
    assert str(path) in msg and "cannot read" in msg


def test_unreadable_path_is_reported_not_raised(tmp_path: Path) -> None:
    """A path through a regular file (works as root too): a clear error, not an OSError."""
    blocker = tmp_path / "file"
    blocker.write_bytes(b"x")
    path = blocker / "model.onnx"
    msg = _load_error(path, ModelLoadError)
    assert str(path) in msg


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    msg = _load_error(path, ModelLoadError)
    assert str(path) in msg and "empty" in msg


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "random.onnx"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    msg = _load_error(path, ModelLoadError)
    assert str(path) in msg and "not an ONNX model" in msg


def test_text_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.onnx"
    path.write_text("this is not a model\n" * 50)
    msg = _load_error(path, ModelLoadError)
    assert str(path) in msg and "not an ONNX model" in msg and "text file" in msg


def test_png_image(tmp_path: Path) -> None:
    path = tmp_path / "picture.onnx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(64))
    msg = _load_error(path, ModelLoadError)
    assert str(path) in msg and "PNG" in msg


def test_truncated_file(tmp_path: Path) -> None:
    data = conv_net().SerializeToString()
    path = tmp_path / "cut.onnx"
    path.write_bytes(data[: len(data) // 2])
    msg = _load_error(path, EdgeprofError)
    assert str(path) in msg and "truncated" in msg


def test_corrupt_protobuf(tmp_path: Path) -> None:
    data = bytearray(conv_net().SerializeToString())
    data[len(data) // 3 : len(data) // 3 + 8] = b"\xff" * 8
    path = tmp_path / "corrupt.onnx"
    path.write_bytes(bytes(data))
    msg = _load_error(path, ModelLoadError)
    assert str(path) in msg and ("corrupt" in msg or "not an ONNX model" in msg)


def test_protobuf_that_is_not_a_model(tmp_path: Path) -> None:
    path = tmp_path / "tensor.onnx"
    path.write_bytes(helper.make_tensor("t", onnx.TensorProto.FLOAT, [1], [1.0]).SerializeToString())
    msg = _load_error(path, ModelLoadError)
    assert str(path) in msg and "not an ONNX model" in msg


# ---- structure ----------------------------------------------------------------------------------


def test_empty_graph(tmp_path: Path) -> None:
    path = save(make_model([], inputs=[("x", [1])], outputs=[("x", [1])]), tmp_path / "empty_graph.onnx")
    msg = _load_error(path, GraphError)
    assert str(path) in msg and "no nodes" in msg


def test_cycle(tmp_path: Path) -> None:
    model = make_model(
        [node("Add", ["x", "b"], ["a"], name="n1"), node("Relu", ["a"], ["b"], name="n2")],
        inputs=[("x", [2])], outputs=["b"],
    )
    msg = _load_error(save(model, tmp_path / "cycle.onnx"), GraphError)
    assert "cycle.onnx" in msg and "cycle" in msg and "'n1'" in msg


def test_two_producers_of_one_value(tmp_path: Path) -> None:
    model = make_model(
        [node("Relu", ["x"], ["y"], name="first"), node("Neg", ["x"], ["y"], name="second")],
        inputs=[("x", [2])], outputs=["y"],
    )
    msg = _load_error(save(model, tmp_path / "two.onnx"), GraphError)
    assert "two.onnx" in msg and "'y'" in msg and "two nodes" in msg and "'first'" in msg and "'second'" in msg


def test_node_reads_an_undefined_value(tmp_path: Path) -> None:
    model = make_model([node("Add", ["x", "ghost"], ["y"], name="adder")], inputs=[("x", [2])], outputs=["y"])
    msg = _load_error(save(model, tmp_path / "ghost.onnx"), GraphError)
    assert "ghost.onnx" in msg and "'adder'" in msg and "'ghost'" in msg and "nothing defines" in msg


def test_undefined_value_inside_a_subgraph() -> None:
    then_g = helper.make_graph([node("Add", ["x", "nowhere"], ["t"], name="inner")], "then", [],
                               [helper.make_tensor_value_info("t", onnx.TensorProto.FLOAT, None)])
    else_g = helper.make_graph([node("Neg", ["x"], ["e"])], "else", [],
                               [helper.make_tensor_value_info("e", onnx.TensorProto.FLOAT, None)])
    model = make_model([node("If", ["c"], ["y"], name="branchy", then_branch=then_g, else_branch=else_g)],
                       inputs=[("x", [2]), ("c", [], onnx.TensorProto.BOOL)], outputs=["y"])
    msg = _load_error(model, GraphError)
    assert "'inner'" in msg and "'nowhere'" in msg and "then_branch" in msg and "'branchy'" in msg


def test_graph_output_nothing_produces(tmp_path: Path) -> None:
    model = make_model([node("Relu", ["x"], ["y"])], inputs=[("x", [2])], outputs=["y", "missing"])
    msg = _load_error(save(model, tmp_path / "out.onnx"), GraphError)
    assert "out.onnx" in msg and "'missing'" in msg


def test_node_writing_an_initializer(tmp_path: Path) -> None:
    model = make_model([node("Relu", ["x"], ["w"], name="clobber")], inputs=[("x", [2])], outputs=["w"],
                       initializers=[("w", np.zeros(2, np.float32))])
    msg = _load_error(save(model, tmp_path / "clobber.onnx"), GraphError)
    assert "'w'" in msg and "'clobber'" in msg


def test_checker_complaints_that_do_not_affect_counting_are_accepted() -> None:
    """An unknown attribute and a missing producer name fail onnx.checker but count fine."""
    model = make_model([node("Relu", ["x"], ["y"], exotic_hint=3)], inputs=[("x", [2])], outputs=["y"],
                       producer=("", ""))
    with pytest.raises(onnx.checker.ValidationError):
        onnx.checker.check_model(model)
    lm = load_onnx(model, ShapeRequest())
    assert [n.op for n in lm.graph.nodes] == ["Relu"]


def test_tensor_with_too_few_bytes(tmp_path: Path) -> None:
    model = conv_net()
    model.graph.initializer[0].raw_data = model.graph.initializer[0].raw_data[:10]
    msg = _load_error(save(model, tmp_path / "short.onnx"), ModelLoadError)
    assert "short.onnx" in msg and "conv.weight" in msg and "fewer bytes" in msg


def test_file_cut_at_a_field_boundary_has_no_graph(tmp_path: Path) -> None:
    model = conv_net()
    head = onnx.ModelProto()
    head.ir_version = model.ir_version
    head.opset_import.extend(model.opset_import)
    path = tmp_path / "head.onnx"
    path.write_bytes(head.SerializeToString())
    msg = _load_error(path, ModelLoadError)
    assert "head.onnx" in msg and "no graph" in msg


def test_unreadable_file_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The OS refusing to open the file (simulated: the tests may run as root)."""
    path = save(conv_net(), tmp_path / "locked.onnx")

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("edgeprof.frontends.onnx._read.open", refuse, raising=False)
    msg = _load_error(path, ModelLoadError)
    assert str(path) in msg and "cannot read the file (Permission denied)" in msg


def test_constant_node_without_a_value(tmp_path: Path) -> None:
    model = make_model([helper.make_node("Constant", [], ["c"], name="empty_const"), node("Relu", ["c"], ["y"])],
                       inputs=[], outputs=["y"])
    msg = _load_error(save(model, tmp_path / "const.onnx"), GraphError)
    assert "const.onnx" in msg and "'empty_const'" in msg and "value attribute" in msg


def test_graph_input_declared_twice(tmp_path: Path) -> None:
    model = make_model([node("Relu", ["x"], ["y"])], inputs=[("x", [2]), ("x", [2])], outputs=["y"])
    msg = _load_error(save(model, tmp_path / "twice.onnx"), GraphError)
    assert "twice.onnx" in msg and "'x'" in msg and "declared twice" in msg


def test_node_reading_its_own_output(tmp_path: Path) -> None:
    model = make_model([node("Add", ["x", "a"], ["a"], name="selfish")], inputs=[("x", [2])], outputs=["a"])
    msg = _load_error(save(model, tmp_path / "self.onnx"), GraphError)
    assert "cycle" in msg and "'selfish'" in msg


_SEED_BYTES = conv_net(batch="N").SerializeToString()


@settings(max_examples=80, deadline=None)
@given(
    edits=st.lists(st.tuples(st.integers(0, len(_SEED_BYTES) - 1), st.integers(0, 255)), min_size=1, max_size=6),
    cut=st.integers(1, len(_SEED_BYTES)),
)
def test_damaged_files_give_typed_errors_only(tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[int, int]],
                                              cut: int) -> None:
    """Random byte damage: the model loads, or a typed edgeprof error comes out, never a
    traceback from protobuf, onnx or the frontend."""
    data = bytearray(_SEED_BYTES)
    for pos, byte in edits:
        data[pos] = byte
    path = tmp_path_factory.mktemp("fuzz") / "damaged.onnx"
    path.write_bytes(bytes(data[:cut]))
    try:
        load_onnx(path, ShapeRequest())
    except EdgeprofError as exc:
        assert "\n" not in str(exc)
        assert "cannot load the model" not in str(exc), f"an unexpected failure leaked through: {exc}"
