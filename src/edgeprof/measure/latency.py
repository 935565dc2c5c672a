"""Measured latency: run an ONNX file on ONNX Runtime (CPU) in a fresh subprocess and time it.

In the child (``python -m edgeprof.measure.latency``, via :mod:`edgeprof.measure.runner`):

1. import numpy and onnxruntime; create the session (timed: ``load_time_s``) with
   ``intra_op_num_threads`` set (default 1, recorded), one inter-op thread, sequential execution,
   graph optimisations at ``ORT_ENABLE_ALL`` (what a deployment uses);
2. random inputs of the profiled shapes (as in :mod:`edgeprof.measure.memory`); the first
   inference is timed on its own (``first_inference_s``);
3. warm-up: at least 3 runs and at least 0.2 s (at most 50 runs);
4. timed runs (``time.perf_counter`` around each ``run``) until the 95 % confidence interval of
   the mean is within ``target_rel_ci`` (2 %) of it after at least ``min_runs``, or ``max_runs``
   or ``max_time_s`` is reached; the process CPU time over the loop / runs is the CPU time per run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

from edgeprof.errors import MeasurementError
from edgeprof.frontends.base import CALLABLE_SPEC
from edgeprof.measure.memory import _ORT_TYPES, _random
from edgeprof.measure.runner import ChildError as _ChildError
from edgeprof.measure.runner import first_line as _first_line
from edgeprof.measure.runner import run_child, serve
from edgeprof.measure.timing import DEFAULT_OPTIONS, LatencyOptions, environment_dict, measured_latency, time_runs
from edgeprof.report.latency import LatencyReport, MeasuredLatency, ValidationEntry
from edgeprof.report.model import InputSpec, Profile

__all__ = ["LatencyOptions", "measure_onnx_latency", "measure_profile_latency", "run_with_progress", "validate"]

T = TypeVar("T")


def measure_onnx_latency(
    path: str | Path,
    inputs: Sequence[InputSpec] = (),
    *,
    options: LatencyOptions = DEFAULT_OPTIONS,
    timeout_s: float = 300.0,
) -> MeasuredLatency:
    """Time the ONNX file at ``path`` on ONNX Runtime (CPU) in a fresh subprocess (see the module
    docstring). Raises :class:`MeasurementError` (one line) when it cannot run."""
    options.check()
    file = Path(path)
    if not file.is_file():
        raise MeasurementError(f"latency measurement: {file} is not a file")
    request = {
        "path": str(file.resolve()),
        "inputs": [{"name": s.name, "shape": list(s.shape), "dtype": s.dtype} for s in inputs],
        **options.request(),
        "graph_optimization_level": options.graph_optimization_level,
    }
    env = {"OMP_NUM_THREADS": str(options.intra_op_threads)}
    result = run_child(["-m", "edgeprof.measure.latency"], request, what="onnxruntime latency run",
                       timeout_s=timeout_s, env=env)
    return measured_latency(
        result, options, what="onnxruntime latency run", runtime="onnxruntime {version} (CPUExecutionProvider)",
        method=f"fresh subprocess, {options.graph_optimization_level}, {options.intra_op_threads} intra-op thread(s)",
    )


def measure_profile_latency(profile: Profile, *, threads: int = 1, max_runs: int = 1000, max_time_s: float = 10.0,
                            timeout_s: float = 300.0, model: Any = None, example_inputs: Any = None) -> Profile:
    """``profile`` with ``latency.measured`` (or ``latency.measurement_error``, one line, when the
    model cannot be run: the static figures stay as they are). A PyTorch module given as ``model``
    is timed in this process on ``example_inputs`` (default: random tensors of the profiled shapes)."""
    import dataclasses

    current = profile.latency or LatencyReport()
    try:
        options = LatencyOptions(intra_op_threads=threads, max_runs=max_runs, max_time_s=max_time_s,
                                 min_time_s=min(1.0, max_time_s))
        if profile.model.format == "onnx" and profile.model.path:
            measured = measure_onnx_latency(profile.model.path, profile.inputs, options=options, timeout_s=timeout_s)
        elif profile.model.format == "tflite" and profile.model.path:
            from edgeprof.measure.litert import measure_tflite_latency

            measured = measure_tflite_latency(profile.model.path, profile.inputs, options=options, timeout_s=timeout_s)
        elif profile.model.format == "torch" and model is not None:
            from edgeprof.api import _random_torch_inputs
            from edgeprof.measure.torch_latency import measure_module_latency

            inputs = example_inputs if example_inputs is not None else _random_torch_inputs(profile)
            measured = measure_module_latency(model, inputs, options=options)
        elif profile.model.format == "torch" and CALLABLE_SPEC.match(profile.model.name):
            from edgeprof.measure.torch_latency import measure_callable_latency

            measured = measure_callable_latency(profile.model.name, profile.inputs, options=options,
                                                timeout_s=timeout_s)
        else:
            raise MeasurementError(
                f"latency measurement of a {profile.model.format!r} model is not available; ONNX files are timed on "
                "ONNX Runtime, .tflite files on LiteRT, PyTorch models on PyTorch eager (a 'module:callable', or the module "
                "passed as model=...)"
            )
        report = dataclasses.replace(current, measured=measured, measurement_error="")
    except MeasurementError as exc:
        report = dataclasses.replace(current, measured=None, measurement_error=str(exc))
    return dataclasses.replace(profile, latency=report)


# ---- the child -------------------------------------------------------------------------------


Timer = Callable[[Callable[[], None], Mapping[str, Any]], dict[str, Any]]


def onnx_child(request: dict[str, Any], timer: Timer = time_runs) -> dict[str, Any]:
    """In the child: load the ONNX file, make the inputs and time the runs with ``timer`` (the
    shared protocol; the energy child passes one that reads a power sensor around it)."""
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as exc:
        raise _ChildError(f"{exc.name or 'onnxruntime'} is not installed (pip install 'edgeprof[runtime]')") from None
    from edgeprof.measure.environment import environment

    path = request["path"]
    threads = int(request["threads"])
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, request["graph_optimization_level"])
    so.log_severity_level = 3
    t0 = time.perf_counter()
    try:
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise _ChildError(f"onnxruntime cannot load {Path(path).name}: {_first_line(exc)}") from None
    load_time = time.perf_counter() - t0

    given = {spec["name"]: spec for spec in request["inputs"]}
    rng = np.random.default_rng(0)
    data: dict[str, Any] = {}
    described: list[str] = []
    for arg in sess.get_inputs():
        spec = given.get(arg.name)
        if spec is not None:
            shape = [int(d) for d in spec["shape"]]
            dtype_name = str(spec["dtype"])
        else:
            if not all(isinstance(d, int) for d in arg.shape):
                raise _ChildError(f"input {arg.name!r} has symbolic dims {arg.shape}; give its shape")
            shape = [int(d) for d in arg.shape]
            dtype_name = _ORT_TYPES.get(arg.type, arg.type)
        data[arg.name] = _random(np, rng, shape, dtype_name)
        described.append(f"{arg.name}: {dtype_name}[{'x'.join(str(d) for d in shape)}]")

    def run() -> None:
        try:
            sess.run(None, data)
        except Exception as exc:
            raise _ChildError(f"onnxruntime failed to run {Path(path).name}: {_first_line(exc)}") from None

    env = environment("onnxruntime", ort.__version__, np.__version__, threads)
    return {**timer(run, request), "load_time_s": load_time, "inputs": described,
            "environment": environment_dict(env)}


if __name__ == "__main__":
    serve(onnx_child)


def validate(models: Sequence[str], device_id: str, *, devices_files: Sequence[str] = (), threads: int = 1,
             max_time_s: float = 10.0, timeout_s: float = 300.0,
             input_shapes: Any = None) -> list[ValidationEntry]:
    """Predicted vs measured latency of each model on ``device_id`` (normally the calibrated ``host``)."""
    from edgeprof import api

    entries = []
    for model in models:
        prof = api.profile(model, input_shapes=input_shapes, memory=False)
        prof = api.predict_latency(prof, [device_id], devices_files=devices_files)
        prof = measure_profile_latency(prof, threads=threads, max_time_s=max_time_s, timeout_s=timeout_s)
        assert prof.latency is not None
        pred = prof.latency.predicted[device_id]
        meas = prof.latency.measured
        measured_s = meas.p50_s if meas is not None else None
        error = (pred.total_s - measured_s) / measured_s if measured_s else None
        entries.append(ValidationEntry(str(model), device_id, pred.total_s, measured_s, error, pred.is_lower_bound,
                                       prof.latency.measurement_error))
    return entries


def run_with_progress(work: Callable[[], T], label: str, stream: TextIO, *, after_s: float = 2.0) -> T:
    """Run ``work``; on a terminal, show a rich progress line (elapsed time) once it takes longer than ``after_s``."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if not tty:
        return work()
    import threading

    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(after_s)
    if thread.is_alive():
        with Progress(SpinnerColumn(), TextColumn(label), TimeElapsedColumn(), console=Console(file=stream),
                      transient=True) as bar:
            bar.add_task(label, total=None)
            while thread.is_alive():
                thread.join(0.1)
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]
