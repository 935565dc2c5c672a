"""edgeprof: how light and fast is a deep-learning model on an edge device.

Exact FLOPs (a dot product of n is 2n-1 FLOPs) with MACs beside them, parameters and
bytes, per layer, per op category and in total::

    import edgeprof
    p = edgeprof.profile("model.onnx", input_shapes={"images": (1, 3, 320, 320)})
    p.totals.flops, p.totals.macs, p.totals.params
"""

from edgeprof._version import __version__
from edgeprof.api import load, measured, profile
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
    "load",
    "measured",
    "profile",
]
