"""Typed latency results: measured on this machine, predicted on catalogue devices (JSON-friendly).

Times are in seconds (``*_s``); every result says how it was obtained (``method``,
``sources``, ``environment``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from edgeprof.report.partition import Partitioning

Bound = Literal["compute", "memory", "overhead", "no-rate", "fused"]


@dataclass(frozen=True)
class Environment:
    """Where a measurement ran."""

    cpu_model: str
    logical_cores: int
    platform: str
    python_version: str
    runtime: str
    runtime_version: str
    numpy_version: str
    intra_op_threads: int
    load_average: tuple[float, ...] = ()  # 1, 5, 15 min, read before the runs


@dataclass(frozen=True)
class MeasuredLatency:
    """Repeated timed runs of one inference. Percentiles: linear interpolation (type 7); std: sample."""

    runtime: str
    runs: int
    warmup_runs: int
    p50_s: float
    p90_s: float
    p99_s: float
    min_s: float
    max_s: float
    mean_s: float
    std_s: float
    ci95_half_width_rel: float | None  # 95 % CI half-width of the mean / mean (None: one run)
    stable: bool  # the CI criterion was met before the run or time limit
    cpu_time_per_run_s: float  # process CPU time (all threads) / runs
    load_time_s: float  # session creation
    first_inference_s: float
    wall_time_s: float  # the whole timed loop
    stop_reason: str
    inputs: tuple[str, ...]
    environment: Environment
    method: str = ""


@dataclass(frozen=True)
class LayerLatency:
    """One layer's predicted time: the larger of compute and memory time, plus the per-node overhead."""

    name: str
    op: str
    category: str
    precision: str
    time_s: float
    compute_s: float | None  # None: the device has no rate for this precision
    memory_s: float | None  # None: the device has no bandwidth figure
    overhead_s: float
    bound: Bound
    note: str = ""
    processor: str = ""  # "device", or "host" when it fell back to the host CPU ("" without a runtime)


@dataclass(frozen=True)
class LLMLatency:
    """Decoder LLM: prefill of ``context_len`` tokens and decode of one more token at that context."""

    context_len: int
    prefill_s: float
    decode_s_per_token: float
    decode_tokens_per_s: float
    prefill_bound: Bound
    decode_bound: Bound
    method: str


@dataclass(frozen=True)
class PredictedLatency:
    """Roofline prediction of one inference on one device."""

    device_id: str
    device_name: str
    total_s: float
    fps: float
    compute_s: float  # sum of the layers' compute-bound parts (their max(compute, memory) where compute won)
    memory_s: float
    overhead_s: float  # per-node overheads + the per-inference overhead
    is_lower_bound: bool  # some layer had no rate (or was not counted): the total is a lower bound
    missing: tuple[str, ...]  # "no rate for precision X on device Y" messages
    dominant: tuple[str, ...]  # the layers that take the most time, most first
    layers: tuple[LayerLatency, ...]
    method: str
    sources: tuple[str, ...]
    llm: LLMLatency | None = None
    # The device's roofs: peak rate per precision class (fp32/fp16/int8; FLOP/s or integer op/s, before
    # efficiency) and the attainable memory bandwidth (bandwidth x bandwidth efficiency; None: no figure).
    peak_op_per_s: Mapping[str, float] = field(default_factory=dict)
    bandwidth_bytes_per_s: float | None = None
    # The runtime it ran on (devices/runtimes.toml) and how it split the graph; "" and None for a device
    # without a runtime entry (the whole graph on the device's own figures).
    runtime: str = ""
    partitioning: Partitioning | None = None
    link_s: float = 0.0  # host<->accelerator transfers (activations at partition boundaries, streamed weights), in memory_s
    # "as-deployed", or the what-if precision the network was re-typed to (fp32/fp16/int8/w8a8/w4a16)
    precision: str = "as-deployed"
    what_if: bool = False


@dataclass(frozen=True)
class LatencyReport:
    """``predicted`` maps a device id to its prediction; ``measured`` is a real run on this machine."""

    predicted: Mapping[str, PredictedLatency] = field(default_factory=dict)
    measured: MeasuredLatency | None = None
    measurement_error: str = ""


@dataclass(frozen=True)
class ValidationEntry:
    """Predicted vs measured latency of one model on the calibrated host."""

    model: str
    device_id: str
    predicted_s: float | None
    measured_s: float | None  # the measured p50
    error: float | None  # (predicted - measured) / measured
    is_lower_bound: bool = False
    problem: str = ""  # why a figure is missing
