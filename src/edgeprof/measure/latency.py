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

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, TypeVar

from edgeprof.errors import MeasurementError
from edgeprof.measure.memory import _ORT_TYPES, _random
from edgeprof.measure.runner import ChildError as _ChildError
from edgeprof.measure.runner import first_line as _first_line
from edgeprof.measure.runner import run_child, serve
from edgeprof.measure.stats import summarise
from edgeprof.report.latency import Environment, LatencyReport, MeasuredLatency, ValidationEntry
from edgeprof.report.model import InputSpec, Profile

__all__ = ["LatencyOptions", "measure_onnx_latency", "measure_profile_latency", "run_with_progress", "validate"]

T = TypeVar("T")


@dataclass(frozen=True)
class LatencyOptions:
    """How long and how a latency measurement runs."""

    intra_op_threads: int = 1
    min_runs: int = 10
    max_runs: int = 1000
    max_time_s: float = 10.0
    min_time_s: float = 1.0  # keep timing at least this long, even when stable earlier
    target_rel_ci: float = 0.02
    graph_optimization_level: str = "ORT_ENABLE_ALL"


def measure_onnx_latency(
    path: str | Path,
    inputs: Sequence[InputSpec] = (),
    *,
    options: LatencyOptions = LatencyOptions(),
    timeout_s: float = 300.0,
) -> MeasuredLatency:
    """Time the ONNX file at ``path`` on ONNX Runtime (CPU) in a fresh subprocess (see the module
    docstring). Raises :class:`MeasurementError` (one line) when it cannot run."""
    if options.intra_op_threads < 1:
        raise MeasurementError(f"latency measurement needs at least one thread, got {options.intra_op_threads}")
    if options.max_runs < 1 or options.min_runs < 1:
        raise MeasurementError("latency measurement needs at least one run")
    file = Path(path)
    if not file.is_file():
        raise MeasurementError(f"latency measurement: {file} is not a file")
    request = {
        "path": str(file.resolve()),
        "inputs": [{"name": s.name, "shape": list(s.shape), "dtype": s.dtype} for s in inputs],
        "threads": options.intra_op_threads,
        "min_runs": min(options.min_runs, options.max_runs),
        "max_runs": options.max_runs,
        "max_time_s": options.max_time_s,
        "min_time_s": options.min_time_s,
        "target_rel_ci": options.target_rel_ci,
        "graph_optimization_level": options.graph_optimization_level,
    }
    env = {"OMP_NUM_THREADS": str(options.intra_op_threads)}
    result = run_child(["-m", "edgeprof.measure.latency"], request, what="onnxruntime latency run",
                       timeout_s=timeout_s, env=env)
    try:
        samples = [float(x) for x in result["samples_s"]]
        stats = summarise(samples)
        environment = Environment(**{**result["environment"], "load_average": tuple(result["environment"]["load_average"])})
        measured = MeasuredLatency(
            runtime=f"onnxruntime {environment.runtime_version} (CPUExecutionProvider)",
            runs=stats.runs,
            warmup_runs=int(result["warmup_runs"]),
            p50_s=stats.p50_s, p90_s=stats.p90_s, p99_s=stats.p99_s, min_s=stats.min_s, max_s=stats.max_s,
            mean_s=stats.mean_s, std_s=stats.std_s,
            ci95_half_width_rel=stats.ci95_half_width_rel if math.isfinite(stats.ci95_half_width_rel) else None,
            stable=stats.ci95_half_width_rel <= options.target_rel_ci,
            cpu_time_per_run_s=float(result["cpu_time_s"]) / stats.runs,
            load_time_s=float(result["load_time_s"]),
            first_inference_s=float(result["first_inference_s"]),
            wall_time_s=float(result["wall_time_s"]),
            stop_reason=str(result["stop_reason"]),
            inputs=tuple(str(x) for x in result["inputs"]),
            environment=environment,
            method=(f"fresh subprocess, {options.graph_optimization_level}, {options.intra_op_threads} intra-op "
                    f"thread(s); warm-up then timed runs until the 95 % CI of the mean is within "
                    f"{options.target_rel_ci:.0%} (at least {options.min_runs} runs and "
                    f"{options.min_time_s:g} s, at most {options.max_runs} runs and {options.max_time_s:g} s); random inputs"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MeasurementError(f"onnxruntime latency run: malformed result ({exc})") from None
    return measured


def measure_profile_latency(profile: Profile, *, threads: int = 1, max_runs: int = 1000, max_time_s: float = 10.0,
                            timeout_s: float = 300.0) -> Profile:
    """``profile`` with ``latency.measured`` (or ``latency.measurement_error``, one line, when the
    model cannot be run: the static figures stay as they are)."""
    import dataclasses

    current = profile.latency or LatencyReport()
    try:
        if profile.model.format != "onnx" or not profile.model.path:
            raise MeasurementError(
                f"latency measurement of a {profile.model.format!r} model is not available; ONNX files are timed on "
                "ONNX Runtime (export the model to ONNX to time it)"
            )
        options = LatencyOptions(intra_op_threads=threads, max_runs=max_runs, max_time_s=max_time_s,
                                 min_time_s=min(1.0, max_time_s))
        measured = measure_onnx_latency(profile.model.path, profile.inputs, options=options, timeout_s=timeout_s)
        report = dataclasses.replace(current, measured=measured, measurement_error="")
    except MeasurementError as exc:
        report = dataclasses.replace(current, measured=None, measurement_error=str(exc))
    return dataclasses.replace(profile, latency=report)


# ---- the child -------------------------------------------------------------------------------


def _child(request: dict[str, Any]) -> dict[str, Any]:
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as exc:
        raise _ChildError(f"{exc.name or 'onnxruntime'} is not installed (pip install 'edgeprof[runtime]')") from None
    from edgeprof.measure.environment import environment
    from edgeprof.measure.stats import relative_ci_half_width

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

    t0 = time.perf_counter()
    run()
    first = time.perf_counter() - t0
    warm = 0
    t0 = time.perf_counter()
    while warm < 50 and (warm < 3 or time.perf_counter() - t0 < 0.2):
        run()
        warm += 1
    env = environment("onnxruntime", ort.__version__, np.__version__, threads)
    min_runs, max_runs = int(request["min_runs"]), int(request["max_runs"])
    max_time, target = float(request["max_time_s"]), float(request["target_rel_ci"])
    min_time = min(float(request["min_time_s"]), max_time)
    samples: list[float] = []
    reason = f"max runs ({max_runs})"
    cpu0 = time.process_time()
    start = time.perf_counter()
    while len(samples) < max_runs:
        t0 = time.perf_counter()
        run()
        t1 = time.perf_counter()
        samples.append(t1 - t0)
        n = len(samples)
        if (n >= min_runs and t1 - start >= min_time and (n < 200 or n % 10 == 0)
                and relative_ci_half_width(samples) <= target):
            reason = f"stable (95 % CI of the mean within {target:.0%})"
            break
        if t1 - start >= max_time:
            reason = f"time limit ({max_time:g} s)"
            break
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu0
    return {
        "samples_s": samples,
        "warmup_runs": warm,
        "cpu_time_s": cpu,
        "load_time_s": load_time,
        "first_inference_s": first,
        "wall_time_s": wall,
        "stop_reason": reason,
        "inputs": described,
        "environment": {
            "cpu_model": env.cpu_model, "logical_cores": env.logical_cores, "platform": env.platform,
            "python_version": env.python_version, "runtime": env.runtime, "runtime_version": env.runtime_version,
            "numpy_version": env.numpy_version, "intra_op_threads": env.intra_op_threads,
            "load_average": list(env.load_average),
        },
    }




if __name__ == "__main__":
    serve(_child)


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
