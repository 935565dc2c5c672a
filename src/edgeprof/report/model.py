"""The typed report: one :class:`Profile` per model, fed to every renderer.

Every figure says what it is in its field name (``flops``, ``macs``, ``int_ops``, ``*_bytes``)
and how it was obtained (:class:`Provenance`): *counted* by the formulas of the op registry,
*estimated* by a named model, or *measured* in a named environment.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any, Literal

from edgeprof.report.common import Provenance, WeightGroup
from edgeprof.report.deploy import Deployment
from edgeprof.report.energy import EnergyReport
from edgeprof.report.latency import LatencyReport
from edgeprof.report.llm import LLMFigures
from edgeprof.report.memory import MemoryReport
from edgeprof.report.serial import from_dict, to_dict

__all__ = [
    "SCHEMA_VERSION",
    "CategoryShare",
    "Foldable",
    "InputSpec",
    "LayerCost",
    "LayerState",
    "ModelInfo",
    "ModuleCalls",
    "ModuleRow",
    "NotCounted",
    "OperatorRow",
    "Profile",
    "Provenance",
    "Totals",
    "WeightGroup",
]

SCHEMA_VERSION = 2  # 2: memory split into predicted and measured

LayerState = Literal["counted", "zero", "not_counted"]


@dataclass(frozen=True)
class ModelInfo:
    name: str
    format: str  # "onnx", "torch", "tflite", "hf-config"
    path: str = ""
    file_bytes: int | None = None
    producer: str = ""
    opset: str = ""
    # The other files the frontend read (an ONNX model's external-data files, real paths): ``-o``
    # never writes over them. Not part of the JSON report (``serial: False``) nor of equality.
    data_files: tuple[str, ...] = field(default=(), compare=False, metadata={"serial": False})


@dataclass(frozen=True)
class InputSpec:
    """An input as profiled: its shape, dtype, where the shape came from, and the values the user
    gave it (``--value``; flattened, empty when none): every real run feeds those values."""

    name: str
    shape: tuple[int, ...]
    dtype: str
    source: Literal["model", "flag", "seq-len", "config", "default-batch", "example"] = "model"
    value: tuple[float, ...] = ()


@dataclass(frozen=True)
class LayerCost:
    """One node as counted. ``flops``/``int_ops``/``macs`` are for all its ``calls`` together
    (a node inside a Loop body runs once per iteration). ``range_group`` names the ``If`` whose
    condition is not known statically when this node sits in one of its branches."""

    name: str
    op: str
    category: str
    state: LayerState
    output_shape: tuple[int | str, ...]
    flops: int = 0
    int_ops: int = 0
    macs: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    params: int = 0
    precision: str = ""
    scope: str = ""
    calls: int = 1
    range_group: str = ""
    note: str = ""


@dataclass(frozen=True)
class NotCounted:
    """An op edgeprof could not cost: listed in every format, never a silent zero."""

    op: str
    count: int
    example: str
    reason: str


@dataclass(frozen=True)
class CategoryShare:
    category: str
    flops: int
    int_ops: int
    macs: int
    nodes: int
    share: float  # of all counted ops (FLOPs + integer OPs)


@dataclass(frozen=True)
class Foldable:
    """What a runtime typically folds away at deployment (counted as given, never dropped)."""

    flops: int
    nodes: int
    detail: tuple[str, ...] = ()


@dataclass(frozen=True)
class Totals:
    """Totals for one forward pass at the input shapes of the report.

    ``flops``/``macs`` are exact when ``is_lower_bound`` is false. With an ``If`` whose branch
    is not known statically, ``flops``..``flops_max`` is the range over the branches."""

    flops: int
    int_ops: int
    macs: int
    params: int
    weight_bytes: int
    bytes_read: int
    bytes_written: int
    flops_max: int
    macs_max: int
    is_lower_bound: bool


@dataclass(frozen=True)
class OperatorRow:
    op: str
    count: int
    flops: int
    int_ops: int
    macs: int
    params: int
    share: float


@dataclass(frozen=True)
class ModuleCalls:
    """How many times a module path ran its forward (known for PyTorch models)."""

    module: str
    calls: int


@dataclass(frozen=True)
class ModuleRow:
    """A module's nodes, FLOPs, MACs and params; ``calls`` is how often its forward ran
    (``None`` when the frontend does not know, e.g. ONNX)."""

    module: str
    calls: int | None
    nodes: int
    flops: int
    int_ops: int
    macs: int
    params: int
    share: float


@dataclass(frozen=True)
class Profile:
    """Everything edgeprof knows about one model at one set of input shapes."""

    model: ModelInfo
    inputs: tuple[InputSpec, ...]
    totals: Totals
    categories: tuple[CategoryShare, ...]
    weights_by_dtype: tuple[WeightGroup, ...]
    layers: tuple[LayerCost, ...]
    not_counted: tuple[NotCounted, ...]
    foldable: Foldable
    notices: tuple[str, ...] = ()
    module_calls: tuple[ModuleCalls, ...] = ()
    memory: MemoryReport | None = None
    llm: LLMFigures | None = None
    latency: LatencyReport | None = None
    energy: EnergyReport | None = None
    deployment: Deployment | None = None  # the graph as deployed (passes/deploy.py), beside the graph as given
    provenance: Provenance = field(
        default_factory=lambda: Provenance(
            "counted", "edgeprof op registry: FLOPs = scalar float ops (dot product of n = 2n-1), MACs separate"
        )
    )
    schema_version: int = SCHEMA_VERSION

    # ---- views -------------------------------------------------------------------------
    def by_operator(self) -> list[OperatorRow]:
        """One row per op type, most ops first."""
        acc: dict[str, list[int]] = {}
        for layer in self.layers:
            if layer.range_group:
                continue
            row = acc.setdefault(layer.op, [0, 0, 0, 0, 0])
            row[0] += layer.calls
            row[1] += layer.flops
            row[2] += layer.int_ops
            row[3] += layer.macs
            row[4] += layer.params
        total = max(1, self.totals.flops + self.totals.int_ops)
        rows = [OperatorRow(op, c, f, i, m, p, (f + i) / total) for op, (c, f, i, m, p) in acc.items()]
        return sorted(rows, key=lambda r: (-(r.flops + r.int_ops), -r.macs, r.op))

    def by_module(self, depth: int = 1) -> list[ModuleRow]:
        """One row per module path cut at ``depth`` (``layer1.0`` is depth 2), in first-seen order."""
        if depth < 0:
            raise ValueError("depth must be >= 0")
        acc: dict[str, list[int]] = {}
        for layer in self.layers:
            if layer.range_group:
                continue
            parts = [p for p in layer.scope.split(".") if p] if layer.scope else []
            key = ".".join(parts[:depth]) if depth else ""
            row = acc.setdefault(key or "(model)", [0, 0, 0, 0, 0])
            row[0] += 1
            row[1] += layer.flops
            row[2] += layer.int_ops
            row[3] += layer.macs
            row[4] += layer.params
        total = max(1, self.totals.flops + self.totals.int_ops)
        calls = {c.module: c.calls for c in self.module_calls}
        return [
            ModuleRow(k, calls.get(k) if self.module_calls else None, n, f, i, m, p, (f + i) / total)
            for k, (n, f, i, m, p) in acc.items()
        ]

    def _repr_html_(self) -> str:
        """Jupyter's rich display: the compact, escaped HTML summary the HTML renderer registers
        (``edgeprof.render.html.summary_html``; a data module never imports a renderer)."""
        if _html_display is None:  # not expected: edgeprof/__init__.py imports the renderer
            return f"<pre>{escape(repr(self))}</pre>"
        return _html_display(self)

    def top_layers(self, n: int) -> list[LayerCost]:
        """The ``n`` layers with the most ops (FLOPs + integer OPs), then MACs."""
        return sorted(self.layers, key=lambda x: (-(x.flops + x.int_ops), -x.macs))[:n]

    # ---- serialisation -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = to_dict(self)
        d["not_counted_total"] = sum(n.count for n in self.not_counted)
        return d

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Profile:
        return from_dict(Profile, data)

    @staticmethod
    def from_json(text: str) -> Profile:
        return Profile.from_dict(json.loads(text))


_html_display: Callable[[Profile], str] | None = None


def set_html_display(render: Callable[[Profile], str]) -> None:
    """Register the function :meth:`Profile._repr_html_` shows (the HTML renderer does, on import)."""
    global _html_display
    _html_display = render
