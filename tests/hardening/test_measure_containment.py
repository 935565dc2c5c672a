"""``--measure`` on a model that fails or hangs in ONNX Runtime: the run happens in a
subprocess (its own process group, killed at ``--measure-timeout``), the static report still
comes out in full, and one line on stderr says why, with exit 2 (docs/cli.md)."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from edgeprof.cli import main


def _vi(name: str, shape: list[int] | None, elem: int = TensorProto.FLOAT) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, shape)


def _save(path: Path, nodes: list[onnx.NodeProto], inputs: list[onnx.ValueInfoProto],
          inits: list[TensorProto] = ()) -> Path:  # type: ignore[assignment]
    g = helper.make_graph(nodes, "g", inputs, [_vi("y", None)], list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    path.write_bytes(m.SerializeToString())
    return path


def test_a_model_that_fails_at_run_time_still_gets_its_static_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """Gather with an index out of range: loads in ONNX Runtime, fails when it runs."""
    model = _save(tmp_path / "bad_index.onnx",
                  [helper.make_node("Gather", ["x", "i"], ["g"], axis=0), helper.make_node("Relu", ["g"], ["y"])],
                  [_vi("x", [4, 8])], [helper.make_tensor("i", TensorProto.INT64, [1], [1000])])
    code = main(["profile", str(model), "--measure", "--measure-runs", "1", "--measure-timeout", "60",
                 "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("edgeprof: --measure:") and "Traceback" not in err
    report = json.loads(out)  # the static report, complete
    assert report["totals"]["flops"] == 8 and report["memory"]["measurement_error"]


def test_a_model_that_hangs_the_runtime_is_stopped_at_the_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """A Loop of 2**62 trips runs for ever in ONNX Runtime: the subprocess is killed at the
    timeout and the exact static count (2**62 x 4 adds) is reported."""
    body = helper.make_graph(
        [helper.make_node("Add", ["a", "a"], ["b"]), helper.make_node("Identity", ["c"], ["co"])], "body",
        [_vi("i", [], TensorProto.INT64), _vi("c", [], TensorProto.BOOL), _vi("a", [4])],
        [_vi("co", [], TensorProto.BOOL), _vi("b", [4])])
    model = _save(tmp_path / "forever.onnx",
                  [helper.make_node("Constant", [], ["M"], value=helper.make_tensor("M", TensorProto.INT64, [], [2**62])),
                   helper.make_node("Loop", ["M", "", "x"], ["y"], body=body)], [_vi("x", [4])])
    code = main(["profile", str(model), "--measure", "--measure-runs", "1", "--measure-timeout", "4",
                 "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.count("\n") == 1 and "did not finish within 4 s" in err and "Traceback" not in err
    report = json.loads(out)
    assert report["totals"]["flops"] == 4 * 2**62
