"""The deployed graph partitioned for a runtime, and the precision what-if that re-types it.

**Partitioning** (:func:`partition`): each deployed kernel goes to the device (the accelerator, or the
CPU of a CPU device) or to the host CPU, by the runtime's rule (:mod:`edgeprof.devices.runtimes`):

* ``whole-graph``: every kernel on the device; an op outside the runtime's optimised set is noted
  ("reference kernel") but stays;
* ``per-op``: a kernel whose op or precision the runtime does not run falls back to the host, alone;
* ``first-unsupported-to-end`` (Edge TPU): the first such kernel and every kernel after it run on the
  host ("after the first unsupported op"). A standalone QuantizeLinear of the graph input before the
  first accelerator kernel, and a DequantizeLinear of the output after the last, are the I/O
  conversions of a quantised model: they run on the host without ending the accelerator's part.

A kernel's ops are its head op and the activations fused into it (``"HardSwish into Conv"`` adds
HardSwish; SiLU is Sigmoid and Mul); folded BatchNormalization, bias Adds and Q/DQ are not ops at run
time. Activations cross the link at partition boundaries (the first kernel's activation input, the last
kernel's output); weights of the accelerator's kernels beyond the runtime's on-chip parameter cache are
streamed over the link every inference (Coral's ~8 MB parameter cache).

**Precision what-if** (:func:`retype`): the network re-typed as deployed at ``fp32``, ``fp16``,
``int8``/``w8a8`` or ``w4a16``: float and 8-bit kernels take the new precision; weight bytes (parameters
x element size, within the kernel's bytes read) and activation bytes scale to the new element sizes;
``int8``/``w8a8`` arithmetic becomes integer OPs, the float ones FLOPs; ``w4a16`` computes at fp16 (the
4-bit weights dequantised in the kernel: one more op per weight per call). Index arithmetic (wider
integers, bool) is left as it is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TypeVar

from edgeprof.devices.runtimes import DeviceRuntimes, Runtime
from edgeprof.report.deploy import DeployedKernel
from edgeprof.report.model import LayerCost
from edgeprof.report.partition import KernelPlacement, Partition, Partitioning

__all__ = ["WHAT_IF_PRECISIONS", "kernel_ops", "kernel_weight_bytes", "partition", "retype", "retypeable"]

WHAT_IF_PRECISIONS: tuple[str, ...] = ("fp32", "fp16", "int8", "w8a8", "w4a16")
_ELEMENT_BYTES = {"float64": 8.0, "double": 8.0, "float32": 4.0, "float": 4.0, "float16": 2.0, "bfloat16": 2.0,
                  "half": 2.0, "int8": 1.0, "uint8": 1.0, "int4": 0.5, "uint4": 0.5}
# what-if -> (weight bytes per element, activation bytes per element, precision label, integer arithmetic)
_TARGET: Mapping[str, tuple[float, float, str, bool]] = {
    "fp32": (4.0, 4.0, "float32", False), "fp16": (2.0, 2.0, "float16", False), "int8": (1.0, 1.0, "int8", True),
    "w8a8": (1.0, 1.0, "int8", True), "w4a16": (0.5, 2.0, "float16", False),
}
_NOT_RUN = ("BatchNormalization into", "bias Add into", "QDQ into", "requantise")
_PATTERN_OPS = {"SiLU": ("Sigmoid", "Mul"), "GELU": ("Gelu",)}
_IO_OPS = ("QuantizeLinear", "DequantizeLinear")


T = TypeVar("T", DeployedKernel, LayerCost)


def retypeable(precision: str) -> bool:
    """Float and 8-bit (or narrower) kernels are re-typed by a what-if; index arithmetic is not."""
    return precision.lower() in _ELEMENT_BYTES


def retype(x: T, precision: str, params: int) -> T:
    """``x`` (a deployed kernel or a counted layer) re-typed to the what-if ``precision`` (see the module
    docstring); ``params`` are the parameters it reads (its weight elements)."""
    if precision not in _TARGET:
        raise ValueError(f"unknown what-if precision {precision!r}; one of {', '.join(WHAT_IF_PRECISIONS)}")
    if not retypeable(x.precision):
        return x
    old = _ELEMENT_BYTES[x.precision.lower()]
    w_new, a_new, label, integer = _TARGET[precision]
    weights_old = min(x.bytes_read, int(params * old))
    acts_read = x.bytes_read - weights_old
    ops = x.flops + x.int_ops
    if precision == "w4a16":
        ops += params * max(1, x.calls) if ops else 0
    return dataclasses.replace(
        x, precision=label, flops=0 if integer else ops, int_ops=ops if integer else 0,
        bytes_read=int(params * w_new) + int(acts_read * a_new / old) if weights_old else int(acts_read * a_new / old),
        bytes_written=int(x.bytes_written * a_new / old),
    )


def kernel_ops(kernel: DeployedKernel) -> tuple[str, ...]:
    """The ops a kernel runs: its head op and the activations fused into it."""
    ops = [kernel.op]
    for kind in kernel.fused:
        if kind.startswith(_NOT_RUN) or " into " not in kind:
            continue
        name = kind.split(" into ", 1)[0]
        ops += _PATTERN_OPS.get(name, (name,))
    return tuple(dict.fromkeys(ops))


def kernel_weight_bytes(kernel: DeployedKernel, params: int) -> int:
    """The weight bytes a kernel reads: its parameters at its precision's element size, within its bytes read."""
    size = _ELEMENT_BYTES.get(kernel.precision.lower(), 4.0)
    return min(kernel.bytes_read, int(params * size))


def _why_not(kernel: DeployedKernel, prec: str, runtime: Runtime) -> str:
    if not runtime.runs_precision(prec):
        return f"precision {prec} not run by {runtime.id} (it runs {', '.join(runtime.precisions)})"
    for op in kernel_ops(kernel):
        if not runtime.runs_op(op):
            return f"op {op} not supported by {runtime.id}"
    return ""


def partition(kernels: Sequence[DeployedKernel], runtime: Runtime, entry: DeviceRuntimes, *,
              precision_of: Mapping[str, str], weight_bytes: Mapping[str, int]) -> Partitioning:
    """Place each kernel (in execution order) on the device or the host for ``runtime`` on ``entry``'s device.

    ``precision_of`` maps a kernel name to its precision class (fp32/fp16/int8); ``weight_bytes`` to the
    weight bytes it reads (for the parameter cache)."""
    placements: list[KernelPlacement] = []
    on_host_device = runtime.is_cpu and bool(entry.host)  # a CPU runtime on an accelerator: all on the host
    reasons = [_why_not(k, precision_of.get(k.name, "fp32"), runtime) for k in kernels]
    first_device = next((i for i, k in enumerate(kernels) if not reasons[i] and k.op not in _IO_OPS), len(kernels))
    last_device = max((i for i, k in enumerate(kernels) if not reasons[i] and k.op not in _IO_OPS), default=-1)
    cut = len(kernels)
    notes: list[str] = []
    for i, k in enumerate(kernels):
        prec = precision_of.get(k.name, "fp32")
        why = reasons[i]
        if on_host_device:
            proc, why = "host", f"runtime {runtime.id} runs on the host CPU"
        elif runtime.partition == "whole-graph":
            proc = "device"
            if why.startswith("op "):
                why = f"{why.split(' not ')[0]} outside {runtime.id}'s optimised kernels: the reference kernel, same core"
                notes.append(why)
                why = ""
            elif why:
                why = ""  # a CPU runtime runs every precision it has a kernel for; the rate rule says how
        elif runtime.partition == "per-op":
            proc = "host" if why else "device"
        else:  # first-unsupported-to-end
            is_io = k.op in _IO_OPS and (i < first_device or i > last_device)
            if is_io:
                proc, why = "host", f"{k.op} at the graph's edge (the quantised model's I/O conversion): on the host CPU"
            elif i >= cut:
                proc, why = "host", f"after the first unsupported op ({kernels[cut].name})"
            elif why:
                cut = i
                proc = "host"
            else:
                proc = "device"
        placements.append(KernelPlacement(k.name, k.op, prec, proc, why))
    parts = _partitions(kernels, placements, runtime, entry, weight_bytes)
    fallback: dict[str, int] = {}
    for p in placements:
        if p.processor == "host" and p.reason:
            fallback[p.reason] = fallback.get(p.reason, 0) + 1
    ref: dict[str, int] = {}
    for n in notes:
        ref[n] = ref.get(n, 0) + 1
    device_weights = sum(p.weight_bytes for p in parts if p.processor == "device")
    streamed = sum(p.streamed_weight_bytes for p in parts)
    crossing = _crossing(parts, runtime)
    host_kernels = sum(1 for p in placements if p.processor == "host")
    extra = [f"{n} ({c} kernel(s))" for n, c in ref.items()]
    if entry.host and host_kernels:
        extra.append(f"host CPU {entry.host}: {entry.host_source}")
    return Partitioning(
        runtime=runtime.id, runtime_name=runtime.name, rule=runtime.partition, default_runtime=entry.default,
        offered=entry.runtimes, device_id=entry.device_id, host_device=entry.host, placements=tuple(placements),
        partitions=tuple(parts), device_kernels=len(placements) - host_kernels, host_kernels=host_kernels,
        link_bytes=crossing + streamed,
        cached_weight_bytes=device_weights - streamed if runtime.param_cache_bytes is not None else 0,
        streamed_weight_bytes=streamed,
        fallback=tuple(f"{why} ({n} kernel(s))" for why, n in fallback.items()), notes=tuple(extra),
    )


def _crossing(parts: Sequence[Partition], runtime: Runtime) -> int:
    """Activation bytes crossing between processors: into and out of each accelerator partition; the
    graph's own input and output count only for a runtime with a host link (a USB/PCIe accelerator; an
    SoC's NPU shares DRAM with the CPU)."""
    if runtime.partition == "whole-graph":
        return 0
    linked = runtime.link_bytes_per_s is not None
    total = 0
    for p in parts:
        if p.processor != "device":
            continue
        if p.index > 0 or linked:
            total += p.boundary_bytes_in
        if p.index < len(parts) - 1 or linked:
            total += p.boundary_bytes_out
    return total


def _partitions(kernels: Sequence[DeployedKernel], placements: Sequence[KernelPlacement], runtime: Runtime,
                entry: DeviceRuntimes, weight_bytes: Mapping[str, int]) -> list[Partition]:
    runs: list[list[int]] = []
    for i, p in enumerate(placements):
        if runs and placements[runs[-1][0]].processor == p.processor:
            runs[-1].append(i)
        else:
            runs.append([i])
    cache = runtime.param_cache_bytes.value if runtime.param_cache_bytes is not None else None
    cached = 0.0
    out: list[Partition] = []
    for n, run in enumerate(runs):
        first, last = kernels[run[0]], kernels[run[-1]]
        proc = placements[run[0]].processor
        weights = sum(weight_bytes.get(kernels[i].name, 0) for i in run)
        streamed = 0
        if proc == "device" and cache is not None:
            fits = max(0.0, min(float(weights), cache - cached))
            cached += fits
            streamed = int(weights - fits)
        reasons = [placements[i].reason for i in run if placements[i].reason]
        out.append(Partition(
            index=n, processor=proc, device_id=entry.host if proc == "host" and entry.host else entry.device_id,
            kernels=len(run), first=first.name, last=last.name,
            ops=tuple(sorted({op for i in run for op in kernel_ops(kernels[i])})),
            boundary_bytes_in=max(0, first.bytes_read - weight_bytes.get(first.name, 0)),
            boundary_bytes_out=last.bytes_written, weight_bytes=weights, streamed_weight_bytes=streamed,
            reason=reasons[0] if reasons else "",
        ))
    return out
