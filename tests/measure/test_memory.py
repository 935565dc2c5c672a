"""Measured memory: the subprocess runner contains crashes and hangs; ONNX Runtime's peak RSS.

No timed assertions: the timeout test only checks that a hang is cut off and reported."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgeprof
from edgeprof.errors import MeasurementError
from edgeprof.measure.memory import OrtMemoryOptions, measure_onnx_memory
from edgeprof.measure.runner import RESULT_MARK, parse_result, run_child
from edgeprof.report.model import InputSpec

# ---- the runner ------------------------------------------------------------------------------


def test_child_result_is_read_from_the_marked_line() -> None:
    code = (
        "import json, sys; req = json.load(sys.stdin); print('runtime chatter');"
        f"print({RESULT_MARK!r} + json.dumps({{'echo': req['x'] * 2}}))"
    )
    assert run_child(["-c", code], {"x": 21}, what="echo", timeout_s=60) == {"echo": 42}


def test_child_error_is_one_line() -> None:
    code = f"print({RESULT_MARK!r} + '{{\"error\": \"cannot load model.onnx: bad op\"}}')"
    with pytest.raises(MeasurementError, match=r"^echo: cannot load model.onnx: bad op$"):
        run_child(["-c", code], {}, what="echo", timeout_s=60)


def test_crash_of_the_runtime_is_contained() -> None:
    code = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    with pytest.raises(MeasurementError, match=r"the runtime crashed \(SIGSEGV\)"):
        run_child(["-c", code], {}, what="crash", timeout_s=60)


def test_hang_is_cut_off_by_the_timeout() -> None:
    with pytest.raises(MeasurementError, match=r"did not finish within 0.5 s"):
        run_child(["-c", "import time; time.sleep(600)"], {}, what="hang", timeout_s=0.5)


def test_exit_code_and_missing_result() -> None:
    with pytest.raises(MeasurementError, match=r"exit code 3: boom"):
        parse_result("w", 3, "", "trace\nboom\n")
    with pytest.raises(MeasurementError, match=r"gave no result"):
        parse_result("w", 0, "hello\n", "")
    message = ""
    try:
        parse_result("w", 1, "", "line one\nline two\n")
    except MeasurementError as exc:
        message = str(exc)
    assert "\n" not in message and message.endswith("line two")


# ---- ONNX Runtime ------------------------------------------------------------------------------


def _save(graph: onnx.GraphProto, path: Path) -> Path:
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def _mlp(path: Path) -> Path:
    """x[1, 512] -> MatMul W[512, 1024] (2 MiB of weights) -> Relu -> y[1, 1024]."""
    w = numpy_helper.from_array(np.full((512, 1024), 0.5, dtype=np.float32), "W")
    nodes = [helper.make_node("MatMul", ["x", "W"], ["h"]), helper.make_node("Relu", ["h"], ["y"])]
    g = helper.make_graph(
        nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 512])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1024])], [w],
    )
    return _save(g, path)


def test_onnxruntime_peak_includes_the_weights(tmp_path: Path) -> None:
    path = _mlp(tmp_path / "mlp.onnx")
    m = measure_onnx_memory(path, [InputSpec("x", (1, 512), "float32")], runs=2, timeout_s=120)
    weights = 512 * 1024 * 4
    # the session holds its copy of the 2 MiB of weights; activations are a few KiB. The RSS
    # counters move in pages and the runtime keeps some state: a wide band, but it excludes
    # "no weights" (0) and "the weights twice" (4 MiB)
    assert weights * 3 // 4 <= m.session_rss_increase_bytes <= weights * 3 // 2
    assert weights * 3 // 4 <= m.peak_rss_increase_bytes <= weights * 3 // 2
    assert m.runs == 2 and m.inputs == ("x: float32[1x512]",)
    assert "enable_cpu_mem_arena=False" in m.options and "graph_optimization_level=ORT_DISABLE_ALL" in m.options
    assert m.provenance.kind == "measured" and "onnxruntime" in m.runtime


def test_onnxruntime_peak_follows_the_activations(tmp_path: Path) -> None:
    # x[4 MiB] -> Exp -> Exp -> y: input (held by the caller) + two 4 MiB tensors at the second Exp
    mib4 = (1, 1024, 1024)
    nodes = [helper.make_node("Exp", ["x"], ["a"]), helper.make_node("Exp", ["a"], ["y"])]
    g = helper.make_graph(
        nodes, "exp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(mib4))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(mib4))],
    )
    path = _save(g, tmp_path / "exp.onnx")
    m = measure_onnx_memory(path, [InputSpec("x", mib4, "float32")], runs=1, timeout_s=120)
    predicted = 3 * 4 * 1024 * 1024
    assert predicted * 3 // 4 <= m.peak_rss_increase_bytes <= predicted * 5 // 4
    assert m.session_rss_increase_bytes < 1024 * 1024


def test_model_onnxruntime_cannot_load_is_one_clear_line(tmp_path: Path) -> None:
    node = helper.make_node("Frobnicate", ["x"], ["y"], domain="example.custom")
    g = helper.make_graph(
        [node], "bad", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("example.custom", 1)])
    path = tmp_path / "bad.onnx"
    onnx.save(model, str(path))
    with pytest.raises(MeasurementError, match=r"^onnxruntime memory run: onnxruntime cannot load bad.onnx: ") as info:
        measure_onnx_memory(path, [InputSpec("x", (1,), "float32")], timeout_s=120)
    assert "\n" not in str(info.value)


def test_garbage_file_and_bad_arguments(tmp_path: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(MeasurementError, match=r"cannot load junk\.onnx"):
        measure_onnx_memory(junk, timeout_s=120)
    with pytest.raises(MeasurementError, match="not a file"):
        measure_onnx_memory(tmp_path / "missing.onnx")
    with pytest.raises(MeasurementError, match="at least one run"):
        measure_onnx_memory(junk, runs=0)
    with pytest.raises(MeasurementError, match="optimisation level"):
        measure_onnx_memory(junk, options=OrtMemoryOptions(graph_optimization_level="FAST"))


def test_symbolic_input_without_a_shape_is_reported(tmp_path: Path) -> None:
    g = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "sym",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
    )
    path = _save(g, tmp_path / "sym.onnx")
    with pytest.raises(MeasurementError, match=r"input 'x' has symbolic dims"):
        measure_onnx_memory(path, timeout_s=120)


def test_measure_memory_dispatches_on_the_format(tmp_path: Path) -> None:
    path = _mlp(tmp_path / "mlp.onnx")
    prof = edgeprof.profile(str(path))
    no_file = dataclasses.replace(prof, model=dataclasses.replace(prof.model, path=""))  # an onnx.ModelProto's
    for cannot in (no_file, dataclasses.replace(no_file, model=dataclasses.replace(prof.model, format="tflite", path=""))):
        out = edgeprof.measure_memory(cannot)
        assert out.memory is not None and out.memory.measured is None
        assert out.memory.measurement_error.startswith(f"measuring a {cannot.model.format!r} model needs an ONNX file")
    out = edgeprof.measure_memory(prof, runs=1)
    assert out.memory is not None and out.memory.measured is not None
    assert out.memory.measured.rss is not None and out.memory.measured.rss.inputs == ("x: float32[1x512]",)


# ---- PyTorch: live tensor storage ------------------------------------------------------------------


def test_torch_live_tensor_peak_of_a_two_layer_mlp() -> None:
    torch = pytest.importorskip("torch")
    from edgeprof.measure.memory import measure_torch_tensor_peak

    model = torch.nn.Sequential(torch.nn.Linear(256, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 10))
    model.train()
    x = torch.rand(64, 256)
    m = measure_torch_tensor_peak(model, x)
    # the caller holds x (64*256*4); the forward holds the first Linear's output and the ReLU's
    # (64*1024*4 each) at once, then frees the first; the last output (2560 bytes) comes after
    assert m.input_bytes == 65_536
    assert m.peak_allocated_increase_bytes == 2 * 262_144
    assert m.peak_activation_bytes == 65_536 + 524_288
    assert m.weight_bytes == (256 * 1024 + 1024 + 1024 * 10 + 10) * 4
    assert model.training and all(layer.training for layer in model)  # flags restored
    assert m.provenance.kind == "measured"


def test_torch_forward_error_is_one_line() -> None:
    torch = pytest.importorskip("torch")
    from edgeprof.measure.memory import measure_torch_tensor_peak

    model = torch.nn.Linear(8, 8)
    with pytest.raises(MeasurementError, match=r"^the PyTorch forward failed: "):
        measure_torch_tensor_peak(model, torch.rand(2, 3))
    with pytest.raises(MeasurementError, match=r"expected a torch\.nn\.Module"):
        measure_torch_tensor_peak(object(), torch.rand(2, 3))


# ---- the process as deployed (default session options) ---------------------------------------


def test_process_peak_of_a_default_session_includes_the_runtime_and_the_weights(tmp_path: Path) -> None:
    from edgeprof.measure.memory import measure_ort_process_memory

    path = _mlp(tmp_path / "mlp.onnx")
    m = measure_ort_process_memory(path, [InputSpec("x", (1, 512), "float32")], runs=2, timeout_s=120)
    # from just after the import: the runtime's one-off costs (several MB: environment, thread
    # pools, the first run's code pages) and the 2 MiB of weights are part of the figure
    assert m.peak_increase_bytes >= m.load_peak_increase_bytes >= m.session_increase_bytes > 2 * 1024 * 1024
    assert m.peak_increase_bytes < 200 * 1024 * 1024
    assert m.after_import_rss_bytes > 0 and m.runs == 2 and m.inputs == ("x: float32[1x512]",)
    assert m.provenance.kind == "measured" and "default SessionOptions" in m.runtime
    with pytest.raises(MeasurementError, match="at least one run"):
        measure_ort_process_memory(path, runs=0)


def test_a_malformed_child_result_is_one_measurement_error_naming_the_run() -> None:
    from edgeprof.errors import MeasurementError
    from edgeprof.measure.memory import _child_rss

    good = {"after_import_rss_bytes": 100, "load_hwm_bytes": 250, "session_rss_bytes": 180,
            "run_hwm_bytes": 300, "onnxruntime": "1.0", "inputs": ["x"]}
    figures = _child_rss(good, "after_import_rss_bytes", "process run")
    assert figures == (100, 150, 80, 200, "1.0", ("x",))
    bad = {**good, "run_hwm_bytes": "lots"}
    with pytest.raises(MeasurementError, match=r"^process run: malformed result"):
        _child_rss(bad, "after_import_rss_bytes", "process run")
    with pytest.raises(MeasurementError, match=r"^warm run: malformed result"):
        _child_rss(good, "baseline_rss_bytes", "warm run")
