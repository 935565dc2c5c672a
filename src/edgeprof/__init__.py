"""edgeprof: how light and fast is a deep-learning model on an edge device.

Exact FLOPs (a dot product of n is 2n-1 FLOPs) with MACs beside them, parameters and
bytes, per layer, per op category and in total::

    import edgeprof
    p = edgeprof.profile("model.onnx", input_shapes={"images": (1, 3, 320, 320)})
    p.totals.flops, p.totals.macs, p.totals.params
    p = edgeprof.predict_latency(p, ["rpi5"])      # latency.predicted["rpi5"]
    p = edgeprof.estimate_energy(p, ["rpi5"])      # energy.estimated["rpi5"]
    p = edgeprof.measured(p)                       # memory, latency and energy measured for real
    rows = edgeprof.sweep(["models/"], devices=["rpi5"], db="results.sqlite")  # many models (docs/sweep.md)

The functions are those of :mod:`edgeprof.api` (see there for each one), but for :func:`sweep`,
that of :mod:`edgeprof.sweeps` (the layer above the API that orchestrates many profiles).
"""

from edgeprof._version import __version__
from edgeprof.api import (
    calibrate,
    estimate_energy,
    llm_figures_for,
    load,
    load_devices,
    measure_energy,
    measure_latency,
    measure_memory,
    measured,
    predict_latency,
    profile,
    validate,
)
from edgeprof.errors import (
    EdgeprofError,
    GraphError,
    MeasurementError,
    ModelLoadError,
    ShapeError,
    StrictModeError,
    UsageError,
)
from edgeprof.frontends.base import LoadedModel, ShapeRequest
from edgeprof.render import html as _html  # noqa: F401  registers Profile._repr_html_ (Jupyter)
from edgeprof.report.model import LayerCost, NotCounted, Profile, Totals
from edgeprof.sweeps import sweep

__all__ = [
    "EdgeprofError",
    "GraphError",
    "LayerCost",
    "LoadedModel",
    "MeasurementError",
    "ModelLoadError",
    "NotCounted",
    "Profile",
    "ShapeError",
    "ShapeRequest",
    "StrictModeError",
    "Totals",
    "UsageError",
    "__version__",
    "calibrate",
    "estimate_energy",
    "llm_figures_for",
    "load",
    "load_devices",
    "measure_energy",
    "measure_latency",
    "measure_memory",
    "measured",
    "predict_latency",
    "profile",
    "sweep",
    "validate",
]
