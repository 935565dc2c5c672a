"""Measured latency on ONNX Runtime, the environment, calibration files and the latency commands.

No timed assertions: only the structure and the internal consistency of the results are checked."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from edgeprof import api
from edgeprof.cli import main
from edgeprof.devices.catalogue import load_catalogue
from edgeprof.errors import MeasurementError
from edgeprof.measure.calibrate import Calibration, render_toml
from edgeprof.measure.environment import cpu_model
from edgeprof.measure.inputs import input_request, random_inputs
from edgeprof.measure.latency import LatencyOptions, measure_onnx_latency
from edgeprof.measure.runner import ChildError
from edgeprof.report.latency import LatencyReport
from edgeprof.report.model import InputSpec, Profile
from tests.measure.test_power import FailingNvml

FAST = LatencyOptions(min_runs=5, max_runs=20, max_time_s=0.2, min_time_s=0.0)


def _relu_model(path: Path, dims: list[int | str]) -> Path:
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"], name="relu")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, dims)],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    return path


def test_measured_statistics_are_consistent(tmp_path: Path) -> None:
    path = _relu_model(tmp_path / "relu.onnx", [1, 64])
    m = measure_onnx_latency(path, options=FAST)
    assert 5 <= m.runs <= 20
    assert m.min_s <= m.p50_s <= m.p90_s <= m.p99_s <= m.max_s
    assert m.min_s > 0 and m.std_s >= 0 and m.warmup_runs >= 3
    assert m.environment.intra_op_threads == 1
    assert m.environment.runtime == "onnxruntime" and m.environment.logical_cores >= 1
    assert m.inputs == ("x: float32[1x64]",)
    assert m.load_time_s > 0 and m.first_inference_s > 0 and m.cpu_time_per_run_s >= 0


def test_symbolic_inputs_take_the_given_shape(tmp_path: Path) -> None:
    path = _relu_model(tmp_path / "relu.onnx", ["batch", 8])
    with pytest.raises(MeasurementError, match="symbolic dims"):
        measure_onnx_latency(path, options=FAST)
    m = measure_onnx_latency(path, [InputSpec("x", (3, 8), "float32")], options=FAST)
    assert m.inputs == ("x: float32[3x8]",)


def test_a_model_the_runtime_rejects_says_why_in_one_line(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("NoSuchOp", ["x"], ["y"], name="n", domain="made.up")], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    path = tmp_path / "bad.onnx"
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("made.up", 1)])
    onnx.save(model, str(path))
    with pytest.raises(MeasurementError, match=r"onnxruntime cannot load bad\.onnx") as info:
        measure_onnx_latency(path, options=FAST)
    assert "\n" not in str(info.value)


def test_profile_keeps_static_figures_when_the_run_fails(tmp_path: Path) -> None:
    path = _relu_model(tmp_path / "relu.onnx", [1, 64])
    prof = api.profile(str(path), memory=False)
    path.unlink()
    out = api.measure_latency(prof, max_time_s=0.2)
    assert out.latency is not None and out.latency.measured is None
    assert "is not a file" in out.latency.measurement_error
    assert out.totals == prof.totals


def test_profile_with_measured_and_predicted_latency_round_trips(tmp_path: Path) -> None:
    path = _relu_model(tmp_path / "relu.onnx", [1, 64])
    prof = api.predict_latency(api.profile(str(path), memory=False), ["rpi5"])
    prof = api.measure_latency(prof, max_runs=20, max_time_s=0.2)
    assert prof.latency is not None and prof.latency.measured is not None
    assert set(prof.latency.predicted) == {"rpi5"}
    data = json.loads(prof.to_json())
    assert {"p50_s", "p90_s", "p99_s", "min_s", "runs", "environment"} <= set(data["latency"]["measured"])
    assert {"total_s", "fps", "layers"} <= set(data["latency"]["predicted"]["rpi5"])
    assert Profile.from_json(prof.to_json()) == prof


def test_cpu_model_is_read_from_cpuinfo(tmp_path: Path) -> None:
    f = tmp_path / "cpuinfo"
    f.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU @ 2.00GHz\n")
    assert cpu_model(f) == "Test CPU @ 2.00GHz"


CAL = Calibration(
    cpu_model="Test CPU", runtime="onnxruntime 1.0", threads=1, date="2026-01-01 00:00 UTC", command="edgeprof calibrate",
    per_inference_overhead_s=1e-5, per_node_overhead_s=1e-6, bandwidth_bytes_per_s=2e10, dram_bandwidth_bytes_per_s=1e10,
    rates_flop_per_s={"default": 2e9, "linear": 1e11, "conv": 5e10, "activation": 1e10, "recurrent": 2e10},
    int8_rates_op_per_s={"linear": 4e11}, notes=(), logical_cores=2,
)


def test_calibration_file_is_a_measured_host_device(tmp_path: Path) -> None:
    f = tmp_path / "host.toml"
    f.write_text(render_toml(CAL))
    host = load_catalogue(f).get("host")
    assert host.device_class == "host"
    assert host.peak_fp32_flop_per_s is not None and host.peak_fp32_flop_per_s.value == 1e11
    assert host.peak_fp32_flop_per_s.tag == "measured"
    # conv efficiency = 5e10 / 1e11; the default = 2e9 / 1e11
    assert host.efficiency_for("fp32", "conv").value == pytest.approx(0.5)  # type: ignore[union-attr]
    assert host.efficiency_for("fp32", "pooling").value == pytest.approx(0.02)  # type: ignore[union-attr]
    assert host.efficiency_for("fp32", "recurrent").value == pytest.approx(0.2)  # type: ignore[union-attr]
    # int8 elementwise: the FP32 Add-chain rate / the int8 peak = 2e9 / 4e11, tagged as the assumption it is
    assert host.efficiency_for("int8", "pooling").value == pytest.approx(0.005)  # type: ignore[union-attr]
    assert host.efficiency_for("int8", "pooling").tag == "assumed"  # type: ignore[union-attr]
    assert host.per_node_overhead_s is not None and host.per_node_overhead_s.value == 1e-6
    assert "Test CPU" in host.per_node_overhead_s.source


def test_calibration_file_carries_the_conv_depth_and_working_set_anchors(tmp_path: Path) -> None:
    rates = {**CAL.rates_flop_per_s, "conv@k9": 2.5e10, "conv@k64": 4e10, "conv@k576": 5e10}
    f = tmp_path / "host.toml"
    f.write_text(render_toml(dataclasses.replace(CAL, rates_flop_per_s=rates)))
    host = load_catalogue(f).get("host")
    # conv efficiency by reduction depth: rate / FP32 peak (1e11) at K = 9, 64, 576
    assert {k: host.efficiency[k].value for k in ("conv@k9", "conv@k64", "conv@k576")} == pytest.approx(
        {"conv@k9": 0.25, "conv@k64": 0.4, "conv@k576": 0.5})
    # bandwidth by bytes moved: the full figure at 3 MiB, the DRAM one (1e10 of 2e10) at 96 MiB
    assert host.efficiency[f"bandwidth@{3 << 20}"].value == 1.0
    assert host.efficiency[f"bandwidth@{3 << 25}"].value == pytest.approx(0.5)
    assert "Conv+Relu, Mul, residual Add" in host.per_node_overhead_s.source  # type: ignore[union-attr]


def test_given_values_fill_their_inputs_and_the_rest_stay_random() -> None:
    specs = input_request([InputSpec("x", (2, 3), "float32"), InputSpec("sr", (), "int64"),
                           InputSpec("flags", (3,), "float32")], {"sr": [16000.0], "flags": [1.0, 2.0, 3.0]})
    assert specs[1] == {"name": "sr", "shape": [], "dtype": "int64", "value": [16000.0]}
    x, sr, flags = random_inputs(specs)
    assert x.shape == (2, 3) and ((x >= 0) & (x < 1)).all()
    assert sr.dtype.name == "int64" and sr.shape == () and int(sr) == 16000
    assert flags.tolist() == [1.0, 2.0, 3.0]
    with pytest.raises(ChildError, match="2 value"):
        random_inputs([{"name": "v", "shape": [3], "dtype": "float32", "value": [1.0, 2.0]}])


def test_measured_latency_takes_the_given_value(tmp_path: Path) -> None:
    # Reshape to the shape input s: random {0, 1} values cannot hold 4 elements; the given (2, 2) can
    path = tmp_path / "reshape.onnx"
    graph = helper.make_graph([helper.make_node("Reshape", ["x", "s"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4]),
                               helper.make_tensor_value_info("s", TensorProto.INT64, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), str(path))
    inputs = (InputSpec("x", (4,), "float32"), InputSpec("s", (2,), "int64"))
    options = LatencyOptions(max_runs=20, max_time_s=0.5, min_time_s=0.1)
    with pytest.raises(MeasurementError, match="onnxruntime failed to run"):
        measure_onnx_latency(path, inputs, options=options)
    assert measure_onnx_latency(path, inputs, options=options, values={"s": [2.0, 2.0]}).p50_s > 0


def test_cli_devices_lists_every_device_with_tags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "rpi5" in out and "esp32-s3" in out and re.search(r"^rpi5 .* 154 d ", out, flags=re.M)  # d: derived
    assert main(["devices", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    rpi5 = next(r for r in rows if r["id"] == "rpi5")
    assert rpi5["peak_fp32_flop_per_s"]["tag"] == "derived"
    assert rpi5["per_node_overhead_s"]["tag"] == "fitted"  # fitted to published latencies (issue #14 part 7)
    ane = next(r for r in rows if r["id"] == "a17pro-ane")
    assert ane["per_node_overhead_s"]["tag"] == "assumed"


def test_cli_profile_device_adds_predictions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _relu_model(tmp_path / "relu.onnx", [1, 64])
    assert main(["profile", str(path), "--device", "rpi5", "--device", "esp32-s3", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["latency"]["predicted"]) == {"rpi5", "esp32-s3"}
    esp = data["latency"]["predicted"]["esp32-s3"]
    assert esp["is_lower_bound"] and "no rate for precision fp32 on device esp32-s3" in esp["missing"][0]


def test_cli_unknown_device_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _relu_model(tmp_path / "relu.onnx", [1, 64])
    assert main(["profile", str(path), "--device", "host"]) == 2
    err = capsys.readouterr().err
    assert "unknown device 'host'" in err and "edgeprof calibrate" in err and err.count("\n") == 1


def test_cli_bench_and_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _relu_model(tmp_path / "relu.onnx", [1, 64])
    assert main(["bench", str(path), "--runs", "20", "--max-time", "1", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["latency"]["measured"]["runs"] <= 20
    host = tmp_path / "host.toml"
    host.write_text(render_toml(CAL))
    assert main(["validate", str(path), "--devices-file", str(host), "--max-time", "1", "--format", "json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)
    assert entry["device_id"] == "host"
    assert entry["error"] == pytest.approx((entry["predicted_s"] - entry["measured_s"]) / entry["measured_s"])


def test_empty_latency_report_has_no_figures_and_rebuilds() -> None:
    empty = LatencyReport()
    assert dict(empty.predicted) == {} and empty.measured is None and empty.measurement_error == ""
    assert LatencyReport(predicted={}) == empty
    prof = Profile.from_json(api.profile(str(Path(__file__).resolve().parents[2] / "models" / "demo.onnx"),
                                         memory=False).to_json())
    assert prof.latency is None  # nothing predicted or measured: no latency section at all
    with_empty = Profile.from_json(api.measure_latency(prof, threads=0).to_json())
    assert with_empty.latency is not None and with_empty.latency.predicted == {}
    assert with_empty.latency.measured is None and "at least one thread" in with_empty.latency.measurement_error


def test_progress_off_a_terminal_shows_nothing_and_passes_errors_on() -> None:
    import io

    from edgeprof.cli_progress import TerminalProgress

    stream = io.StringIO()
    with TerminalProgress(stream, after_s=0.0) as progress:
        progress("x")
        progress("y")
    assert stream.getvalue() == ""
    with pytest.raises(MeasurementError, match="no"), TerminalProgress(stream, after_s=0.0) as progress:
        progress("x")
        raise MeasurementError("no")


def test_progress_on_a_terminal_draws_a_step_that_runs_long_and_clears_it() -> None:
    import io
    import time

    from edgeprof.cli_progress import TerminalProgress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Tty()
    with TerminalProgress(stream, after_s=0.0) as progress:
        progress("timing the model")
        time.sleep(0.3)
    shown = stream.getvalue()
    assert "timing the model" in shown and "0:00:00" in shown  # the label and the elapsed time
    assert shown.endswith("\x1b[2K")  # transient: the line is erased when the step ends
    quick = Tty()
    with TerminalProgress(quick, after_s=5.0) as progress:
        progress("timing the model")
    assert quick.getvalue() == ""


def test_library_steps_are_announced_to_the_progress_callback(tmp_path: Path) -> None:
    path = _relu_model(tmp_path / "relu.onnx", [1, 64])
    seen: list[str] = []
    prof = api.profile(str(path))
    out = api.measured(prof, runs=1, max_runs=5, max_time_s=0.2, sysfs_root=tmp_path, nvml=FailingNvml(),
                       progress=seen.append)
    assert seen == ["timing the model", "measuring energy"]
    assert out.latency is not None and out.latency.measured is not None
    seen.clear()
    api.validate([str(path)], "rpi5", max_time_s=0.2, progress=seen.append)
    assert seen == ["validating 1 model(s)"]
