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

from collections.abc import Iterable

from edgeprof.devices.catalogue import Device, Figure
from edgeprof.report.deploy import DeployedKernel, Deployment
from edgeprof.report.latency import Bound, LayerLatency, LLMLatency, PredictedLatency
from edgeprof.report.model import LayerCost, Profile

__all__ = ["METHOD", "is_float32_class", "precision_class", "predict", "predict_layer", "with_predictions"]

METHOD = (
    "roofline per kernel of the deployed graph: max(ops / (peak rate of its precision x efficiency), (bytes read + "
    "written at the kernel's boundary) / (bandwidth x bandwidth efficiency)) + per-node overhead x calls; constants "
    "folded at load, BatchNormalization folded, activations fused into their producer (use-def chains), QDQ as "
    "integer kernels, views free; total = sum + per-inference overhead"
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


def predict_layer(layer: LayerCost, device: Device) -> tuple[LayerLatency, str]:
    """One layer's prediction and, when its precision has no rate on ``device``, the message saying so."""
    ops = layer.flops + layer.int_ops
    prec = precision_class(layer.precision)
    peak = device.peak_rate(prec)
    eff = device.efficiency_for(prec, layer.category)
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
    bandwidth = _bandwidth(device)
    moved = layer.bytes_read + layer.bytes_written
    memory_s = moved / bandwidth if bandwidth > 0 else None
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
    return LayerLatency(layer.name, layer.op, layer.category, layer.precision, time_s, compute_s, memory_s,
                        overhead_s, bound, missing), missing


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


def _absorbed(deployment: Deployment) -> tuple[dict[str, DeployedKernel], dict[str, str]]:
    """Kernels by their own (head) layer name; every other as-given node a kernel absorbs -> why it costs nothing."""
    heads: dict[str, DeployedKernel] = {}
    gone: dict[str, str] = {}
    for k in deployment.kernels:
        heads[k.name] = k
        for name in k.nodes[1:]:
            gone[name] = f"fused into {k.name}"
    return heads, gone


def predict(profile: Profile, device: Device, *, top: int = 5, fuse: bool = True,
            deployment: Deployment | None = None) -> PredictedLatency:
    """The roofline prediction of one inference of ``profile`` on ``device`` (see the module docstring).

    ``deployment`` defaults to ``profile.deployment``; with ``fuse=False`` the graph as given is predicted."""
    dep = (deployment or profile.deployment) if fuse else None
    heads, gone = _absorbed(dep) if dep is not None else ({}, {})
    removed = set(dep.removed) if dep is not None else set()
    layers: list[LayerLatency] = []
    missing: dict[str, int] = {}
    compute_s = memory_s = overhead_s = 0.0
    skipped_branches = not_counted = 0
    precisions: set[str] = set()
    for layer in profile.layers:
        if layer.range_group:
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
            layer = _kernel_layer(kernel, layer)
        precisions.add(precision_class(layer.precision))
        lat, why = predict_layer(layer, device)
        layers.append(lat)
        if why:
            missing[why] = missing.get(why, 0) + 1
        body = lat.time_s - lat.overhead_s
        overhead_s += lat.overhead_s
        if lat.bound == "compute":
            compute_s += body
        else:
            memory_s += body
    per_inference = _value(device.per_inference_overhead_s)
    overhead_s += per_inference
    total_s = compute_s + memory_s + overhead_s
    notes = [f"{why} ({n} layer(s); their compute is not counted)" for why, n in missing.items()]
    if device.memory_bandwidth_bytes_per_s is None:
        notes.append(f"no memory bandwidth figure on device {device.id}: memory time not counted")
    if not_counted:
        notes.append(f"{not_counted} layer(s) not counted by edgeprof: their compute is missing")
    if skipped_branches:
        notes.append(f"{skipped_branches} layer(s) in If branches not known statically: left out")
    dominant = tuple(x.name for x in sorted(layers, key=lambda x: -x.time_s)[:top])
    llm = _llm(profile, device, len(layers)) if profile.llm is not None else None
    return PredictedLatency(
        device_id=device.id,
        device_name=device.name,
        total_s=total_s,
        fps=1.0 / total_s if total_s > 0 else 0.0,
        compute_s=compute_s,
        memory_s=memory_s,
        overhead_s=overhead_s,
        is_lower_bound=bool(notes) or profile.totals.is_lower_bound,
        missing=tuple(notes),
        dominant=dominant,
        layers=tuple(layers),
        method=METHOD if dep is not None else METHOD_AS_GIVEN,
        sources=tuple(_sources(device, precisions)),
        llm=llm,
        peak_op_per_s={p: fig.value for p in ("fp32", "fp16", "int8") if (fig := device.peak_rate(p)) is not None},
        bandwidth_bytes_per_s=_bandwidth(device) or None,
    )


def _sources(device: Device, precisions: Iterable[str]) -> list[str]:
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


def with_predictions(profile: Profile, devices: Iterable[Device]) -> Profile:
    """``profile`` with ``latency.predicted`` set for each device (measured figures kept)."""
    import dataclasses

    from edgeprof.report.latency import LatencyReport

    current = profile.latency or LatencyReport()
    predicted = dict(current.predicted)
    for device in devices:
        predicted[device.id] = predict(profile, device)
    return dataclasses.replace(profile, latency=dataclasses.replace(current, predicted=predicted))
