"""Typed results of partitioning the deployed graph for a runtime: which kernels the accelerator runs,
which fall back to the host CPU and why, and the bytes crossing the link (data only;
:mod:`edgeprof.passes.partition` builds them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KernelPlacement:
    """One deployed kernel's processor: ``device`` (the accelerator, or the CPU of a CPU device) or
    ``host`` (the host CPU an accelerator falls back to), with the reason for a fallback."""

    name: str
    op: str
    precision: str
    processor: str  # "device" or "host"
    reason: str = ""


@dataclass(frozen=True)
class Partition:
    """A run of consecutive kernels on one processor. ``boundary_bytes_in``/``_out``: activations
    handed in from / out to the other processor (or the graph's input/output for the accelerator);
    ``weight_bytes`` read by its kernels; ``streamed_weight_bytes``: those beyond the on-chip parameter
    cache, sent over the link every inference."""

    index: int
    processor: str  # "device" or "host"
    device_id: str  # the device whose figures it runs at
    kernels: int
    first: str
    last: str
    ops: tuple[str, ...]
    boundary_bytes_in: int = 0
    boundary_bytes_out: int = 0
    weight_bytes: int = 0
    streamed_weight_bytes: int = 0
    reason: str = ""  # why it runs on the host ("" on the device)


@dataclass(frozen=True)
class Partitioning:
    """The deployed graph split for ``runtime`` (rule ``rule``) on ``device_id``; fallback kernels run
    on ``host_device`` (``""`` for a CPU runtime: the device is its own CPU)."""

    runtime: str
    runtime_name: str
    rule: str
    default_runtime: str
    offered: tuple[str, ...]
    device_id: str
    host_device: str
    placements: tuple[KernelPlacement, ...]
    partitions: tuple[Partition, ...]
    device_kernels: int
    host_kernels: int
    link_bytes: int  # activations crossing processors + streamed weights, per inference
    cached_weight_bytes: int  # weights kept on chip between inferences (the parameter cache)
    streamed_weight_bytes: int
    fallback: tuple[str, ...] = ()  # reason -> kernel count, one line each
    notes: tuple[str, ...] = ()
