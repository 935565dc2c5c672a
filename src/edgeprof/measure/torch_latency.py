"""Measured latency of a PyTorch model built by a ``"package.module:callable"``, in a fresh subprocess.

The child (``python -m edgeprof.measure.torch_latency``) builds the model (timed: ``load_time_s``),
puts it in eval mode, makes random inputs of the profiled shapes and dtypes, sets the intra-op
thread count (default 1, recorded) and times eager forwards under ``torch.inference_mode`` with the
protocol every latency measurement uses (:mod:`edgeprof.measure.timing`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from edgeprof.errors import MeasurementError
from edgeprof.measure.environment import environment
from edgeprof.measure.inputs import describe, random_inputs
from edgeprof.measure.runner import ChildError, first_line, run_child, serve
from edgeprof.measure.timing import DEFAULT_OPTIONS, LatencyOptions, environment_dict, measured_latency, time_runs
from edgeprof.measure.torch_memory import build_callable, callable_request
from edgeprof.report.latency import MeasuredLatency
from edgeprof.report.model import InputSpec

__all__ = ["measure_callable_latency", "measure_module_latency"]


def measure_callable_latency(spec: str, inputs: Sequence[InputSpec], *, options: LatencyOptions = DEFAULT_OPTIONS,
                             timeout_s: float = 300.0) -> MeasuredLatency:
    """Time eager forwards of the model ``spec`` builds, in a fresh subprocess (see the module
    docstring). Raises :class:`MeasurementError` (one line) when it cannot run."""
    options.check()
    request = {**callable_request(spec, inputs), **options.request()}
    env = {"OMP_NUM_THREADS": str(options.intra_op_threads)}
    result = run_child(["-m", "edgeprof.measure.torch_latency"], request, what="PyTorch latency run",
                       timeout_s=timeout_s, env=env)
    return measured_latency(result, options, what="PyTorch latency run", runtime="torch {version} eager (CPU)",
                            method=f"fresh subprocess, eager forward under inference_mode, "
                                   f"{options.intra_op_threads} intra-op thread(s)")


def measure_module_latency(module: Any, inputs: Any, *, options: LatencyOptions = DEFAULT_OPTIONS) -> MeasuredLatency:
    """Time eager forwards of ``module`` (a CPU ``torch.nn.Module``) on ``inputs`` (a tensor, a tuple
    of positional inputs or a dict of keyword inputs) **in this process** (a module object cannot be
    handed to another one), under ``torch.inference_mode`` with the common protocol; the module is
    in eval mode while timed (its flags are restored) and torch's intra-op thread count is set to
    ``options.intra_op_threads`` for the run (restored after). Raises :class:`MeasurementError`."""
    import numpy as np
    import torch

    options.check()
    if not isinstance(module, torch.nn.Module):
        raise MeasurementError(f"expected a torch.nn.Module, got {type(module).__name__}")
    args, kwargs = ((), dict(inputs)) if isinstance(inputs, dict) else (
        (inputs if isinstance(inputs, tuple) else (inputs,)), {})
    flags = {m: m.training for m in module.modules()}
    threads = torch.get_num_threads()

    def run() -> None:
        try:
            with torch.inference_mode():
                module(*args, **kwargs)
        except Exception as exc:
            raise MeasurementError(f"the PyTorch forward failed: {first_line(exc)}") from None

    try:
        module.eval()
        torch.set_num_threads(options.intra_op_threads)
        timed = time_runs(run, options.request())
        env = environment("torch", torch.__version__, np.__version__, options.intra_op_threads)
    finally:
        torch.set_num_threads(threads)
        for m, flag in flags.items():
            m.training = flag
    shapes = [f"{type(t).__name__}[{'x'.join(str(d) for d in getattr(t, 'shape', ()))}]" for t in (*args, *kwargs.values())]
    result = {**timed, "load_time_s": 0.0, "inputs": shapes, "environment": environment_dict(env)}
    return measured_latency(result, options, what="PyTorch latency run", runtime="torch {version} eager (CPU)",
                            method=f"in this process (the module was given as an object; load time not measured), "
                                   f"eager forward under inference_mode, {options.intra_op_threads} intra-op thread(s)")


def _child(request: dict[str, Any]) -> dict[str, Any]:
    import numpy as np
    import torch

    threads = int(request["threads"])
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    model = build_callable(str(request["spec"]), request.get("sys_path", []))
    load_time = time.perf_counter() - t0
    specs = list(request["inputs"])
    args = tuple(random_inputs(specs, tensors=True))

    def run() -> None:
        try:
            with torch.inference_mode():
                model(*args)
        except Exception as exc:
            raise ChildError(f"the PyTorch forward failed: {first_line(exc)}") from None

    env = environment("torch", torch.__version__, np.__version__, threads)
    described = [describe(s["name"], s["dtype"], s["shape"]) for s in specs]
    return {**time_runs(run, request), "load_time_s": load_time, "inputs": described,
            "environment": environment_dict(env)}


if __name__ == "__main__":
    serve(_child)
