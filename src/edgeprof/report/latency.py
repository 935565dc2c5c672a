"""Typed latency results: measured on this machine, predicted on catalogue devices (JSON-friendly).

Times are in seconds (``*_s``); every result says how it was obtained (``method``,
``sources``, ``environment``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

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


@dataclass(frozen=True)
class LatencyReport:
    """``predicted`` maps a device id to its prediction; ``measured`` is a real run on this machine."""

    predicted: Mapping[str, PredictedLatency] = field(default_factory=dict)
    measured: MeasuredLatency | None = None
    measurement_error: str = ""


def as_dict(obj: Any) -> dict[str, Any]:
    """A JSON-friendly dict of any of the dataclasses above."""
    from dataclasses import asdict

    return asdict(obj)


def seconds(value: float) -> str:
    """A time with a readable unit: ``1.23 ms``, ``45.6 us``, ``2.00 s``."""
    if value >= 1:
        return f"{value:.3g} s"
    if value >= 1e-3:
        return f"{value * 1e3:.3g} ms"
    return f"{value * 1e6:.3g} us"


LATENCY_COLUMNS: tuple[tuple[str, bool], ...] = (
    ("latency", True), ("FPS", True), ("compute / memory / overhead", True), ("how obtained", False),
)


def latency_rows(report: LatencyReport) -> list[tuple[str, list[str]]]:
    """One row per figure: the measured run, then each device's prediction (label, cells)."""
    rows: list[tuple[str, list[str]]] = []
    m = report.measured
    if m is not None:
        rows.append(("measured here (p50)", [
            seconds(m.p50_s), f"{1 / m.p50_s:.4g}" if m.p50_s > 0 else "-",
            f"p90 {seconds(m.p90_s)}, p99 {seconds(m.p99_s)}, min {seconds(m.min_s)}",
            f"{m.runtime}, {m.environment.intra_op_threads} thread(s), {m.runs} runs ({m.stop_reason}); "
            f"{m.environment.cpu_model}, {m.environment.logical_cores} cores",
        ]))
    for device_id, p in report.predicted.items():
        bound = "lower bound; " if p.is_lower_bound else ""
        rows.append((f"predicted: {device_id}", [
            (">= " if p.is_lower_bound else "") + seconds(p.total_s), f"{p.fps:.4g}",
            f"{seconds(p.compute_s)} / {seconds(p.memory_s)} / {seconds(p.overhead_s)}",
            f"{bound}roofline on {p.device_name}",
        ]))
        if p.llm is not None:
            rows.append((f"LLM on {device_id}", [
                seconds(p.llm.prefill_s), f"{p.llm.decode_tokens_per_s:.4g} tok/s",
                f"prefill {p.llm.context_len} tokens ({p.llm.prefill_bound}); decode {seconds(p.llm.decode_s_per_token)}"
                f"/token ({p.llm.decode_bound})",
                "whole-graph roofline",
            ]))
    return rows


def latency_notes(report: LatencyReport) -> list[str]:
    """What a reader must know beside the table: lower bounds, dominant layers, a failed measurement."""
    notes = []
    for device_id, p in report.predicted.items():
        if p.dominant:
            notes.append(f"{device_id}: most time in {', '.join(p.dominant[:3])}")
        notes += [f"{device_id}: {m}" for m in p.missing]
    if report.measurement_error:
        notes.append(f"Measurement not made: {report.measurement_error}")
    return notes


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


def render_validation(entries: list[ValidationEntry], fmt: str) -> str:
    """``json`` (a list of objects), ``md`` or ``table`` (plain text)."""
    import json
    from dataclasses import asdict

    if fmt == "json":
        return json.dumps([asdict(e) for e in entries], indent=2) + "\n"
    head = ("model", "device", "predicted", "measured p50", "error")
    rows = [(e.model, e.device_id, seconds(e.predicted_s) if e.predicted_s is not None else "-",
             seconds(e.measured_s) if e.measured_s is not None else "-",
             f"{e.error:+.1%}" if e.error is not None else e.problem) for e in entries]
    errors = sorted(abs(e.error) for e in entries if e.error is not None)
    summary = ""
    if errors:
        from edgeprof.measure.stats import percentile

        summary = (f"median |error| {percentile(errors, 0.5):.1%} over {len(errors)} model(s); "
                   f"within 20 %: {sum(x <= 0.2 for x in errors)}, within 10 %: {sum(x <= 0.1 for x in errors)}")
    return _text_table(head, rows, fmt) + (f"\n{summary}\n" if summary else "")


def _text_table(head: tuple[str, ...], rows: Sequence[Sequence[str]], fmt: str) -> str:
    if fmt == "md":
        lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
        return "\n".join(lines) + "\n"
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    fmt_row = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt_row.format(*head), "  ".join("-" * w for w in widths),
                      *(fmt_row.format(*r) for r in rows)]).rstrip() + "\n"


def render_devices(devices: list[Any], fmt: str) -> str:
    """The device catalogue: id, name, class, peak rates, bandwidth, memories, power, each with its tag."""
    import json

    if fmt == "json":
        out = []
        for d in devices:
            entry: dict[str, Any] = {"id": d.id, "name": d.name, "soc": d.soc, "class": d.device_class,
                                     "origin": d.origin, "anchors": list(d.anchors)}
            entry.update({k: {"value": f.value, "tag": f.tag, "source": f.source} for k, f in d.figures().items()})
            out.append(entry)
        return json.dumps(out, indent=2) + "\n"

    def show(fig: Any, unit: str, scale: float) -> str:
        return "-" if fig is None else f"{fig.value / scale:.3g}{unit} [{fig.tag}]"

    head = ("id", "name", "class", "FP32", "FP16", "INT8", "bandwidth", "RAM", "SRAM", "flash", "power")
    rows = [(d.id, d.name, d.device_class, show(d.peak_fp32_flop_per_s, " GFLOP/s", 1e9),
             show(d.peak_fp16_flop_per_s, " GFLOP/s", 1e9), show(d.peak_int8_op_per_s, " GOP/s", 1e9),
             show(d.memory_bandwidth_bytes_per_s, " GB/s", 1e9), show(d.ram_bytes, " GB", 1e9),
             show(d.sram_bytes, " KiB", 1024), show(d.flash_bytes, " MiB", 1 << 20), show(d.power_w, " W", 1))
            for d in devices]
    note = ("\nTags: vendor claim, measured, derived (arithmetic from cited inputs), secondary (unchecked page), "
            "assumed (a guess, reasoning in its source). Sources: edgeprof devices --format json.\n")
    return _text_table(head, rows, fmt) + note
