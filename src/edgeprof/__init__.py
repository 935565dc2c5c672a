"""edgeprof: how light and fast is a deep-learning model on an edge device.

Exact FLOPs (a dot product of n is 2n-1 FLOPs) with MACs beside them, parameters and
bytes, per layer, per op category and in total::

    import edgeprof
    p = edgeprof.profile("model.onnx", input_shapes={"images": (1, 3, 320, 320)})
    p.totals.flops, p.totals.macs, p.totals.params
    p = edgeprof.predict_latency(p, ["rpi5"])      # latency.predicted["rpi5"]
    p = edgeprof.estimate_energy(p, ["rpi5"])      # energy.estimated["rpi5"]
    p = edgeprof.measured(p)                       # memory, latency and energy measured for real
    print(p)                                       # a short summary; p.to_frame("operators") for pandas
    edgeprof.register_op("com.example::MyOp", "2 * numel(in0)")   # cost a custom op

    rows = edgeprof.sweep(["models/"], devices=["rpi5"], db="results.sqlite")  # many models (docs/sweep.md)

The functions are those of :mod:`edgeprof.api` (see there for each one), but for :func:`sweep`,
that of :mod:`edgeprof.sweeps` (the layer above the API that orchestrates many profiles); the types are
those of the reports they return (:mod:`edgeprof.report`), of ``edgeprof check`` (:mod:`edgeprof.budget`)
and of a custom op's formula (:class:`OpCall` in, :class:`Arith` out).
"""

from edgeprof._version import __version__
from edgeprof.api import (
    calibrate,
    estimate_energy,
    llm_figures_for,
    load,
    load_devices,
    load_ops_file,
    measure_energy,
    measure_latency,
    measure_memory,
    measured,
    predict_latency,
    profile,
    register_op,
    unregister_op,
    validate,
)
from edgeprof.budget import Budget, check_budget, load_budget_file
from edgeprof.devices.catalogue import Device
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
from edgeprof.measure.calibrate import Calibration
from edgeprof.ops.registry import Arith, OpCall
from edgeprof.render import html as _html  # noqa: F401  registers Profile._repr_html_ (Jupyter)
from edgeprof.report.budget import BudgetCheck, CheckResult
from edgeprof.report.energy import DeviceEnergy, EnergyReport, MeasuredEnergy
from edgeprof.report.latency import LatencyReport, MeasuredLatency, PredictedLatency, ValidationEntry
from edgeprof.report.llm import LLMFigures
from edgeprof.report.memory import MemoryReport
from edgeprof.report.model import (
    InputSpec,
    LayerCost,
    ModelInfo,
    ModuleRow,
    NotCounted,
    OperatorRow,
    Profile,
    Totals,
)
from edgeprof.sweeps import sweep

__all__ = [
    "Arith",
    "Budget",
    "BudgetCheck",
    "Calibration",
    "CheckResult",
    "Device",
    "DeviceEnergy",
    "EdgeprofError",
    "EnergyReport",
    "GraphError",
    "InputSpec",
    "LLMFigures",
    "LatencyReport",
    "LayerCost",
    "LoadedModel",
    "MeasuredEnergy",
    "MeasuredLatency",
    "MeasurementError",
    "MemoryReport",
    "ModelInfo",
    "ModelLoadError",
    "ModuleRow",
    "NotCounted",
    "OpCall",
    "OperatorRow",
    "PredictedLatency",
    "Profile",
    "ShapeError",
    "ShapeRequest",
    "StrictModeError",
    "Totals",
    "UsageError",
    "ValidationEntry",
    "__version__",
    "calibrate",
    "check_budget",
    "estimate_energy",
    "llm_figures_for",
    "load",
    "load_budget_file",
    "load_devices",
    "load_ops_file",
    "measure_energy",
    "measure_latency",
    "measure_memory",
    "measured",
    "predict_latency",
    "profile",
    "register_op",
    "sweep",
    "unregister_op",
    "validate",
]
