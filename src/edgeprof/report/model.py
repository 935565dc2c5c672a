"""The typed report: one :class:`Profile` per model, fed to every renderer.

Every figure says what it is in its field name (``flops``, ``macs``, ``int_ops``, ``*_bytes``)
and how it was obtained (:class:`Provenance`): *counted* by the formulas of the op registry,
*estimated* by a named model, or *measured* in a named environment.
"""

from __future__ import annotations

import dataclasses
import heapq
import importlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import Any, Literal

from edgeprof.report.common import Provenance, WeightGroup
from edgeprof.report.deploy import Deployment
from edgeprof.report.energy import EnergyReport
from edgeprof.report.json_text import json_text
from edgeprof.report.latency import LatencyReport
from edgeprof.report.llm import LLMFigures
from edgeprof.report.memory import MemoryReport
from edgeprof.report.serial import from_dict, json_default, members, to_dict
from edgeprof.report.text import printable

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
    condition is not known statically when this node sits in one of its branches (or the Loop that
    may exit early). ``in_totals`` is False for a node of such an If's cheaper branch: it is listed
    with its own figures but left out of the totals, the categories, the views and every share,
    which all follow the costlier branch (passes/count.py)."""

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
    in_totals: bool = True


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
    is not known statically (or a Loop that may exit early) every figure is that of the costlier
    branch (the full trip count): the worst case, which the categories and shares add up to;
    ``flops_min``..``flops`` (``macs_min``..``macs``) is the range over the branches.
    ``flops_max``/``macs_max`` equal ``flops``/``macs`` (the top of the range; kept for readers
    of older reports)."""

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
    flops_min: int | None = None  # the cheapest branches' FLOPs; None: no range (= flops)
    macs_min: int | None = None

    @property
    def has_range(self) -> bool:
        """Whether control flow not known statically gives a range of FLOPs or MACs."""
        return (self.flops_min is not None and self.flops_min != self.flops) or (
            self.macs_min is not None and self.macs_min != self.macs)


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

    # ---- text: a short repr, the summary as str() ----------------------------------------
    def __repr__(self) -> str:
        """One line (the dataclass repr of a whole profile runs to hundreds of kilobytes)."""
        t = self.totals
        bound = ", lower bound" if t.is_lower_bound else ""
        return (f"<Profile {printable(self.model.name)!r} ({self.model.format}): {_si(t.flops)}FLOPs, "
                f"{_si(t.macs)}MACs, {_si(t.params)} params, {len(self.layers)} layers, "
                f"{sum(n.count for n in self.not_counted)} not counted{bound}>")

    def __str__(self) -> str:
        return self.summary()

    def summary(self) -> str:
        """A short text summary: the model, its inputs, the totals, the memory peak, the ops not
        counted and one line per device predicted or measurement made (``print(p)`` shows it)."""
        t = self.totals
        m = self.model
        where = f", {m.path}" if m.path and m.path != m.name else ""
        lines = [f"edgeprof profile: {m.name} ({m.format}{where})"]
        for spec in self.inputs:
            shape = "x".join(str(d) for d in spec.shape) or "scalar"
            lines.append(f"  input   {printable(spec.name)} {shape} {spec.dtype} ({_SOURCE.get(spec.source, spec.source)})")
        approx = " (lower bound: some ops not counted)" if t.is_lower_bound else ""
        flops = f"{t.flops:,}" if t.flops_max == t.flops else f"{t.flops:,} .. {t.flops_max:,}"
        lines.append(f"  FLOPs   {flops} ({_si(t.flops)}FLOPs){approx}")
        if t.int_ops:
            lines.append(f"  int OPs {t.int_ops:,} ({_si(t.int_ops)}OPs)")
        lines.append(f"  MACs    {t.macs:,} ({_si(t.macs)}MACs)")
        lines.append(f"  params  {t.params:,} ({_si(t.params)}), weights {_si(t.weight_bytes)}B")
        if self.memory is not None:
            pm = self.memory.predicted
            lower = " (lower bound)" if pm.is_lower_bound else ""
            lines.append(f"  peak    {_si(pm.peak_bytes)}B predicted (weights + activations "
                         f"{_si(pm.peak_activation_bytes)}B){lower}")
        if self.llm is not None:
            lines.append(f"  LLM     KV cache {_si(self.llm.kv_cache_bytes)}B")
        if self.latency is not None:
            for device_id, pred in self.latency.predicted.items():
                lower = " (lower bound)" if pred.is_lower_bound else ""
                lines.append(f"  latency {pred.total_s * 1e3:.4g} ms predicted on {device_id}{lower}")
            if self.latency.measured is not None:
                meas = self.latency.measured
                lines.append(f"  latency {meas.p50_s * 1e3:.4g} ms measured (p50 of {meas.runs} runs, {meas.runtime})")
        if self.energy is not None:
            for device_id, e in self.energy.estimated.items():
                r = e.estimated_j
                lines.append(f"  energy  {r.mid * 1e3:.3g} mJ estimated on {device_id} "
                             f"({r.low * 1e3:.3g} .. {r.high * 1e3:.3g} mJ)")
        if self.not_counted:
            listed = ", ".join(f"{printable(n.op)} ({n.count})" for n in self.not_counted)
            lines.append(f"  not counted: {listed}")
        else:
            lines.append("  not counted: none")
        lines.append(f"  {len(self.layers)} layers; p.layers, p.by_operator(), p.by_module(), p.to_frame(), "
                     "p.to_json() for the rest")
        return "\n".join(lines)

    # ---- views -------------------------------------------------------------------------
    def to_frame(self, view: Literal["layers", "operators", "modules"] = "layers", *, depth: int = 1) -> Any:
        """A view as a pandas DataFrame, one row per item and one column per field: ``"layers"``
        (:attr:`layers`), ``"operators"`` (:meth:`by_operator`) or ``"modules"``
        (:meth:`by_module` at ``depth``). pandas is optional: :class:`ImportError` saying how to
        install it when it is missing."""
        if view == "layers":
            rows: list[Any] = list(self.layers)
            columns = [f.name for f in dataclasses.fields(LayerCost)]
        elif view == "operators":
            rows, columns = self.by_operator(), [f.name for f in dataclasses.fields(OperatorRow)]
        elif view == "modules":
            rows, columns = self.by_module(depth), [f.name for f in dataclasses.fields(ModuleRow)]
        else:
            raise ValueError(f"view must be 'layers', 'operators' or 'modules', not {view!r}")
        try:
            pandas = importlib.import_module("pandas")
        except ModuleNotFoundError:
            raise ImportError("Profile.to_frame needs pandas, which is not installed: pip install pandas "
                              "(or pip install 'edgeprof[pandas]')") from None
        return pandas.DataFrame([dataclasses.astuple(r) for r in rows], columns=columns)

    def by_operator(self) -> list[OperatorRow]:
        """One row per op type, most ops first."""
        acc: dict[str, list[int]] = {}
        for layer in self.layers:
            if not layer.in_totals:
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
            if not layer.in_totals:
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
        """The ``n`` layers with the most ops (FLOPs + integer OPs), then MACs (ties in layer order)."""
        if n < 0:  # a slice from the end, as the sorted list's [:n] gives
            return sorted(self.layers, key=_by_ops)[:n]
        return heapq.nsmallest(n, self.layers, key=_by_ops)  # = sorted(...)[:n], without sorting every layer

    # ---- serialisation -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = to_dict(self)
        d["not_counted_total"] = self._not_counted_total()
        return d

    def json_members(self) -> list[tuple[str, Any]]:
        """The ``(key, value)`` members of :meth:`to_dict`, in its order, the values as they are
        (dataclasses, tuples), for writers that walk the tree without copying it."""
        return [*members(self), ("not_counted_total", self._not_counted_total())]

    def _not_counted_total(self) -> int:
        return sum(n.count for n in self.not_counted)

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON: compact on one line (``indent=None``), else objects indented
        by ``indent`` spaces and each element of a list on one line (``report/json_text.py``)."""
        if indent is None:
            return json.dumps(dict(self.json_members()), default=json_default)
        return json_text(self.json_members(), indent)

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Profile:
        return from_dict(Profile, data)

    @staticmethod
    def from_json(text: str) -> Profile:
        return Profile.from_dict(json.loads(text))


def _by_ops(layer: LayerCost) -> tuple[int, int]:
    return -(layer.flops + layer.int_ops), -layer.macs


_SOURCE = {"model": "from the model", "flag": "as given", "default-batch": "batch assumed 1",
           "example": "from the example inputs"}
_SI = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k"))


def _si(n: int | float) -> str:
    """``68818816`` -> ``'68.8 M'``: three significant digits and a decimal prefix (with the space
    a unit follows), or the number itself below 1,000."""
    for size, prefix in _SI:
        if abs(n) >= size:
            return f"{n / size:.3g} {prefix}"
    return f"{n:g} " if isinstance(n, float) else f"{n} "


_html_display: Callable[[Profile], str] | None = None


def set_html_display(render: Callable[[Profile], str]) -> None:
    """Register the function :meth:`Profile._repr_html_` shows (the HTML renderer does, on import)."""
    global _html_display
    _html_display = render
