"""ONNX external data: read only from inside the model's folder, every location checked."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import onnx
import pytest

from edgeprof.errors import ModelLoadError
from edgeprof.frontends.base import ShapeRequest
from edgeprof.frontends.onnx import load_onnx
from edgeprof.ir import Shape
from tests.frontends.onnx_builders import make_model, node


def _model() -> onnx.ModelProto:
    """x (1, 128) @ w (128, 64) -> Reshape by a small int64 'shape' initializer -> (8, 8)."""
    w = np.arange(128 * 64, dtype=np.float32).reshape(128, 64)
    return make_model(
        [node("MatMul", ["x", "w"], ["y"]), node("Reshape", ["y", "shape"], ["z"])],
        inputs=[("x", [1, 128])], outputs=["z"],
        initializers=[("w", w), ("shape", np.array([8, 8], dtype=np.int64))],
    )


def _save_external(folder: Path, name: str = "model.onnx", location: str = "weights.bin") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    onnx.save_model(_model(), str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=location, size_threshold=0)
    return path


def _set_location(path: Path, location: str) -> None:
    """Rewrite every external location of the saved model (the data file stays where it is)."""
    model = onnx.load(str(path), load_external_data=False)
    for t in model.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = location
    path.write_bytes(model.SerializeToString())


def _error(path: Path) -> str:
    with pytest.raises(ModelLoadError) as info:
        load_onnx(path, ShapeRequest())
    return str(info.value)


def test_external_data_inside_the_folder_is_fine(tmp_path: Path) -> None:
    path = _save_external(tmp_path / "m")
    raw = onnx.load(str(path), load_external_data=False)
    assert all(t.data_location == onnx.TensorProto.EXTERNAL for t in raw.graph.initializer)
    lm = load_onnx(path, ShapeRequest())
    w, shape = lm.graph.weights["w"], lm.graph.weights["shape"]
    assert w.external and w.shape == Shape((128, 64)) and w.values is None  # large: header only
    assert shape.external and shape.values == (8, 8)  # small: its own bytes were read
    assert w.storage_key.startswith("weights.bin@")
    assert lm.graph.values["z"].shape == Shape((8, 8))  # the Reshape needed the external value
    data_bytes = (tmp_path / "m" / "weights.bin").stat().st_size
    assert lm.info.file_bytes == path.stat().st_size + data_bytes


def test_external_data_in_a_subfolder_is_fine(tmp_path: Path) -> None:
    path = _save_external(tmp_path / "m")
    (tmp_path / "m" / "data").mkdir()
    (tmp_path / "m" / "weights.bin").rename(tmp_path / "m" / "data" / "w.bin")
    _set_location(path, "data/w.bin")
    assert load_onnx(path, ShapeRequest()).graph.values["z"].shape == Shape((8, 8))


def test_dotdot_location_is_refused(tmp_path: Path) -> None:
    path = _save_external(tmp_path / "m")
    (tmp_path / "weights.bin").write_bytes((tmp_path / "m" / "weights.bin").read_bytes())
    _set_location(path, "../weights.bin")
    msg = _error(path)
    assert "model.onnx" in msg and "'w'" in msg and "'../weights.bin'" in msg and "refused" in msg


def test_absolute_location_is_refused(tmp_path: Path) -> None:
    path = _save_external(tmp_path / "m")
    target = str(tmp_path / "m" / "weights.bin")
    _set_location(path, target)
    msg = _error(path)
    assert "absolute" in msg and repr(target) in msg and "refused" in msg


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    path = _save_external(tmp_path / "m")
    outside = tmp_path / "elsewhere.bin"
    (tmp_path / "m" / "weights.bin").rename(outside)
    (tmp_path / "m" / "weights.bin").symlink_to(outside)
    msg = _error(path)
    assert "'weights.bin'" in msg and "outside the model's folder" in msg and "refused" in msg


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_symlink_inside_the_folder_is_fine(tmp_path: Path) -> None:
    path = _save_external(tmp_path / "m")
    (tmp_path / "m" / "weights.bin").rename(tmp_path / "m" / "real.bin")
    (tmp_path / "m" / "weights.bin").symlink_to(tmp_path / "m" / "real.bin")
    assert load_onnx(path, ShapeRequest()).graph.weights["shape"].values == (8, 8)


def test_missing_external_file(tmp_path: Path) -> None:
    path = _save_external(tmp_path / "m")
    (tmp_path / "m" / "weights.bin").unlink()
    msg = _error(path)
    assert "model.onnx" in msg and "'weights.bin'" in msg and "missing" in msg


def test_external_file_too_short(tmp_path: Path) -> None:
    path = _save_external(tmp_path / "m")
    data = tmp_path / "m" / "weights.bin"
    data.write_bytes(data.read_bytes()[:100])
    msg = _error(path)
    assert "'weights.bin'" in msg and "too short" in msg


def test_model_proto_with_external_data_and_no_folder_reads_nothing(tmp_path: Path) -> None:
    path = _save_external(tmp_path / "m")
    model = onnx.load(str(path), load_external_data=False)
    lm = load_onnx(model, ShapeRequest())
    assert lm.graph.weights["w"].external and lm.graph.weights["shape"].values is None
    assert any("external data" in n and "base_dir" in n for n in lm.notices)
    lm2 = load_onnx(model, ShapeRequest(), base_dir=tmp_path / "m")
    assert lm2.graph.weights["shape"].values == (8, 8)
    assert lm2.graph.values["z"].shape == Shape((8, 8))


def test_model_proto_with_unsafe_location_is_refused_even_without_folder(tmp_path: Path) -> None:
    path = _save_external(tmp_path / "m")
    _set_location(path, "../../etc/passwd")
    model = onnx.load(str(path), load_external_data=False)
    with pytest.raises(ModelLoadError, match=r"contains '\.\.'"):
        load_onnx(model, ShapeRequest())
