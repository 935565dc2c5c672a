"""Predicted latency on a catalogue device: a per-layer roofline plus overheads.

For each counted layer (``calls`` runs of it together):

* compute time = ops / (peak rate of the layer's precision x efficiency for (precision, category)),
  ops being its FLOPs (float layers) or integer OPs (integer layers);
* memory time = (bytes_read + bytes_written) / (memory bandwidth x bandwidth efficiency);
* layer time = max(compute, memory) + per-node overhead x calls; the layer is *compute*- or
  *memory*-bound by which term wins (*overhead*-bound when it moves nothing and computes nothing).

Total = sum of the layer times + the per-inference overhead; FPS = 1 / total.

The graph as deployed (``fuse=True``, the default, with the profile's ``deployment`` from
:mod:`edgeprof.passes.deploy`): the roofline runs over the deployed *kernels* instead of the
as-given nodes. Constant subgraphs evaluated at load, views, and the nodes fused into a kernel
(BatchNormalization folded, activations and SiLU/HardSwish/GELU patterns, Q/DQ pairs) are listed as
``fused`` rows that cost nothing (no per-node overhead, no bytes); a kernel moves only its boundary
bytes; an integer kernel from QDQ runs at the int8 rate. A control-flow kernel's subgraph layers are
predicted one by one, as counted. The counted totals never change; only the time model uses the
deployment. Without a deployment (``fuse=False``, or a profile built without one) every as-given
layer is its own kernel.

Precision classes: float32/float64 use the FP32 rate, float16/bfloat16 the FP16 rate, 8-bit and
narrower integers the INT8 rate; wider integers and bool (index and shape arithmetic) use the FP32
rate (assumption: one 32-bit SIMD lane per op). A layer with ops whose precision has no rate on the
device is marked ``no-rate`` ("no rate for precision X on device Y"), only its memory time is
counted, and the total is a lower bound; so are totals with uncounted layers or without a
bandwidth figure. Layers in an ``If`` branch not known statically are left out (lower bound).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from edgeprof.devices.catalogue import Catalogue, Device, Figure, load_catalogue
from edgeprof.devices.runtimes import WIDER, DeviceRuntimes, Runtime, RuntimeTable, load_runtimes
from edgeprof.errors import UsageError
from edgeprof.passes.partition import WHAT_IF_PRECISIONS, kernel_weight_bytes, partition, retype
from edgeprof.report.deploy import DeployedKernel, Deployment
from edgeprof.report.latency import Bound, LayerLatency, LLMLatency, PredictedLatency
from edgeprof.report.model import LayerCost, Profile
from edgeprof.report.partition import KernelPlacement, Partitioning

__all__ = ["BANDWIDTH_SIZE_KEY", "CONV_DEPTH_KEY", "METHOD", "conv_depth_efficiency", "is_float32_class", "precision_class", "predict", "predict_layer", "resolve_target",
           "runtime_epilogue", "with_predictions"]

METHOD = (
    "roofline per kernel of the deployed graph: max(ops / (peak rate of its precision x efficiency), (bytes read + "
    "written at the kernel's boundary) / (bandwidth x bandwidth efficiency)) + per-node overhead x calls; constants "
    "folded at load, BatchNormalization folded, activations fused into their producer (use-def chains), QDQ as "
    "integer kernels, views free; total = sum + per-inference overhead"
)
METHOD_PARTITIONS = (
    "partitioned for the runtime (devices/runtimes.toml): kernels the accelerator does not run (op or precision) "
    "fall back to the host CPU by the runtime's rule, each at its processor's figures; activations crossing a "
    "partition boundary and weights beyond the on-chip parameter cache go over the link; on-chip activations "
    "cost no memory time; + a switch overhead per partition boundary"
)
METHOD_AS_GIVEN = (
    "roofline per layer as given: max(ops / (peak rate of its precision x efficiency), (bytes read + written) / "
    "(bandwidth x bandwidth efficiency)) + per-node overhead x calls; total = sum + per-inference overhead"
)

_FP32 = {"float32", "float64", "float", "double", ""}
_FP16 = {"float16", "bfloat16", "half"}
_NARROW_INT = {"int8", "uint8", "int4", "uint4", "int2", "uint2"}


def is_float32_class(precision: str) -> bool:
    """float32/float64 (and an unknown precision, ""): the FP32 rate for what it really is."""
    return precision.lower() in _FP32


def precision_class(precision: str) -> str:
    """``fp32``, ``fp16`` or ``int8``: which peak rate a layer of this precision runs at."""
    p = precision.lower()
    if p in _FP16 or p.startswith("float8"):
        return "fp16"
    if p in _NARROW_INT:
        return "int8"
    return "fp32"  # float32/float64, and wider integers / bool (see the module docstring)


def _value(fig: Figure | None) -> float:
    return fig.value if fig is not None else 0.0


def predict_layer(layer: LayerCost, device: Device, *, rate_precision: str | None = None, on_chip: bool = False,
                  note: str = "", processor: str = "") -> tuple[LayerLatency, str]:
    """One layer's prediction and, when its precision has no rate on ``device``, the message saying so.

    ``rate_precision`` is the precision class whose rate it runs at (default: its own; a runtime may
    upcast or lower it); ``on_chip``: its bytes stay in the accelerator's SRAM (no memory time)."""
    ops = layer.flops + layer.int_ops
    prec = rate_precision or precision_class(layer.precision)
    peak = device.peak_rate(prec)
    eff = conv_depth_efficiency(layer, device, prec) or device.efficiency_for(prec, layer.category)
    rate = _value(peak) * (eff.value if eff is not None else 1.0)
    missing = ""
    compute_s: float | None
    if ops == 0:
        compute_s = 0.0
    elif rate > 0:
        compute_s = ops / rate
    else:
        compute_s = None
        missing = f"no rate for precision {prec} on device {device.id}"
    moved = layer.bytes_read + layer.bytes_written
    bandwidth = _bandwidth(device) * _log_interpolate(_anchors(device, BANDWIDTH_SIZE_KEY), moved, 1.0)
    memory_s = 0.0 if on_chip else moved / bandwidth if bandwidth > 0 else None
    overhead_s = _value(device.per_node_overhead_s) * layer.calls
    bound: Bound
    if compute_s is None:
        bound = "no-rate"
    elif compute_s == 0 and not memory_s:
        bound = "overhead"
    elif memory_s is None or compute_s >= memory_s:
        bound = "compute"
    else:
        bound = "memory"
    time_s = max(compute_s or 0.0, memory_s or 0.0) + overhead_s
    text = "; ".join(x for x in (missing, note) if x)
    return LayerLatency(layer.name, layer.op, layer.category, layer.precision, time_s, compute_s, memory_s,
                        overhead_s, bound, text, processor), missing


CONV_DEPTH_KEY = "conv@k"  # efficiency keys "conv@k9", "conv@k64"...: a conv's efficiency at reduction depth K
# efficiency keys "bandwidth@3145728"...: the fraction of the bandwidth a kernel moving that many bytes attains
# (cache-sized working sets at the full figure, DRAM-sized ones at the DRAM bandwidth); log-log between them
BANDWIDTH_SIZE_KEY = "bandwidth@"


def conv_depth_efficiency(layer: LayerCost, device: Device, precision: str) -> Figure | None:
    """The efficiency of an fp32 ``conv`` layer at its reduction depth K (MACs per output element:
    (Cin / group) x kernel size; 9 for a 3x3 depthwise conv), interpolated linearly in log K and log
    efficiency between the device's ``conv@k<K>`` anchors (``edgeprof calibrate`` measures a depthwise,
    a 1x1 and a dense 3x3 conv) and clamped at the ends; ``None`` without two anchors, for another
    category or precision, or when K is not known (no static output shape)."""
    if layer.category != "conv" or precision != "fp32" or layer.macs <= 0:
        return None
    anchors = _anchors(device, CONV_DEPTH_KEY)
    if len(anchors) < 2 or not all(isinstance(d, int) and d > 0 for d in layer.output_shape):
        return None
    outputs = math.prod(cast("tuple[int, ...]", layer.output_shape)) * max(1, layer.calls)
    depth = layer.macs / outputs
    value = _log_interpolate(anchors, depth, 1.0)
    ks = ", ".join(f"K={k}: {f.value:.3g}" for k, f in anchors)
    return Figure(value, anchors[-1][1].tag,
                  f"conv efficiency at reduction depth K={depth:.3g}, log-log between {ks} ({anchors[-1][1].source})")


def _anchors(device: Device, prefix: str) -> list[tuple[int, Figure]]:
    """The device's efficiency entries ``<prefix><integer>``, by that integer."""
    return sorted((int(k[len(prefix):]), f) for k, f in device.efficiency.items()
                  if k.startswith(prefix) and k[len(prefix):].isdigit() and int(k[len(prefix):]) > 0)


def _log_interpolate(anchors: list[tuple[int, Figure]], x: float, default: float) -> float:
    """The anchors' value at ``x``: linear in (log x, log value) between the two around it, the end
    value beyond the ends; ``default`` with fewer than two anchors or ``x`` <= 0."""
    if len(anchors) < 2 or x <= 0:
        return default
    if x <= anchors[0][0]:
        return anchors[0][1].value
    if x >= anchors[-1][0]:
        return anchors[-1][1].value
    (x0, f0), (x1, f1) = next((a, b) for a, b in itertools.pairwise(anchors) if x <= b[0])
    t = math.log(x / x0) / math.log(x1 / x0)
    return math.exp((1 - t) * math.log(f0.value) + t * math.log(f1.value))


_ONE = Figure(1.0, "assumed", "no bandwidth efficiency given: the full bandwidth")


def _bandwidth(device: Device) -> float:
    """The attainable memory bandwidth in bytes/s (0: the device has no bandwidth figure)."""
    return _value(device.memory_bandwidth_bytes_per_s) * _value(device.bandwidth_efficiency or _ONE)


def _kernel_layer(kernel: DeployedKernel, layer: LayerCost) -> LayerCost:
    """A deployed kernel as a layer to predict (its counts, boundary bytes and precision)."""
    return LayerCost(layer.name, layer.op, kernel.category or layer.category, layer.state, layer.output_shape,
                     flops=kernel.flops, int_ops=kernel.int_ops, macs=kernel.macs, bytes_read=kernel.bytes_read,
                     bytes_written=kernel.bytes_written, precision=kernel.precision, scope=layer.scope,
                     calls=kernel.calls)


def _absorbed(kernels: Iterable[DeployedKernel]) -> tuple[dict[str, DeployedKernel], dict[str, str]]:
    """Kernels by their own (head) layer name; every other as-given node a kernel absorbs -> why it costs nothing."""
    heads: dict[str, DeployedKernel] = {}
    gone: dict[str, str] = {}
    for k in kernels:
        heads[k.name] = k
        for name in k.nodes[1:]:
            gone[name] = f"fused into {k.name}"
    return heads, gone


@dataclass(frozen=True)
class _Target:
    """Where the kernels run: the runtime, the device's entry, the device (with the runtime table's extra
    figures) and the host CPU device for fallbacks."""

    runtime: Runtime
    entry: DeviceRuntimes
    device: Device
    host: Device | None


@functools.lru_cache(maxsize=1)
def _table() -> RuntimeTable:
    return load_runtimes()


@functools.lru_cache(maxsize=1)
def _builtin() -> Catalogue:
    return load_catalogue()


def resolve_target(device: Device, runtime: str | None = None, *, host: Device | None = None,
                   table: RuntimeTable | None = None) -> _Target | None:
    """The runtime ``device`` runs on (``runtime`` or its default in ``runtimes.toml``), its figures
    completed from the runtime table, and the host CPU device (``host``, else the built-in catalogue's
    device the table names); ``None`` for a device without a runtime entry and no ``runtime``."""
    choice = (table or _table()).choose(device.id, runtime)
    if choice is None:
        return None
    rt, entry = choice
    extra = {k: v for k, v in entry.figures.items() if hasattr(device, k) and getattr(device, k) is None}
    if extra:
        device = dataclasses.replace(device, **cast("dict[str, Any]", extra))
    if host is None and entry.host:
        host = _builtin().devices.get(entry.host)
    return _Target(rt, entry, device, host)


def _kernels(profile: Profile, dep: Deployment | None) -> list[DeployedKernel]:
    if dep is not None:
        return list(dep.kernels)
    return [DeployedKernel(x.name, x.op, (x.name,), x.precision, x.flops, x.int_ops, x.macs, x.bytes_read,
                           x.bytes_written, x.calls, x.category, x.state) for x in profile.layers if x.in_totals]


_NOT_ACTIVATION = frozenset({"BatchNormalization", "QuantizeLinear", "DequantizeLinear"})


def runtime_epilogue(kernel: DeployedKernel, by_name: dict[str, LayerCost], runtime: Runtime) -> list[DeployedKernel]:
    """``kernel`` as ``runtime`` runs it: unchanged when the runtime fuses its activation (one op among
    ``runtime.epilogue_ops``) or it has none; else the head kernel (BatchNormalization and bias folded,
    writing its output) followed by the activation as the runtime runs it: one kernel for a pattern in
    ``runtime.pattern_ops`` (SiLU, GELU: ONNX Runtime's QuickGelu, Gelu), reading the head's output and
    writing the kernel's; otherwise each activation node as a kernel of its own, as counted (ONNX
    Runtime's HardSwish, or the Add-Clip-Mul-Div HardSwish), the first one also moving
    ``runtime.layout_copies`` copies (read and written) of a Conv's output. Float kernels only (integer kernels and
    what-if precisions are left as deployed)."""
    if not runtime.epilogue_ops or kernel.int_ops or len(kernel.nodes) < 2 or kernel.category == "control_flow":
        return [kernel]
    rest = [by_name.get(n) for n in kernel.nodes[1:]]
    if any(x is None for x in rest):
        return [kernel]
    layers = [x for x in rest if x is not None and x.op not in _NOT_ACTIVATION]
    kinds = [k.split(" into ")[0] for k in kernel.fused]
    if "bias Add" in kinds:
        first_add = next((i for i, x in enumerate(layers) if x.op == "Add"), None)
        if first_add is not None:
            layers.pop(first_add)
    if not layers or (len(layers) == 1 and layers[0].op in runtime.epilogue_ops):
        return [kernel]
    head_layer = by_name.get(kernel.nodes[0])
    if head_layer is None or any(x.int_ops for x in layers):
        return [kernel]
    act = {x.name for x in layers}
    act_flops = sum(x.flops for x in layers)
    out_bytes = head_layer.bytes_written
    head = dataclasses.replace(kernel, nodes=tuple(n for n in kernel.nodes if n not in act),
                               flops=max(0, kernel.flops - act_flops), bytes_written=out_bytes,
                               fused=tuple(k for k in kernel.fused if k.split(" into ")[0] in ("BatchNormalization",
                                                                                               "bias Add")))
    pattern = next((k for k in kinds if k in runtime.pattern_ops), "")
    if pattern and len(layers) > 1:
        first = layers[0]
        return [head, DeployedKernel(first.name, first.op, tuple(x.name for x in layers), kernel.precision,
                                     flops=act_flops, bytes_read=out_bytes, bytes_written=kernel.bytes_written,
                                     calls=kernel.calls, category="activation", state=first.state,
                                     fused=(f"{pattern} (one {runtime.id} kernel)",))]
    copies = runtime.layout_copies * out_bytes if kernel.op in ("Conv", "ConvTranspose") else 0
    return [head, *(DeployedKernel(x.name, x.op, (x.name,), x.precision, x.flops, x.int_ops, x.macs,
                                   x.bytes_read + (copies if i == 0 else 0), x.bytes_written + (copies if i == 0 else 0),
                                   x.calls, x.category, x.state,
                                   fused=(f"{copies // out_bytes} layout conversion(s) of {kernel.name}'s output",)
                                   if i == 0 and copies else ()) for i, x in enumerate(layers))]


def _params(profile: Profile, kernel: DeployedKernel, by_name: dict[str, LayerCost]) -> int:
    return sum(by_name[n].params for n in kernel.nodes if n in by_name)


def _rate_precision(prec: str, proc: Device, target: _Target | None, on_device: bool) -> tuple[str, str]:
    """The precision class a kernel runs at on ``proc`` and what the runtime did to get there ("" when
    nothing): fp32 lowered to fp16 by the runtime, or a precision with no rate upcast to a wider one."""
    if target is None:
        return prec, ""
    rt = target.runtime
    note = ""
    run = prec
    if on_device and rt.fp32_as and prec == "fp32":
        run = rt.fp32_as
        note = f"{rt.id} runs fp32 at {run} by default"
    elif on_device and rt.is_cpu and prec not in rt.precisions:
        run = next((w for w in WIDER[prec] if w in rt.precisions), prec)
        note = f"{rt.id} has no {prec} kernels: run at {run} (upcast)"
    if proc.peak_rate(run) is not None:
        return run, note
    if on_device and rt.missing_rate != "wider" and not rt.is_cpu:
        return run, note
    if not on_device or rt.missing_rate == "wider":
        for wider in WIDER[run]:
            if proc.peak_rate(wider) is not None:
                return wider, f"no {run} rate on {proc.id}: run at the {wider} rate (upcast)"
    return run, note


def predict(profile: Profile, device: Device, *, top: int = 5, fuse: bool = True,
            deployment: Deployment | None = None, runtime: str | None = None, host: Device | None = None,
            precision: str | None = None, partitioned: bool = True) -> PredictedLatency:
    """The roofline prediction of one inference of ``profile`` on ``device`` (see the module docstring).

    ``deployment`` defaults to ``profile.deployment``; with ``fuse=False`` the graph as given is predicted.
    ``runtime`` picks one of the device's runtimes (``runtimes.toml``; default: the device's default);
    ``host`` is the CPU fallback kernels run on (default: the one ``runtimes.toml`` names);
    ``precision`` re-types the network as a what-if (``fp32``/``fp16``/``int8``/``w8a8``/``w4a16``);
    ``partitioned=False`` ignores runtimes (the whole graph on the device's own figures)."""
    if precision is not None and precision not in WHAT_IF_PRECISIONS:
        raise UsageError(f"precision must be one of {', '.join(WHAT_IF_PRECISIONS)}, not {precision!r}")
    dep = (deployment or profile.deployment) if fuse else None
    target = resolve_target(device, runtime, host=host) if partitioned else None
    if target is not None:
        device = target.device
    by_name = {x.name: x for x in profile.layers}
    kernels = _kernels(profile, dep)
    if precision is not None:
        kernels = [retype(k, precision, _params(profile, k, by_name)) for k in kernels]
    kernel_by_name = {k.name: k for k in kernels}
    parting: Partitioning | None = None
    place: dict[str, KernelPlacement] = {}
    if target is not None:
        weights = {k.name: kernel_weight_bytes(k, _params(profile, k, by_name)) for k in kernels}
        parting = partition(kernels, target.runtime, target.entry,
                            precision_of={k.name: precision_class(k.precision) for k in kernels}, weight_bytes=weights)
        place = {p.name: p for p in parting.placements}
    if dep is not None and target is not None and target.runtime.epilogue_ops and precision is None:
        kernels = [part for k in kernels for part in runtime_epilogue(k, by_name, target.runtime)]
        kernel_by_name = {k.name: k for k in kernels}
    heads, gone = _absorbed(kernels) if dep is not None else ({}, {})
    removed = set(dep.removed) if dep is not None else set()
    layers: list[LayerLatency] = []
    missing: dict[str, int] = {}
    compute_s = memory_s = overhead_s = 0.0
    skipped_branches = not_counted = 0
    precisions: dict[str, set[str]] = {"device": set(), "host": set()}
    used: set[str] = set()
    for layer in profile.layers:
        if not layer.in_totals:  # the other branch of an If not known statically (the totals follow the costlier)
            skipped_branches += 1
            continue
        if layer.state == "not_counted":
            not_counted += 1
        why_free = gone.get(layer.name) or ("folded at load (a constant) or a view: no kernel"
                                            if layer.name in removed else "")
        if why_free:
            layers.append(LayerLatency(layer.name, layer.op, layer.category, layer.precision, 0.0, 0.0, 0.0, 0.0,
                                       "fused", why_free))
            continue
        kernel = heads.get(layer.name)
        if kernel is not None and kernel.category != "control_flow":
            layer = _kernel_layer(kernel_by_name.get(kernel.name, kernel), layer)
        elif precision is not None and layer.name in kernel_by_name and dep is None:
            layer = _kernel_layer(kernel_by_name[layer.name], layer)
        where = place.get(layer.name)
        proc_name = where.processor if where is not None else ("device" if target is not None else "")
        proc = device
        if proc_name == "host":
            proc = target.host if target is not None and target.host is not None else device
        on_device = proc_name != "host"
        prec, rule_note = _rate_precision(precision_class(layer.precision), proc, target, on_device)
        on_chip = bool(target is not None and on_device and target.runtime.activations_on_chip)
        note = "; ".join(x for x in (where.reason if where is not None else "", rule_note) if x)
        precisions["host" if proc_name == "host" else "device"].add(prec)
        used.add(proc_name or "device")
        lat, why = predict_layer(layer, proc, rate_precision=prec, on_chip=on_chip, note=note, processor=proc_name)
        layers.append(lat)
        if why:
            key = why + _no_rate_reason(target, prec, on_device)
            missing[key] = missing.get(key, 0) + 1
        if rule_note:
            missing["~" + rule_note] = missing.get("~" + rule_note, 0) + 1
        body = lat.time_s - lat.overhead_s
        overhead_s += lat.overhead_s
        if lat.bound == "compute":
            compute_s += body
        else:
            memory_s += body
    link_s = 0.0
    host_dev = target.host if target is not None else None
    per_inference = 0.0
    if "device" in used or not used:
        per_inference += _value(device.per_inference_overhead_s)
    if "host" in used and host_dev is not None:
        per_inference += _value(host_dev.per_inference_overhead_s)
    switch_s = 0.0
    if parting is not None and target is not None:
        link = target.runtime.link_bytes_per_s
        if link is not None and parting.link_bytes:
            link_s = parting.link_bytes / link.value
        switches = max(0, len(parting.partitions) - 1)
        switch_s = switches * _value(target.runtime.switch_overhead_s)
    overhead_s += per_inference + switch_s
    memory_s += link_s
    total_s = compute_s + memory_s + overhead_s
    notes = [f"{why} ({n} layer(s); their compute is not counted)" for why, n in missing.items()
             if not why.startswith("~")]
    rules = [f"{why[1:]} ({n} kernel(s))" for why, n in missing.items() if why.startswith("~")]
    if device.memory_bandwidth_bytes_per_s is None and not (target is not None and target.runtime.activations_on_chip):
        notes.append(f"no memory bandwidth figure on device {device.id}: memory time not counted")
    if not_counted:
        notes.append(f"{not_counted} layer(s) not counted by edgeprof: their compute is missing")
    if target is not None and "host" in used and host_dev is None:
        notes.append(f"no host CPU device for {device.id}: fallback kernels at the device's own figures")
    bound_notes = len(notes)  # the notes above make the total a lower bound; the ones below do not
    if skipped_branches:
        notes.append(f"{skipped_branches} layer(s) of the cheaper branch of an If not known statically: left out "
                     "(the costlier branch is predicted, as in the totals)")
    dominant = tuple(x.name for x in sorted(layers, key=lambda x: -x.time_s)[:top])
    llm = _llm(profile, device, len(layers)) if profile.llm is not None else None
    sources = _sources(device, precisions["device"] or {"fp32"})
    if host_dev is not None and precisions["host"]:
        sources += _sources(host_dev, precisions["host"])
    if parting is not None and target is not None:
        rt = target.runtime
        sources.append(f"runtime {rt.id} ({rt.name}) [{rt.tag}]: {rt.source}")
        for name in ("param_cache_bytes", "link_bytes_per_s", "switch_overhead_s"):
            fig = getattr(rt, name)
            if fig is not None:
                sources.append(f"{rt.id}.{name} = {fig.value:g} [{fig.tag}] {fig.source}")
        if target.entry.host:
            sources.append(f"host CPU for {device.id}: {target.entry.host} ({target.entry.host_source})")
        parting = dataclasses.replace(parting, notes=parting.notes + tuple(rules))
    method = METHOD if dep is not None else METHOD_AS_GIVEN
    if parting is not None:
        method += "; " + METHOD_PARTITIONS
    if precision is not None:
        method += f"; what-if: the network re-typed as deployed at {precision}"
    return PredictedLatency(
        device_id=device.id,
        device_name=device.name,
        total_s=total_s,
        fps=1.0 / total_s if total_s > 0 else 0.0,
        compute_s=compute_s,
        memory_s=memory_s,
        overhead_s=overhead_s,
        is_lower_bound=bool(notes[:bound_notes]) or profile.totals.is_lower_bound,
        missing=tuple(notes),
        dominant=dominant,
        layers=tuple(layers),
        method=method,
        sources=tuple(sources),
        llm=llm,
        peak_op_per_s={p: fig.value for p in ("fp32", "fp16", "int8") if (fig := device.peak_rate(p)) is not None},
        bandwidth_bytes_per_s=_bandwidth(device) or None,
        runtime=target.runtime.id if target is not None else "",
        partitioning=parting,
        link_s=link_s,
        precision=precision or "as-deployed",
        what_if=precision is not None,
    )


def _no_rate_reason(target: _Target | None, prec: str, on_device: bool) -> str:
    if target is None or not on_device:
        return ""
    rt = target.runtime
    if rt.kind == "mcu" and prec == "fp32":
        return f" ({rt.id} runs float kernels in TFLite Micro's reference kernels; the device lists no fp32 rate)"
    if prec not in rt.precisions:
        return f" ({rt.id} does not run {prec})"
    return f" ({rt.id} runs {prec}; the catalogue lists no {prec} rate for the device)"


def _sources(device: Device, precisions: Iterable[str]) -> list[str]:
    """The device figures a prediction used (its rates for ``precisions``, bandwidth, overheads, efficiencies)."""
    wanted = {f"peak_{p}_{'op' if p == 'int8' else 'flop'}_per_s" for p in precisions}
    wanted |= {"memory_bandwidth_bytes_per_s", "bandwidth_efficiency", "per_node_overhead_s", "per_inference_overhead_s"}
    out = []
    for name, fig in device.figures().items():
        if name in wanted or name.startswith("efficiency."):
            out.append(f"{device.id}.{name} = {fig.value:g} [{fig.tag}] {fig.source}")
    return out


def _llm(profile: Profile, device: Device, nodes: int) -> LLMLatency | None:
    """Prefill and decode of a decoder LLM: roofline on the whole graph (weights read once per
    forward; decode also reads the KV cache at the context length) + overheads."""
    llm = profile.llm
    if llm is None:
        return None
    wb = llm.weight_bytes
    by_prec = {"fp32": wb.fp32, "fp16": wb.fp16, "int8": wb.int8 + wb.int4}
    prec = max(by_prec, key=lambda k: by_prec[k])
    weights = wb.fp32 + wb.fp16 + wb.int8 + wb.int4
    peak = device.peak_rate(prec)
    eff = device.efficiency_for(prec, "linear")
    rate = _value(peak) * (eff.value if eff is not None else 1.0)
    bandwidth = _bandwidth(device)
    overhead = _value(device.per_node_overhead_s) * nodes + _value(device.per_inference_overhead_s)

    def roof(ops: int, moved: int) -> tuple[float, Bound]:
        compute = ops / rate if rate > 0 else 0.0
        memory = moved / bandwidth if bandwidth > 0 else 0.0
        if rate <= 0:
            return memory + overhead, "no-rate"
        return max(compute, memory) + overhead, "compute" if compute >= memory else "memory"

    prefill_s, prefill_bound = roof(llm.prefill_flops, weights + llm.kv_cache_bytes)
    decode_s, decode_bound = roof(llm.decode_flops_per_token, weights + llm.kv_cache_bytes)
    return LLMLatency(
        context_len=llm.context_len,
        prefill_s=prefill_s,
        decode_s_per_token=decode_s,
        decode_tokens_per_s=1.0 / decode_s if decode_s > 0 else 0.0,
        prefill_bound=prefill_bound,
        decode_bound=decode_bound,
        method=(f"whole-graph roofline at the {prec} rate (its weights dominate): prefill = max(prefill FLOPs / rate, "
                "(weights + KV cache written) / bandwidth); decode of one token at the context length = "
                "max(decode FLOPs / rate, (weights + KV cache) / bandwidth), usually bandwidth-bound; each plus "
                f"{nodes} nodes x per-node overhead + the per-inference overhead"),
    )


def with_predictions(profile: Profile, devices: Iterable[Device], *, runtime: str | None = None,
                     precision: str | None = None, catalogue: Catalogue | None = None) -> Profile:
    """``profile`` with ``latency.predicted`` set for each device (measured figures kept); ``runtime``
    and ``precision`` as in :func:`predict`; ``catalogue`` supplies the host CPU devices (default: the
    built-in one)."""
    from edgeprof.report.latency import LatencyReport

    current = profile.latency or LatencyReport()
    predicted = dict(current.predicted)
    for device in devices:
        host = None
        entry = _table().for_device(device.id)
        if catalogue is not None and entry is not None and entry.host:
            host = catalogue.devices.get(entry.host)
        predicted[device.id] = predict(profile, device, runtime=runtime, host=host, precision=precision)
    return dataclasses.replace(profile, latency=dataclasses.replace(current, predicted=predicted))
