"""The memory part of the report: model size, activation peak, timeline, best order, measured peak.

All figures are in bytes (Python ints). A :class:`MemoryReport` has the shape of a
latency report: the ``predicted`` part (:class:`PredictedMemory`, *counted* from tensor shapes
and dtypes, see its ``provenance``) and, after a real run, the ``measured`` part
(:class:`MemoryMeasurements`, each run *measured* in a named runtime). Everything here is plain
data (ints, strs, bools, tuples) so it round-trips through JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from edgeprof.report.common import Provenance, WeightGroup
from edgeprof.report.json_text import json_text
from edgeprof.report.serial import from_dict, json_default, members, to_dict

SearchMethod = Literal["exact", "heuristic"]


@dataclass(frozen=True)
class ModelSize:
    """The stored tensors (subgraphs included, shared storage counted once), by role and dtype,
    and the model file's size on disk (``None`` when there is no file)."""

    params: int
    parameter_bytes: int
    buffer_bytes: int
    constant_bytes: int
    weight_bytes: int
    external_bytes: int
    by_dtype: tuple[WeightGroup, ...]
    file_bytes: int | None = None


@dataclass(frozen=True)
class PrecisionMemory:
    """The memory at one precision. ``stored`` is the model as it is; the others re-type the
    weights (see :attr:`PredictedMemory.retype_rule`) and the float activations. ``int4`` keeps
    activations at int8 (a W4A8 deployment)."""

    precision: Literal["stored", "fp32", "fp16", "int8", "int4"]
    weight_dtype: str
    activation_dtype: str
    weight_bytes: int
    peak_activation_bytes: int
    peak_bytes: int
    best_order_peak_activation_bytes: int | None = None


@dataclass(frozen=True)
class LiveTensor:
    """A buffer live at the peak: the value that owns it, its other names (views, in-place
    results), its dtype, shape and bytes, and the node that wrote it (``""`` for a graph input)."""

    value: str
    size_bytes: int
    dtype: str
    shape: tuple[int | str, ...]
    producer: str
    aliases: tuple[str, ...] = ()
    sized: bool = True


@dataclass(frozen=True)
class TimelinePoint:
    """One step of the execution order: the node, its op, the activation bytes in use while it
    runs (``op_peak_bytes``: everything live before it, its outputs and its subgraph peak) and
    the bytes still live after it (``live_bytes``)."""

    step: int
    node: str
    op: str
    op_peak_bytes: int
    live_bytes: int


@dataclass(frozen=True)
class Schedule:
    """The memory-aware execution order: the default order's activation peak and the best order
    found, with the method (``exact``: proven optimal; ``heuristic``: a beam search) and the
    order itself (node names, and indices into the graph's node list)."""

    default_peak_activation_bytes: int
    best_peak_activation_bytes: int
    method: SearchMethod
    best_peak_at: str
    order: tuple[str, ...]
    order_indices: tuple[int, ...]
    states_explored: int
    lower_bound_bytes: int

    @property
    def saved_bytes(self) -> int:
        return self.default_peak_activation_bytes - self.best_peak_activation_bytes


@dataclass(frozen=True)
class MeasuredMemory:
    """A real run: the peak resident-set increase over the runtime's own baseline while the
    model runs (``peak_rss_increase_bytes``), while the session is created
    (``load_peak_rss_increase_bytes``) and once it is created (``session_rss_increase_bytes``:
    the weights as the runtime holds them plus its per-session state). ``options`` are the
    runtime settings used, as ``name=value`` strings."""

    runtime: str
    peak_rss_increase_bytes: int
    load_peak_rss_increase_bytes: int
    session_rss_increase_bytes: int
    runs: int
    baseline_rss_bytes: int
    options: tuple[str, ...]
    inputs: tuple[str, ...]
    provenance: Provenance


@dataclass(frozen=True)
class MeasuredTensorPeak:
    """A PyTorch eager run: the peak of live tensor storage (``peak_activation_bytes``: the
    inputs, held by the caller, plus the most bytes the CPU allocator held for tensors made
    during the forward, from the profiler's memory events), beside the parameters and buffers
    (``weight_bytes``), which exist before the forward."""

    runtime: str
    peak_activation_bytes: int
    peak_allocated_increase_bytes: int
    input_bytes: int
    weight_bytes: int
    runs: int
    provenance: Provenance


@dataclass(frozen=True)
class McuFit:
    """Does the model fit a microcontroller? Weights in flash, activations in SRAM (the
    peak of the default order and of the best order found). Margins are capacity minus need
    (negative: does not fit). ``is_lower_bound``: some tensors could not be sized."""

    precision: str
    sram_bytes: int
    flash_bytes: int
    weight_bytes: int
    weights_fit_flash: bool
    flash_margin_bytes: int
    default_peak_activation_bytes: int
    default_fits_sram: bool
    default_sram_margin_bytes: int
    best_peak_activation_bytes: int
    best_fits_sram: bool
    best_sram_margin_bytes: int
    is_lower_bound: bool
    device_id: str = ""  # the catalogue device whose SRAM and flash sizes were used ("" when given directly)

    @property
    def fits(self) -> bool:
        """Weights fit in flash and the best order's activations fit in SRAM."""
        return self.weights_fit_flash and self.best_fits_sram


@dataclass(frozen=True)
class RamFit:
    """Does the model fit a device's RAM? ``needs_bytes`` = weights + the activation peak (+ the
    KV cache of a decoder LLM at its context length) + what the system and the runtime hold
    (``system_bytes``, a catalogue-class figure whose tag and source ``system_source`` states),
    against ``ram_bytes``. ``is_lower_bound``: some tensors could not be sized."""

    device_id: str
    precision: str
    ram_bytes: int
    weight_bytes: int
    peak_activation_bytes: int
    kv_cache_bytes: int
    system_bytes: int
    system_source: str
    needs_bytes: int
    fits: bool
    is_lower_bound: bool

    @property
    def margin_bytes(self) -> int:
        """RAM left (negative: short by that much)."""
        return self.ram_bytes - self.needs_bytes

    def verdict(self) -> str:
        """``fits (X of Y)`` or ``does not fit: needs X, has Y``, sizes in decimal units."""
        need, has = _gb(self.needs_bytes), _gb(self.ram_bytes)
        if not self.fits:
            return f"does not fit: needs {need}, has {has}"
        return f"fits: needs {'>= ' if self.is_lower_bound else ''}{need} of {has}"


def _gb(n: int) -> str:
    return f"{n / 1e9:.3g} GB" if n >= 1e9 else f"{n / 1e6:.3g} MB"


@dataclass(frozen=True)
class KernelScratchEstimate:
    """The peak on a named runtime: the prediction plus the temporaries its kernels allocate
    (``scratch_at_peak_bytes`` at the step ``peak_at``), estimated by the rules in ``provenance``.
    ``process_peak_bytes``: the peak resident-memory increase of a process that creates a session
    with the runtime's default options and runs the model, from after the runtime's import to the
    end of the runs (load peak, arena, fixed costs; the rules are in ``provenance`` too)."""

    runtime: str
    peak_activation_bytes: int
    peak_bytes: int
    peak_at: str
    scratch_at_peak_bytes: int
    is_lower_bound: bool
    provenance: Provenance
    process_peak_bytes: int | None = None


@dataclass(frozen=True)
class PredictedMemory:
    """How much memory the model takes while it runs, as predicted.

    ``peak_bytes`` = ``weight_bytes`` + ``peak_activation_bytes`` (no runtime overhead is added
    to a prediction). ``peak_at`` is the node running at the activation peak and
    ``live_at_peak`` the buffers live then. When some activations could not be sized, they are
    listed in ``unsized_values`` and the peak is a lower bound. ``device_fits``: per ``--device``
    with SRAM and flash sizes, at the stored and int8 precisions; ``ram_fits``: per ``--device``
    with a RAM size (weights, activations, KV cache, system and runtime against RAM); ``runtime_estimate``: for an
    ONNX file, the peak on ONNX Runtime's CPU kernels."""

    weight_bytes: int
    peak_activation_bytes: int
    peak_bytes: int
    peak_at: str
    peak_at_op: str
    input_bytes: int
    activation_total_bytes: int
    live_at_peak: tuple[LiveTensor, ...]
    timeline: tuple[TimelinePoint, ...]
    size: ModelSize
    by_precision: tuple[PrecisionMemory, ...]
    schedule: Schedule | None
    unsized_values: tuple[str, ...]
    is_lower_bound: bool
    order_source: str
    inputs_held: bool
    retype_rule: str
    rules: tuple[str, ...]
    provenance: Provenance
    device_fits: tuple[McuFit, ...] = ()
    runtime_estimate: KernelScratchEstimate | None = None
    ram_fits: tuple[RamFit, ...] = ()

    def precision(self, name: str) -> PrecisionMemory:
        """The row for ``name`` (``stored``, ``fp32``, ``fp16``, ``int8``, ``int4``)."""
        for row in self.by_precision:
            if row.precision == name:
                return row
        raise KeyError(name)


@dataclass(frozen=True)
class MemoryMeasurements:
    """Real runs beside the prediction. ``rss``: the peak resident-set increase of a run, with
    ``measured_minus_predicted_bytes`` (against the predicted ``peak_bytes``), the runtime's own
    overhead as measured (``runtime_overhead_bytes``: the session's resident increase minus the
    weights) and the prediction plus that stated overhead (``peak_with_runtime_overhead_bytes``).
    ``tensor_peak``: a PyTorch module's live tensor storage, with
    ``tensor_peak_minus_predicted_bytes`` (against the predicted ``peak_activation_bytes``)."""

    rss: MeasuredMemory | None = None
    measured_minus_predicted_bytes: int | None = None
    runtime_overhead_bytes: int | None = None
    peak_with_runtime_overhead_bytes: int | None = None
    tensor_peak: MeasuredTensorPeak | None = None
    tensor_peak_minus_predicted_bytes: int | None = None


@dataclass(frozen=True)
class MemoryReport:
    """``predicted`` is the static analysis; ``measured`` the real runs, when made
    (``measurement_error`` says why one could not be made)."""

    predicted: PredictedMemory
    measured: MemoryMeasurements | None = None
    measurement_error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def to_json(self, indent: int | None = 2) -> str:
        """As :meth:`Profile.to_json <edgeprof.report.model.Profile.to_json>`."""
        if indent is None:
            return json.dumps(self, default=json_default)
        return json_text(members(self), indent)

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> MemoryReport:
        return from_dict(MemoryReport, data)

    @staticmethod
    def from_json(text: str) -> MemoryReport:
        return MemoryReport.from_dict(json.loads(text))
