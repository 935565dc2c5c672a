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
from typing import Any

from edgeprof.errors import MeasurementError
from edgeprof.measure.environment import environment
from edgeprof.measure.inputs import input_request
from edgeprof.measure.ort_session import OrtModel, import_runtime
from edgeprof.measure.runner import run_child, serve
from edgeprof.measure.timing import DEFAULT_OPTIONS, LatencyOptions, environment_dict, measured_latency, time_runs
from edgeprof.report.latency import MeasuredLatency
from edgeprof.report.model import InputSpec

__all__ = ["LatencyOptions", "measure_onnx_latency", "onnx_child"]


def measure_onnx_latency(
    path: str | Path,
    inputs: Sequence[InputSpec] = (),
    *,
    options: LatencyOptions = DEFAULT_OPTIONS,
    timeout_s: float = 300.0,
    values: Mapping[str, Sequence[float]] | None = None,
) -> MeasuredLatency:
    """Time the ONNX file at ``path`` on ONNX Runtime (CPU) in a fresh subprocess (see the module
    docstring); ``values`` fills the inputs it names (the profile's ``values``: the branch it counted).
    Raises :class:`MeasurementError` (one line) when it cannot run."""
    options.check()
    file = Path(path)
    if not file.is_file():
        raise MeasurementError(f"latency measurement: {file} is not a file")
    request = {
        "path": str(file.resolve()),
        "inputs": input_request(inputs, values),
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


# ---- the child -------------------------------------------------------------------------------


Timer = Callable[[Callable[[], None], Mapping[str, Any]], dict[str, Any]]


def onnx_child(request: dict[str, Any], timer: Timer = time_runs) -> dict[str, Any]:
    """In the child: load the ONNX file, make the inputs and time the runs with ``timer`` (the
    shared protocol; the energy child passes one that reads a power sensor around it)."""
    np, ort = import_runtime()
    threads = int(request["threads"])
    t0 = time.perf_counter()
    model = OrtModel(request["path"], threads=threads, graph_optimization_level=request["graph_optimization_level"])
    load_time = time.perf_counter() - t0
    described = model.feed(request["inputs"])
    env = environment("onnxruntime", ort.__version__, np.__version__, threads)
    return {**timer(model.run, request), "load_time_s": load_time, "inputs": described,
            "environment": environment_dict(env)}


if __name__ == "__main__":
    serve(onnx_child)
