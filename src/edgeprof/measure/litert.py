"""Measured latency and peak memory of a ``.tflite`` file on the LiteRT interpreter (CPU), in a
fresh subprocess (``python -m edgeprof.measure.litert``, via :mod:`edgeprof.measure.runner`).

The interpreter is ``ai_edge_litert.interpreter.Interpreter`` with its default op resolver
(builtin kernels; float models go to the XNNPACK delegate it applies by default, as on a
device), ``num_threads`` set (default 1, recorded). Inputs are random, of the profiled shapes
(an input whose shape differs from the file's is resized before ``allocate_tensors``).

* **latency**: interpreter creation + ``allocate_tensors`` is ``load_time_s``; then the timed-run
  protocol every latency measurement uses (:func:`edgeprof.measure.timing.time_runs`: first
  inference alone, warm-up, timed ``invoke`` calls until the 95 % CI of the mean is within 2 %)
  and the same statistics (:mod:`edgeprof.measure.stats`);
* **memory**: as the ONNX Runtime child (:mod:`edgeprof.measure.memory`): a warm-up interpreter
  on the same model is created, run and dropped; ``baseline`` = ``VmRSS``; the high-water mark is
  reset; a new interpreter is created and allocated (``load peak``, then ``session`` = RSS after
  settling: the mapped model and the tensor arena); inputs are set, the mark is reset, ``runs``
  invokes: ``peak`` = ``VmHWM`` - baseline, compared with the predicted peak (weights + activation
  peak). LiteRT plans one arena for all intermediate tensors at ``allocate_tensors``, so the arena
  shows in ``session`` already.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edgeprof.errors import MeasurementError
from edgeprof.measure.inputs import describe, input_request, random_inputs
from edgeprof.measure.memory import CHILD_ENV, _reset_hwm, _status, baseline, settler
from edgeprof.measure.runner import ChildError, first_line, run_child, serve
from edgeprof.measure.timing import DEFAULT_OPTIONS, LatencyOptions, environment_dict, measured_latency, time_runs
from edgeprof.report.latency import MeasuredLatency
from edgeprof.report.memory import MeasuredMemory
from edgeprof.report.model import InputSpec, Provenance

__all__ = ["measure_tflite_latency", "measure_tflite_memory"]

RUNTIME = "LiteRT {version} interpreter (CPU, default delegates)"


def _request(path: str | Path, inputs: Sequence[InputSpec], mode: str, what: str) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise MeasurementError(f"{what}: {file} is not a file")
    return {
        "mode": mode,
        "path": str(file.resolve()),
        "inputs": input_request(inputs),
    }


def measure_tflite_latency(path: str | Path, inputs: Sequence[InputSpec] = (), *,
                           options: LatencyOptions = DEFAULT_OPTIONS, timeout_s: float = 300.0) -> MeasuredLatency:
    """Time the ``.tflite`` file at ``path`` on LiteRT in a fresh subprocess (see the module
    docstring). Raises :class:`MeasurementError` (one line) when it cannot run."""
    what = "LiteRT latency run"
    options.check()
    request = {**_request(path, inputs, "latency", what), **options.request()}
    result = run_child(["-m", "edgeprof.measure.litert"], request, what=what, timeout_s=timeout_s,
                       env={"OMP_NUM_THREADS": str(options.intra_op_threads)})
    return measured_latency(result, options, what=what, runtime=RUNTIME,
                            method=f"fresh subprocess, LiteRT Interpreter(num_threads={options.intra_op_threads})")


def measure_tflite_memory(path: str | Path, inputs: Sequence[InputSpec] = (), *, runs: int = 5,
                          timeout_s: float = 300.0) -> MeasuredMemory:
    """Run the ``.tflite`` file at ``path`` on LiteRT in a fresh subprocess and measure its peak
    resident-set increase (see the module docstring)."""
    what = "LiteRT memory run"
    if runs < 1:
        raise MeasurementError(f"memory measurement needs at least one run, got {runs}")
    if platform.system() != "Linux":
        raise MeasurementError(f"memory measurement reads Linux /proc counters; this is {platform.system()}")
    request = {**_request(path, inputs, "memory", what), "runs": runs}
    result = run_child(["-m", "edgeprof.measure.litert"], request, what=what, timeout_s=timeout_s, env=CHILD_ENV)
    try:
        baseline = int(result["baseline_rss_bytes"])
        version = str(result["version"])
        return MeasuredMemory(
            runtime=RUNTIME.format(version=version),
            peak_rss_increase_bytes=int(result["run_hwm_bytes"]) - baseline,
            load_peak_rss_increase_bytes=int(result["load_hwm_bytes"]) - baseline,
            session_rss_increase_bytes=int(result["session_rss_bytes"]) - baseline,
            runs=runs,
            baseline_rss_bytes=baseline,
            options=("num_threads=1", "default op resolver and delegates", *(f"{k}={v}" for k, v in CHILD_ENV.items())),
            inputs=tuple(str(x) for x in result["inputs"]),
            provenance=Provenance(
                "measured",
                f"VmHWM over {runs} invokes minus VmRSS after a warm-up interpreter on the same model was dropped, "
                "in a fresh subprocess; random inputs",
                (f"ai-edge-litert {version}, {platform.system()} {platform.release()}, "
                 f"Python {platform.python_version()}",),
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise MeasurementError(f"{what}: malformed result ({exc})") from None


# ---- the child -------------------------------------------------------------------------------


class _Model:
    """One interpreter on the model, allocated, with random inputs set."""

    def __init__(self, request: dict[str, Any], threads: int) -> None:
        import numpy as np
        from ai_edge_litert.interpreter import Interpreter

        path = str(request["path"])
        self.name = Path(path).name
        try:
            self.interp = Interpreter(model_path=path, num_threads=threads)
            given = {spec["name"]: spec for spec in request["inputs"]}
            details = self.interp.get_input_details()
            for d in details:
                spec = given.get(d["name"])
                if spec is not None and list(spec["shape"]) != [int(x) for x in d["shape"]]:
                    self.interp.resize_tensor_input(d["index"], list(spec["shape"]), strict=False)
            self.interp.allocate_tensors()
        except ChildError:
            raise
        except Exception as exc:  # the runtime's own errors (an unresolved custom op, ...): one line
            raise ChildError(f"LiteRT cannot load {self.name}: {first_line(exc)}") from None
        details = self.interp.get_input_details()
        specs = [{"shape": [int(x) for x in d["shape"]], "dtype": np.dtype(d["dtype"]).name,
                  "value": (given.get(d["name"]) or {}).get("value")} for d in details]
        self.described: list[str] = []
        for d, spec, value in zip(details, specs, random_inputs(specs), strict=True):
            try:
                self.interp.set_tensor(d["index"], value)
            except Exception as exc:
                raise ChildError(f"LiteRT cannot take input {d['name']!r}: {first_line(exc)}") from None
            self.described.append(describe(d["name"], spec["dtype"], spec["shape"]))

    def run(self) -> None:
        try:
            self.interp.invoke()
        except Exception as exc:
            raise ChildError(f"LiteRT failed to run {self.name}: {first_line(exc)}") from None


def _version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("ai-edge-litert")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _child(request: dict[str, Any]) -> dict[str, Any]:
    try:
        import numpy as np
        from ai_edge_litert.interpreter import Interpreter  # noqa: F401
    except ImportError as exc:
        raise ChildError(f"{exc.name or 'ai-edge-litert'} is not installed (pip install 'edgeprof[tflite]')") from None
    if request.get("mode") == "memory":
        return _memory(request)
    from edgeprof.measure.environment import environment

    threads = int(request["threads"])
    t0 = time.perf_counter()
    model = _Model(request, threads)
    load_time = time.perf_counter() - t0
    env = environment("litert", _version(), np.__version__, threads)
    return {**time_runs(model.run, request), "load_time_s": load_time, "inputs": model.described,
            "environment": environment_dict(env)}


def _memory(request: dict[str, Any]) -> dict[str, Any]:
    settle = settler()
    warm = _Model(request, 1)
    warm.run()
    del warm
    settle()
    base = baseline()
    model = _Model(request, 1)
    load_hwm = _status()["VmHWM"]
    settle()
    session = _status()["VmRSS"]
    _reset_hwm()
    for _ in range(int(request["runs"])):
        model.run()
    end = _status()
    return {"version": _version(), "baseline_rss_bytes": base["VmRSS"], "load_hwm_bytes": load_hwm,
            "session_rss_bytes": session, "run_hwm_bytes": end["VmHWM"], "inputs": model.described}


if __name__ == "__main__":
    serve(_child)
