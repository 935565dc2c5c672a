"""The memory pass: model size, peak activation memory from tensor lifetimes, the timeline,
the memory at other precisions, the best execution order and the microcontroller view.

Counting rules (each stated in :attr:`MemoryReport.rules` as well):

* **weights** are every stored tensor (initializers, parameters, buffers, constants; subgraphs
  included; shared storage once) at its stored dtype; they are not activations;
* **activations** live from the node that writes them to the last node that reads them (see
  :mod:`edgeprof.passes.schedule` for views, in-place ops, graph inputs and outputs and
  subgraphs); the activation peak is the most bytes in use while one node runs;
* ``peak_bytes`` = weights + activation peak; no runtime overhead is added to a prediction;
* tensors that cannot be sized (no shape, a symbolic dim, a string type) are listed and make
  the peak a lower bound; they are never counted as 0 silently;
* at another precision, **parameters and float buffers** are re-typed to it, **constants**
  (shapes, axes, scalars) and integer buffers stay as stored; **float activations** are
  re-typed, integer activations (indices, masks, shapes) stay as stored; ``int4`` keeps
  activations at int8. No quantisation scales or zero points are added.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cached_property
from typing import Literal

from edgeprof.devices.catalogue import Device, Figure
from edgeprof.errors import UsageError
from edgeprof.ir import DType, Graph, Value, dtype_by_name
from edgeprof.passes.params import WeightTable, weight_table
from edgeprof.passes.schedule import (
    Lifetimes,
    SizeFn,
    StorageModel,
    lifetimes,
    memory_of,
    search_order,
    sizes_under,
    storage_model,
)
from edgeprof.report.memory import (
    LiveTensor,
    McuFit,
    MeasuredMemory,
    MeasuredTensorPeak,
    MemoryMeasurements,
    MemoryReport,
    ModelSize,
    PrecisionMemory,
    PredictedMemory,
    RamFit,
    Schedule,
    TimelinePoint,
)
from edgeprof.report.model import Provenance, WeightGroup

__all__ = [
    "SYSTEM_BYTES", "WHAT_IF_MEMORY", "analyse_memory", "mcu_fit", "model_size", "precision_weight_bytes", "ram_fit", "with_device_fits", "with_measurement",
    "with_measurement_error",
]

Precision = Literal["fp32", "fp16", "int8", "int4"]

# precision -> (weight dtype, activation dtype)
PRECISIONS: dict[Precision, tuple[str, str]] = {
    "fp32": ("float32", "float32"),
    "fp16": ("float16", "float16"),
    "int8": ("int8", "int8"),
    "int4": ("int4", "int8"),
}

RETYPE_RULE = (
    "parameters and float buffers re-typed to the precision; constants (shapes, axes, scalars) and "
    "integer buffers kept as stored; float activations re-typed, integer activations kept; int4 = "
    "int4 weights with int8 activations; no quantisation scales or zero points added"
)

RULES = (
    "weights: every stored tensor once (shared storage once), subgraphs included; not activations",
    "activations: live from the node that writes them to the last node that reads them",
    "graph inputs: allocated by the caller before the run and held by it to the end (inputs_held=True), "
    "or freed after their last reader (inputs_held=False, an arena planner that owns them)",
    "graph outputs: live to the end of the run; a value nobody reads lives while its producer runs",
    "views (registry Entry.view: Reshape, Squeeze, Unsqueeze, Flatten, Identity, Dropout) and in-place "
    "ops (attrs inplace) share input 0's buffer, which lives until the last alias is read",
    "If/Loop/Scan: the largest subgraph's activation peak (default order) is added to the live set "
    "while the node runs; the node's own outputs are counted as well (an upper bound for If)",
    "peak_bytes = weight_bytes + peak_activation_bytes; no runtime overhead added to a prediction; with a "
    "measurement, peak_with_runtime_overhead_bytes adds the measured session overhead (session RSS - weights)",
    "unsized tensors (no shape, symbolic dim, string type) are listed and make the peak a lower bound",
)


def _retyped_size(target: DType) -> SizeFn:
    def size(value: Value) -> int | None:
        if value.shape is None or not value.shape.is_static or value.dtype.bits == 0:
            return None
        dtype = target if value.dtype.kind == "float" else value.dtype
        return dtype.nbytes_for(value.shape.numel())

    return size


def precision_weight_bytes(table: WeightTable, precision: Precision) -> int:
    """Bytes of the stored tensors with parameters and float buffers re-typed to ``precision``
    (``fp32``, ``fp16``, ``int8``, ``int4``); constants and integer buffers as stored."""
    target = dtype_by_name(PRECISIONS[precision][0])
    total = 0
    for w in table.weights:
        role = table.role(w)
        if role == "parameter" or (role == "buffer" and w.dtype.kind == "float"):
            total += target.nbytes_for(w.numel)
        else:
            total += w.nbytes
    return total


def model_size(graph: Graph, file_bytes: int | None = None, table: WeightTable | None = None) -> ModelSize:
    """Parameters and stored bytes by role and dtype; ``file_bytes`` is the caller's file size."""
    table = table if table is not None else weight_table(graph)
    by_role = {"parameter": 0, "buffer": 0, "constant": 0}
    groups: dict[str, list[int]] = {}
    for w in table.weights:
        role = table.role(w)
        by_role[role] += w.nbytes
        g = groups.setdefault(w.dtype.name, [0, 0, 0, 0])
        g[0] += 1
        g[1] += w.numel
        g[2] += w.numel if role == "parameter" else 0
        g[3] += w.nbytes
    by_dtype = tuple(
        WeightGroup(k, t, e, p, b) for k, (t, e, p, b) in sorted(groups.items(), key=lambda kv: (-kv[1][3], kv[0]))
    )
    return ModelSize(
        params=table.params,
        parameter_bytes=by_role["parameter"],
        buffer_bytes=by_role["buffer"],
        constant_bytes=by_role["constant"],
        weight_bytes=table.weight_bytes,
        external_bytes=sum(w.nbytes for w in table.weights if w.external),
        by_dtype=by_dtype,
        file_bytes=file_bytes,
    )


def analyse_memory(
    graph: Graph,
    *,
    file_bytes: int | None = None,
    search: bool = True,
    max_states_per_step: int | None = None,
    inputs_held: bool = True,
    table: WeightTable | None = None,
) -> MemoryReport:
    """The memory report of ``graph`` over its default order (:func:`edgeprof.ir.topological_order`);
    with ``search``, also the best execution order found (:func:`edgeprof.passes.schedule.search_order`).
    ``inputs_held``: the caller keeps the graph inputs for the whole run (ONNX Runtime, PyTorch);
    ``False`` frees them after their last reader (an arena planner that owns them, TFLite Micro).
    ``table``: the graph's :func:`weight_table` when the caller has it already."""
    table = table if table is not None else weight_table(graph)
    size = model_size(graph, file_bytes, table)
    model = storage_model(graph, inputs_held=inputs_held)
    default_life = model.default_lifetimes
    mem = model.default_memory
    nodes = graph.nodes
    timeline = tuple(
        TimelinePoint(k, nodes[i].name, nodes[i].op, mem.during[k], mem.after[k]) for k, i in enumerate(mem.order)
    )
    peak_node = nodes[mem.order[mem.peak_step]] if mem.peak_step >= 0 else None
    live = _live_tensors(model, default_life, mem.peak_step) if mem.peak_step >= 0 else _input_tensors(model)
    schedule, best_life = _schedule(model, max_states_per_step) if search else (None, None)
    peaks = _ActivationPeaks(model, best_life)
    rows = [
        PrecisionMemory(
            "stored", _stored_label(table), _activation_label(model), size.weight_bytes, mem.peak_bytes,
            size.weight_bytes + mem.peak_bytes, schedule.best_peak_activation_bytes if schedule else None,
        ),
        *(_precision_row(table, name, peaks) for name in PRECISIONS),
    ]
    unsized = model.unsized
    return MemoryReport(PredictedMemory(
        weight_bytes=size.weight_bytes,
        peak_activation_bytes=mem.peak_bytes,
        peak_bytes=size.weight_bytes + mem.peak_bytes,
        peak_at=peak_node.name if peak_node is not None else "",
        peak_at_op=peak_node.op if peak_node is not None else "",
        input_bytes=mem.start_bytes,
        activation_total_bytes=sum(s.size_bytes for s in model.storages),
        live_at_peak=live,
        timeline=timeline,
        size=size,
        by_precision=tuple(rows),
        schedule=schedule,
        unsized_values=unsized,
        is_lower_bound=bool(unsized),
        order_source="edgeprof.ir.topological_order (source order where valid)",
        inputs_held=inputs_held,
        retype_rule=RETYPE_RULE,
        rules=RULES,
        provenance=Provenance(
            "counted",
            "weights from stored tensor shapes and dtypes; activations from tensor lifetimes over the "
            "execution order, sizes from value shapes and dtypes",
        ),
    ))


def _schedule(model: StorageModel, max_states_per_step: int | None) -> tuple[Schedule, Lifetimes]:
    """The best order found and its lifetimes."""
    found = search_order(model, max_states_per_step=max_states_per_step)
    default = model.default_memory
    life = model.default_lifetimes if found.order == default.order else lifetimes(model, found.order)
    best = default if life is model.default_lifetimes else memory_of(model, life)
    nodes = model.graph.nodes
    return Schedule(
        default_peak_activation_bytes=default.peak_bytes,
        best_peak_activation_bytes=found.peak_bytes,
        method=found.method,
        best_peak_at=nodes[found.order[best.peak_step]].name if best.peak_step >= 0 else "",
        order=tuple(nodes[i].name for i in found.order),
        order_indices=found.order,
        states_explored=found.states_explored,
        lower_bound_bytes=found.lower_bound_bytes,
    ), life


class _ActivationPeaks:
    """The activation peaks, default order and best order found, with the activations re-typed
    to each dtype: worked out once per dtype (int8 and int4 share int8 activations) over the
    lifetimes of the stored sizes, which re-typing leaves as they are."""

    def __init__(self, model: StorageModel, best_life: Lifetimes | None) -> None:
        self.model = model
        self.best_life = best_life
        self.found: dict[str, tuple[int, int | None]] = {}

    def at(self, activation_dtype: str) -> tuple[int, int | None]:
        """The default order's peak and (with a search) the better of it and the best order's."""
        if activation_dtype not in self.found:
            self.found[activation_dtype] = self._work_out(activation_dtype)
        return self.found[activation_dtype]

    def _work_out(self, activation_dtype: str) -> tuple[int, int | None]:
        model = self.model
        target = dtype_by_name(activation_dtype)
        # re-typing changes nothing when every sized float buffer has the target's width already
        # (and no subgraph is sized again)
        unchanged = self.float_bits <= {target.bits} and not any(model.subgraph_peak_bytes)
        sizes = None if unchanged else sizes_under(model, _retyped_size(target))
        peak = model.default_memory.peak_bytes if sizes is None else memory_of(model, model.default_lifetimes, sizes).peak_bytes
        if self.best_life is None:
            return peak, None
        if self.best_life is model.default_lifetimes:
            return peak, peak
        # the order was searched at the stored sizes; at another precision keep the better of the two
        return peak, min(peak, memory_of(model, self.best_life, sizes).peak_bytes)

    @cached_property
    def float_bits(self) -> set[int]:
        """The element widths of the sized float buffers."""
        values = self.model.graph.values
        return {v.dtype.bits for s in self.model.storages
                if s.sized and (v := values.get(s.root)) is not None and v.dtype.kind == "float"}


def _precision_row(table: WeightTable, name: Precision, peaks: _ActivationPeaks) -> PrecisionMemory:
    weight_dtype, activation_dtype = PRECISIONS[name]
    peak, best = peaks.at(activation_dtype)
    weight_bytes = precision_weight_bytes(table, name)
    return PrecisionMemory(name, weight_dtype, activation_dtype, weight_bytes, peak, weight_bytes + peak, best)


def _stored_label(table: WeightTable) -> str:
    names = sorted({w.dtype.name for w in table.weights})
    return "+".join(names) if names else "-"


def _activation_label(model: StorageModel) -> str:
    names = sorted({v.dtype.name for s in model.storages if (v := model.graph.values.get(s.root)) is not None})
    return "+".join(names) if names else "-"


def _live_tensors(model: StorageModel, life: Lifetimes, step: int) -> tuple[LiveTensor, ...]:
    ids = [sid for sid, (first, last) in enumerate(zip(life.first_step, life.last_step, strict=True)) if first <= step <= last]
    out = [_live(model, sid) for sid in ids]
    return tuple(sorted(out, key=lambda t: (-t.size_bytes, t.value)))


def _input_tensors(model: StorageModel) -> tuple[LiveTensor, ...]:
    return tuple(_live(model, sid) for sid, s in enumerate(model.storages) if s.producer < 0)


def _live(model: StorageModel, sid: int) -> LiveTensor:
    s = model.storages[sid]
    value = model.graph.values.get(s.root)
    shape: tuple[int | str, ...] = tuple(value.shape.dims) if value is not None and value.shape is not None else ()
    return LiveTensor(
        value=s.root,
        size_bytes=s.size_bytes,
        dtype=value.dtype.name if value is not None else "unknown",
        shape=shape,
        producer=model.graph.nodes[s.producer].name if s.producer >= 0 else "",
        aliases=s.aliases[1:],
        sized=s.sized,
    )


def with_measurement(report: MemoryReport, measured: MeasuredMemory | MeasuredTensorPeak) -> MemoryReport:
    """``report`` with a real run's figures beside the prediction: a peak RSS increase is
    compared with ``peak_bytes``, a PyTorch live-tensor peak with ``peak_activation_bytes``."""
    p = report.predicted
    before = report.measured if report.measured is not None else MemoryMeasurements()
    if isinstance(measured, MeasuredTensorPeak):
        return replace(report, measured=replace(
            before,
            tensor_peak=measured,
            tensor_peak_minus_predicted_bytes=measured.peak_activation_bytes - p.peak_activation_bytes,
        ))
    overhead = measured.session_rss_increase_bytes - p.weight_bytes
    return replace(
        report,
        measured=replace(
            before,
            rss=measured,
            measured_minus_predicted_bytes=measured.peak_rss_increase_bytes - p.peak_bytes,
            runtime_overhead_bytes=overhead,
            peak_with_runtime_overhead_bytes=p.peak_bytes + overhead,
        ),
        measurement_error="",
    )


def with_measurement_error(report: MemoryReport, message: str) -> MemoryReport:
    """``report`` noting why the real run could not be made (the static figures stay)."""
    return replace(report, measurement_error=message)


def mcu_fit(report: MemoryReport, sram_bytes: int, flash_bytes: int, precision: str = "stored",
            device_id: str = "") -> McuFit:
    """Whether the weights fit in ``flash_bytes`` and the activation peak (default order, and
    the best order found when the report has one) fits in ``sram_bytes``, at ``precision``."""
    if sram_bytes < 0 or flash_bytes < 0:
        raise UsageError("SRAM and flash sizes must be non-negative byte counts")
    try:
        row = report.predicted.precision(precision)
    except KeyError:
        names = ", ".join(r.precision for r in report.predicted.by_precision)
        raise UsageError(f"unknown precision {precision!r}; use one of {names}") from None
    best = row.best_order_peak_activation_bytes
    best = row.peak_activation_bytes if best is None else best
    return McuFit(
        precision=precision,
        sram_bytes=sram_bytes,
        flash_bytes=flash_bytes,
        weight_bytes=row.weight_bytes,
        weights_fit_flash=row.weight_bytes <= flash_bytes,
        flash_margin_bytes=flash_bytes - row.weight_bytes,
        default_peak_activation_bytes=row.peak_activation_bytes,
        default_fits_sram=row.peak_activation_bytes <= sram_bytes,
        default_sram_margin_bytes=sram_bytes - row.peak_activation_bytes,
        best_peak_activation_bytes=best,
        best_fits_sram=best <= sram_bytes,
        best_sram_margin_bytes=sram_bytes - best,
        is_lower_bound=report.predicted.is_lower_bound,
        device_id=device_id,
    )


FIT_PRECISIONS = ("stored", "int8")
"""The precisions a device fit is given at: as stored, and as an int8 deployment would store it."""


# What the operating system and the inference runtime hold on a device of each class, beside the
# model: subtracted from its RAM before the model's weights, activations and KV cache.
SYSTEM_BYTES: dict[str, Figure] = {
    "sbc": Figure(0.35e9, "assumed", "Raspberry Pi OS (Lite) and its services at idle, about 0.3 GB (assumed), plus a "
                  "Python ONNX Runtime process with a small session: 52 MB peak RSS measured on this project's x86 "
                  "CI host (a LiteRT process: 25 MB)"),
    "gpu-module": Figure(1.5e9, "assumed", "JetPack's Ubuntu at idle (~0.8 GB) plus the CUDA context and the "
                         "cuDNN/TensorRT libraries (~0.7 GB) in the shared RAM: assumed from typical Jetson reports"),
    "phone": Figure(3.5e9, "assumed", "Android, its services and resident apps hold about 3-4 GB of an 8 GB phone; "
                    "an app's runtime (LiteRT/QNN) about 0.1 GB: assumed"),
    "laptop": Figure(4e9, "assumed", "macOS and resident apps at idle, about 4 GB: assumed"),
    "accelerator": Figure(0.05e9, "assumed", "the accelerator's firmware and runtime buffers: assumed"),
    "host": Figure(0.05e9, "measured", "a Python ONNX Runtime process with a small session: 52 MB peak RSS measured "
                   "on this project's x86 CI host"),
    "mcu": Figure(0.0, "assumed", "bare metal: the runtime's arena is part of the activation peak"),
}


# The memory rows (weights, activations) a --precision what-if deploys at.
WHAT_IF_MEMORY: dict[str, tuple[str, str]] = {
    "fp32": ("fp32", "fp32"), "fp16": ("fp16", "fp16"), "int8": ("int8", "int8"), "w8a8": ("int8", "int8"),
    "w4a16": ("int4", "fp16"),
}


def ram_fit(report: MemoryReport, device: Device, kv_cache_bytes: int = 0, precision: str = "stored") -> RamFit:
    """Whether the model fits ``device``'s RAM: weights + activation peak (the best order found) +
    ``kv_cache_bytes`` + the system share of :data:`SYSTEM_BYTES` for the device's class.
    ``precision``: ``stored``, or a what-if of :data:`WHAT_IF_MEMORY` (weights and activations
    re-typed; a KV cache is taken as given)."""
    if device.ram_bytes is None:
        raise UsageError(f"device {device.id} has no RAM size")
    weight_row, act_row = WHAT_IF_MEMORY.get(precision, (precision, precision))
    weights = report.predicted.precision(weight_row).weight_bytes
    row = report.predicted.precision(act_row)
    best = row.best_order_peak_activation_bytes
    peak = row.peak_activation_bytes if best is None else best
    system = SYSTEM_BYTES.get(device.device_class, SYSTEM_BYTES["sbc"])
    needs = weights + peak + kv_cache_bytes + int(system.value)
    ram = int(device.ram_bytes.value)
    return RamFit(device_id=device.id, precision=precision, ram_bytes=ram, weight_bytes=weights,
                  peak_activation_bytes=peak, kv_cache_bytes=kv_cache_bytes, system_bytes=int(system.value),
                  system_source=f"{system.tag}: {system.source}", needs_bytes=needs, fits=needs <= ram,
                  is_lower_bound=report.predicted.is_lower_bound)


def with_device_fits(report: MemoryReport, devices: Sequence[Device], kv_cache_bytes: int = 0,
                     precision: str | None = None) -> MemoryReport:
    """``report`` with :func:`mcu_fit` for each device that has both an SRAM and a flash size
    (microcontrollers, the Coral's parameter SRAM...), at :data:`FIT_PRECISIONS`, and
    :func:`ram_fit` for each device with a RAM size (``kv_cache_bytes``: a decoder LLM's cache;
    ``precision``: a what-if precision the fits follow)."""
    fits = list(report.predicted.device_fits)
    ram_fits = list(report.predicted.ram_fits)
    for device in devices:
        if device.ram_bytes is not None:
            ram_fits.append(ram_fit(report, device, kv_cache_bytes, precision or "stored"))
        if device.sram_bytes is None or device.flash_bytes is None:
            continue
        fits += [mcu_fit(report, int(device.sram_bytes.value), int(device.flash_bytes.value), precision, device.id)
                 for precision in FIT_PRECISIONS]
    return replace(report, predicted=replace(report.predicted, device_fits=tuple(fits), ram_fits=tuple(ram_fits)))

