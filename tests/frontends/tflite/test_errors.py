"""Bad TFLite input: one clear line, exit 2, never a traceback; the input file is never touched."""

from __future__ import annotations

from pathlib import Path

import pytest

import edgeprof
from edgeprof.cli import main
from edgeprof.errors import GraphError, ModelLoadError, ShapeError
from tests.frontends.tflite_files import builders, write


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["profile", *argv, "--no-color"])
    err = capsys.readouterr().err
    return code, err


def _one_line(code: int, err: str, says: str) -> None:
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("edgeprof: ") and says in lines[0], lines[0]
    assert "Traceback" not in err


def test_not_a_tflite_file_named_tflite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.tflite"
    path.write_bytes(b"this is a text file, not a model at all\n")
    _one_line(*_cli(capsys, str(path)), says="not a TFLite model (no 'TFL3' file identifier")


@pytest.mark.parametrize("size", [0, 3, 8, 40, 200])
def test_truncated_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], size: int) -> None:
    data = builders().float_cnn_model()
    path = tmp_path / "t.tflite"
    path.write_bytes(data[:size])
    before = path.read_bytes()
    code, err = _cli(capsys, str(path))
    _one_line(code, err, says="t.tflite")
    assert path.read_bytes() == before


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _one_line(*_cli(capsys, str(tmp_path / "none.tflite")), says="no such file")


def test_detected_by_content_whatever_the_name(tmp_path: Path) -> None:
    path = tmp_path / "model.dat"
    path.write_bytes(builders().transpose_conv_model())
    assert edgeprof.profile(path).model.format == "tflite"


def _model(ops: list, tensors: list, inputs: tuple[int, ...], outputs: tuple[int, ...], extra: list | None = None) -> bytes:
    m = builders()
    return m.build([m.Subgraph(tensors, inputs, outputs, ops, "main"), *(extra or [])])  # type: ignore[no-any-return]


def test_operator_reading_a_tensor_that_does_not_exist(tmp_path: Path) -> None:
    m = builders()
    path = tmp_path / "bad.tflite"
    path.write_bytes(_model([m.Op("RELU", (7,), (1,))], [m.Tensor("x", (1, 4)), m.Tensor("y", (1, 4))], (0,), (1,)))
    with pytest.raises(ModelLoadError, match="reads tensor 7; the subgraph has 2"):
        edgeprof.profile(path)


def test_conv_output_shape_that_padding_does_not_give(tmp_path: Path) -> None:
    m = builders()
    tensors = [m.Tensor("x", (1, 8, 8, 3)), m.Tensor("w", (4, 3, 3, 3), data=bytes(4 * 108)),
               m.Tensor("y", (1, 5, 5, 4))]
    path = tmp_path / "bad.tflite"
    path.write_bytes(_model([m.Op("CONV_2D", (0, 1, -1), (2,), m._conv_opts(m.SAME, 1, m.NONE))], tensors, (0,), (2,)))
    with pytest.raises(GraphError, match="SAME_UPPER padding of an input of spatial size 8x8 gives 8x8"):
        edgeprof.profile(path)


def test_weight_buffer_of_the_wrong_size(tmp_path: Path) -> None:
    m = builders()
    tensors = [m.Tensor("x", (1, 4)), m.Tensor("w", (4, 4), data=bytes(12)), m.Tensor("y", (1, 4))]
    path = tmp_path / "bad.tflite"
    path.write_bytes(_model([m.Op("FULLY_CONNECTED", (0, 1, -1), (2,))], tensors, (0,), (2,)))
    with pytest.raises(GraphError, match="needs 64 bytes but its buffer 2 holds 12"):
        edgeprof.profile(path)


def test_subgraph_that_calls_itself(tmp_path: Path) -> None:
    m = builders()
    loop = m.Op("WHILE", (0,), (1,), ("WhileOptions", {"CondSubgraphIndex": 1, "BodySubgraphIndex": 1}))
    main_sg = m.Subgraph([m.Tensor("x", (1,)), m.Tensor("y", (1,))], (0,), (1,), [loop], "main")
    inner = m.Subgraph([m.Tensor("x", (1,)), m.Tensor("y", (1,))], (0,), (1,), [loop], "again")
    path = tmp_path / "rec.tflite"
    path.write_bytes(m.build([main_sg, inner]))
    with pytest.raises(GraphError, match="subgraph 1 calls itself"):
        edgeprof.profile(path)


def test_input_of_the_wrong_rank(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "float_cnn")
    with pytest.raises(ShapeError, match="has rank 4"):
        edgeprof.profile(path, input_shapes={"input": (1, 8, 8)})
    _one_line(*_cli(capsys, str(path), "--input", "input=2x9x8x3"), says="dim 1 of input 'input' is 8")
