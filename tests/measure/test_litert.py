"""The repo's .tflite models on the real LiteRT interpreter: every one is a valid model (except the
custom-op one, which LiteRT rejects), and the LiteRT latency and memory measurements work through
the API and the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import edgeprof
from edgeprof import api
from edgeprof.cli import main
from edgeprof.errors import MeasurementError
from edgeprof.measure.litert import measure_tflite_latency, measure_tflite_memory
from edgeprof.measure.timing import LatencyOptions
from tests.frontends.tflite_files import builders, write

Interpreter = pytest.importorskip("ai_edge_litert.interpreter").Interpreter
FAST = LatencyOptions(min_runs=3, max_runs=20, max_time_s=0.5, min_time_s=0.0)


@pytest.mark.parametrize("name", sorted(set(builders().MODELS) - {"custom_op"}))
def test_every_generated_model_runs_on_litert(tmp_path: Path, name: str) -> None:
    interp = Interpreter(model_path=str(write(tmp_path, name)))
    interp.allocate_tensors()
    for d in interp.get_input_details():
        interp.set_tensor(d["index"], np.ones(d["shape"], d["dtype"]))
    interp.invoke()
    outs = [interp.get_tensor(d["index"]) for d in interp.get_output_details()]
    assert outs and all(np.all(np.isfinite(o.astype(np.float64))) for o in outs)
    if name == "while_loop":
        assert outs[0].tolist() == [[8.0, 8.0, 8.0, 8.0]]  # x doubled 3 times: the trip count edgeprof counts


def test_custom_op_model_is_rejected_by_litert(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="MyOp"):
        Interpreter(model_path=str(write(tmp_path, "custom_op"))).allocate_tensors()


def test_latency_and_memory_measured_on_litert(tmp_path: Path) -> None:
    path = write(tmp_path, "float_cnn")
    prof = edgeprof.profile(path, input_shapes={"input": (2, 8, 8, 3)})
    timed = measure_tflite_latency(path, prof.inputs, options=FAST)
    assert timed.runtime.startswith("LiteRT ") and 3 <= timed.runs <= 20
    assert 0 < timed.min_s <= timed.p50_s <= timed.max_s
    assert timed.inputs == ("input: float32[2x8x8x3]",)  # resized to the profiled batch
    mem = measure_tflite_memory(path, prof.inputs, runs=2)
    assert mem.runtime.startswith("LiteRT ") and mem.provenance.kind == "measured"
    assert mem.peak_rss_increase_bytes >= 0 and mem.inputs == ("input: float32[2x8x8x3]",)


def test_api_dispatches_tflite_to_litert(tmp_path: Path) -> None:
    prof = edgeprof.profile(write(tmp_path, "int8_cnn"))
    measured = api.measure_latency(prof, max_runs=5, max_time_s=0.3)
    assert measured.latency is not None and measured.latency.measured is not None
    assert measured.latency.measured.runtime.startswith("LiteRT")


def test_custom_op_measure_gives_static_report_and_one_line(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "custom_op")
    with pytest.raises(MeasurementError, match="unresolved custom op: MyOp"):
        measure_tflite_latency(path, options=FAST)
    code = main(["profile", str(path), "--measure", "--measure-runs", "1", "--no-color"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "CUSTOM:MyOp" in out  # the static report, with the op listed as not counted
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and "MyOp" in lines[0] and "static report above is complete" in lines[0]
