"""Measured memory of a PyTorch model built by a ``"package.module:callable"``, in a fresh subprocess.

The child (``python -m edgeprof.measure.torch_memory``, via :mod:`edgeprof.measure.runner`) does
what the ONNX Runtime child does (:mod:`edgeprof.measure.memory`), with PyTorch eager on the CPU:

1. import torch (one intra-op thread, so no per-thread buffers) and the callable's module; build
   the model once, run one forward and drop both, so one-off costs (kernel code pages, oneDNN
   primitive caches, the allocator's first pages) are paid before the baseline;
2. ``baseline`` = ``VmRSS``; the high-water mark is reset (``/proc/self/clear_refs``: 5);
3. build the model again: ``load peak`` = ``VmHWM`` - baseline; ``session`` = ``VmRSS`` -
   baseline (its parameters and buffers);
4. make random inputs of the profiled shapes, reset the high-water mark, run ``runs`` forwards
   under ``torch.inference_mode``: ``peak`` = ``VmHWM`` - baseline, compared with the predicted
   ``peak_bytes`` (weights + activation peak);
5. in the same child, :func:`~edgeprof.measure.memory.measure_torch_tensor_peak`: the peak of
   live tensor storage, compared with ``peak_activation_bytes``.

The callable is the user's own code, named on the command line (never read from a model file);
it is imported in the child exactly as the profile imported it, with the caller's ``sys.path``.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import platform
import sys
from collections.abc import Sequence
from typing import Any

from edgeprof.errors import MeasurementError
from edgeprof.measure.inputs import TORCH_DTYPES, describe, input_request, random_inputs
from edgeprof.measure.memory import CHILD_ENV, _reset_hwm, _status, baseline, measure_torch_tensor_peak, settler
from edgeprof.measure.runner import ChildError as _ChildError
from edgeprof.measure.runner import first_line as _first_line
from edgeprof.measure.runner import run_child, serve
from edgeprof.report.memory import MeasuredMemory, MeasuredTensorPeak
from edgeprof.report.model import InputSpec, Provenance

__all__ = ["build_callable", "callable_request", "measure_callable_memory"]


def measure_callable_memory(
    spec: str, inputs: Sequence[InputSpec], *, runs: int = 5, timeout_s: float = 300.0
) -> tuple[MeasuredMemory, MeasuredTensorPeak]:
    """Build the model of ``spec`` in a fresh subprocess, run it on random inputs of ``inputs``'
    shapes and dtypes, and measure its peak RSS increase and its peak of live tensor storage (see
    the module docstring). Raises :class:`MeasurementError` (one line) when it cannot run."""
    if runs < 1:
        raise MeasurementError(f"memory measurement needs at least one run, got {runs}")
    if platform.system() != "Linux":
        raise MeasurementError(f"memory measurement reads Linux /proc counters; this is {platform.system()}")
    request = {**callable_request(spec, inputs), "runs": runs}
    result = run_child(["-m", "edgeprof.measure.torch_memory"], request, what="PyTorch memory run",
                       timeout_s=timeout_s, env=CHILD_ENV)
    try:
        baseline = int(result["baseline_rss_bytes"])
        version = str(result["torch"])
        rss = MeasuredMemory(
            runtime=f"torch {version} eager (CPU)",
            peak_rss_increase_bytes=int(result["run_hwm_bytes"]) - baseline,
            load_peak_rss_increase_bytes=int(result["load_hwm_bytes"]) - baseline,
            session_rss_increase_bytes=int(result["model_rss_bytes"]) - baseline,
            runs=runs,
            baseline_rss_bytes=baseline,
            options=("torch.set_num_threads(1)", "torch.inference_mode()", "model.eval()",
                     *(f"{k}={v}" for k, v in CHILD_ENV.items())),
            inputs=tuple(str(x) for x in result["inputs"]),
            provenance=Provenance(
                "measured",
                f"VmHWM over {runs} forwards minus VmRSS after a warm-up build and forward were dropped, in a "
                "fresh subprocess; the model built again after the baseline; random inputs",
                (f"torch {version}, {platform.system()} {platform.release()}, Python {platform.python_version()}",),
            ),
        )
        peak = {k: v for k, v in result["tensor_peak"].items() if k != "provenance"}
        prov = result["tensor_peak"]["provenance"]
        tensor_peak = MeasuredTensorPeak(**peak, provenance=Provenance(prov["kind"], prov["method"],
                                                                       tuple(prov["sources"])))
    except (KeyError, TypeError, ValueError) as exc:
        raise MeasurementError(f"PyTorch memory run: malformed result ({exc})") from None
    return rss, tensor_peak


def callable_request(spec: str, inputs: Sequence[InputSpec]) -> dict[str, Any]:
    """The part of a PyTorch child's request that says what to build and feed: the spec, this
    process's import path (the current directory first, as ``python -m`` has it) and the inputs."""
    for s in inputs:
        if s.dtype not in TORCH_DTYPES:
            raise MeasurementError(f"input {s.name!r} has dtype {s.dtype}, which the PyTorch run cannot make")
    return {
        "spec": spec,
        "sys_path": [os.getcwd(), *(p for p in sys.path if p)],
        "inputs": input_request(inputs),
    }


# ---- the child -------------------------------------------------------------------------------


def build_callable(spec: str, paths: Sequence[str] = ()) -> Any:
    """In the child: import ``"package.module:callable"``, build the model and put it in eval mode.

    ``paths`` (the parent's current folder and import path) are put first on ``sys.path`` only
    while the user's module is imported, after the child's own imports are done, as the parent
    does; then they move to the end, so nothing imported later is shadowed by them."""
    import torch

    module_name, _, attr_path = spec.partition(":")
    added = [p for p in paths if isinstance(p, str) and p not in sys.path]
    sys.path[:0] = added
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr_path.split("."):
            obj = getattr(obj, part)
        model = obj if isinstance(obj, torch.nn.Module) else obj()
    except Exception as exc:
        raise _ChildError(f"{spec}: building the model failed: {_first_line(exc)}") from None
    finally:
        for p in added:
            if p in sys.path:
                sys.path.remove(p)
        sys.path.extend(added)
    if not isinstance(model, torch.nn.Module):
        raise _ChildError(f"{spec}: returned a {type(model).__name__}, not a torch.nn.Module")
    return model.eval()


def _child(request: dict[str, Any]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    settle = settler()

    def forward(model: Any, args: tuple[Any, ...]) -> None:
        try:
            with torch.inference_mode():
                model(*args)  # the outputs are dropped at once
        except Exception as exc:
            raise _ChildError(f"the PyTorch forward failed: {_first_line(exc)}") from None

    spec, specs, runs = str(request["spec"]), list(request["inputs"]), int(request["runs"])
    warm = build_callable(spec, request.get("sys_path", []))
    forward(warm, tuple(random_inputs(specs, tensors=True)))
    del warm
    settle()
    base = baseline()
    model = build_callable(spec, request.get("sys_path", []))
    load_hwm = _status()["VmHWM"]
    settle()
    model_rss = _status()["VmRSS"]
    args = tuple(random_inputs(specs, tensors=True))
    settle()
    _reset_hwm()
    for _ in range(runs):
        forward(model, args)
    end = _status()
    try:
        peak = measure_torch_tensor_peak(model, args, runs=2)
    except MeasurementError as exc:
        raise _ChildError(str(exc)) from None
    described = [describe(s["name"], s["dtype"], s["shape"]) for s in specs]
    return {
        "torch": torch.__version__,
        "baseline_rss_bytes": base["VmRSS"],
        "load_hwm_bytes": load_hwm,
        "model_rss_bytes": model_rss,
        "run_hwm_bytes": end["VmHWM"],
        "inputs": described,
        "tensor_peak": dataclasses.asdict(peak),
    }




if __name__ == "__main__":
    serve(_child)
