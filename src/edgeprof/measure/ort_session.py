"""In a measurement child: the one ONNX Runtime session, feeds and run helper that the memory,
latency, energy and calibration runs share (they differ only in the session options they pass).

Every session runs on the CPU provider, sequentially, with one inter-op thread and warnings off;
the feeds are :func:`edgeprof.measure.inputs.random_inputs` of the profiled shapes (an input not
given must have a static shape in the model, its dtype read from the model).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from edgeprof.measure.inputs import describe, random_inputs
from edgeprof.measure.runner import ChildError, first_line

__all__ = ["ORT_TYPES", "OrtModel", "import_runtime"]

ORT_TYPES = {
    "tensor(float)": "float32", "tensor(float16)": "float16", "tensor(double)": "float64",
    "tensor(int64)": "int64", "tensor(int32)": "int32", "tensor(int16)": "int16", "tensor(int8)": "int8",
    "tensor(uint8)": "uint8", "tensor(uint16)": "uint16", "tensor(uint32)": "uint32", "tensor(uint64)": "uint64",
    "tensor(bool)": "bool",
}


def import_runtime() -> tuple[Any, Any]:
    """numpy and onnxruntime, or a :class:`ChildError` saying which is not installed."""
    try:
        import numpy as np
        import onnxruntime as ort
    except ImportError as exc:
        raise ChildError(f"{exc.name or 'onnxruntime'} is not installed (pip install 'edgeprof[runtime]')") from None
    return np, ort


class OrtModel:
    """An ONNX Runtime session on the model at ``path`` (CPU provider, sequential, one inter-op
    thread, ``threads`` intra-op threads, the named graph optimisation level; ``configure`` sets
    further ``SessionOptions``). :meth:`feed` makes its inputs, :meth:`run` is one inference."""

    def __init__(self, path: str, *, threads: int, graph_optimization_level: str,
                 configure: Callable[[Any], None] | None = None) -> None:
        _, ort = import_runtime()
        self.path = path
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = getattr(ort.GraphOptimizationLevel, graph_optimization_level)
        so.log_severity_level = 3
        if configure is not None:
            configure(so)
        try:
            self.session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        except Exception as exc:  # the runtime's own error types; reported as one line
            raise ChildError(f"onnxruntime cannot load {Path(path).name}: {first_line(exc)}") from None
        self.feeds: dict[str, Any] = {}

    def feed(self, given: Sequence[Mapping[str, Any]]) -> list[str]:
        """Feeds for the session's inputs, the shapes, dtypes and given values of ``given``
        (``{"name", "shape", "dtype"[, "value"]}``) first, random otherwise; returns them described (``"x: float32[1x64]"``)."""
        by_name = {spec["name"]: spec for spec in given}
        specs: list[dict[str, Any]] = []
        for arg in self.session.get_inputs():
            spec = by_name.get(arg.name)
            if spec is not None:
                shape, dtype = [int(d) for d in spec["shape"]], str(spec["dtype"])
            elif all(isinstance(d, int) for d in arg.shape):
                shape, dtype = [int(d) for d in arg.shape], ORT_TYPES.get(arg.type, arg.type)
            else:
                raise ChildError(f"input {arg.name!r} has symbolic dims {arg.shape}; give its shape")
            specs.append({"name": arg.name, "shape": shape, "dtype": dtype,
                          **({"value": spec["value"]} if spec is not None and spec.get("value") is not None else {})})
        self.feeds = {s["name"]: v for s, v in zip(specs, random_inputs(specs), strict=True)}
        return [describe(s["name"], s["dtype"], s["shape"]) for s in specs]

    def run(self) -> None:
        try:
            self.session.run(None, self.feeds)  # the outputs are dropped at once
        except Exception as exc:
            raise ChildError(f"onnxruntime failed to run {Path(self.path).name}: {first_line(exc)}") from None
