"""Latency as table rows shared by the renderers (terminal, Markdown, HTML), and the
``edgeprof validate`` table (predicted vs measured latency, with the error summary)."""

from __future__ import annotations

import json
import re

from edgeprof.measure.stats import percentile
from edgeprof.render.console import Col, fit_table, print_all
from edgeprof.render.format import fit_notes, joules, seconds
from edgeprof.render.tables import md_table
from edgeprof.report.energy import EnergyReport
from edgeprof.report.latency import LatencyReport, PredictedLatency, ValidationEntry
from edgeprof.report.memory import MemoryReport
from edgeprof.report.serial import to_dict
from edgeprof.report.text import printable

__all__ = ["DEVICE_SUMMARY_COLUMNS", "LATENCY_COLUMNS", "device_summary_rows", "latency_notes", "latency_rows",
           "partition_notes", "render_validation"]

LATENCY_COLUMNS: tuple[tuple[str, bool], ...] = (
    ("latency", True), ("FPS", True), ("compute / memory / overhead", True), ("how obtained", False),
)  # the measured row has no breakdown: its percentiles are under "how obtained"


def latency_rows(report: LatencyReport) -> list[tuple[str, list[str]]]:
    """One row per figure: the measured run, then each device's prediction (label, cells)."""
    rows: list[tuple[str, list[str]]] = []
    m = report.measured
    if m is not None:
        rows.append(("measured here (p50)", [
            seconds(m.p50_s), f"{1 / m.p50_s:.4g}" if m.p50_s > 0 else "-", "-",
            f"measured: p90 {seconds(m.p90_s)}, p99 {seconds(m.p99_s)}, min {seconds(m.min_s)}; "
            f"{m.runtime}, {m.environment.intra_op_threads} thread(s), {m.runs} runs ({m.stop_reason}); "
            f"{m.environment.cpu_model}, {m.environment.logical_cores} cores",
        ]))
    for device_id, p in report.predicted.items():
        bound = "lower bound; " if p.is_lower_bound else ""
        rows.append((f"predicted: {device_id}", [
            (">= " if p.is_lower_bound else "") + seconds(p.total_s), f"{p.fps:.4g}",
            f"{seconds(p.compute_s)} / {seconds(p.memory_s)} / {seconds(p.overhead_s)}",
            f"{bound}roofline on {p.device_name}" + (f", runtime {p.runtime}" if p.runtime else "")
            + (f"; what-if {p.precision}" if p.what_if else ""),
        ]))
        if p.llm is not None:
            rows.append((f"LLM on {device_id}", [
                seconds(p.llm.prefill_s), f"{p.llm.decode_tokens_per_s:.4g} tok/s", "-",
                f"whole-graph roofline: prefill {p.llm.context_len} tokens ({p.llm.prefill_bound}); decode "
                f"{seconds(p.llm.decode_s_per_token)}/token ({p.llm.decode_bound})",
            ]))
    return rows


DEVICE_SUMMARY_COLUMNS: tuple[tuple[str, bool], ...] = (
    ("runtime", False), ("latency", True), ("FPS", True), ("bound", False), ("energy (mid)", True), ("fits", False),
)


def _bound(p: PredictedLatency) -> str:
    """Which part of the roofline dominates: compute, memory or the per-op overheads."""
    parts = {"compute": p.compute_s, "memory": p.memory_s, "overhead": p.overhead_s}
    return max(parts, key=lambda k: parts[k]) if any(parts.values()) else "-"


def _fits(memory: MemoryReport | None, device_id: str) -> str:
    """``yes``/``no`` from the RAM fit (or a microcontroller's flash and SRAM fit as stored); ``-``
    without a memory analysis."""
    if memory is None:
        return "-"
    verdicts = [f.fits for f in memory.predicted.ram_fits if f.device_id == device_id]
    verdicts += [m.fits for m in memory.predicted.device_fits if m.device_id == device_id and m.precision == "stored"]
    return "-" if not verdicts else "yes" if all(verdicts) else "NO"


def device_summary_rows(latency: LatencyReport | None, energy: EnergyReport | None,
                        memory: MemoryReport | None) -> list[tuple[str, list[str]]]:
    """One row per device with a prediction or an estimate: runtime (with the kernels that fall
    back to the host), latency, FPS, what bounds it, energy per inference (mid) and whether the
    model fits (the compact view; the breakdowns are in :func:`latency_rows` and the energy rows)."""
    predicted = latency.predicted if latency is not None else {}
    estimated = energy.estimated if energy is not None else {}
    rows: list[tuple[str, list[str]]] = []
    for device_id in [*predicted, *(d for d in estimated if d not in predicted)]:
        p = predicted.get(device_id)
        e = estimated.get(device_id)
        runtime = "-"
        if p is not None and p.runtime:
            runtime = p.runtime
            part = p.partitioning
            if part is not None and part.host_kernels:
                runtime += f" ({part.host_kernels} on host)"
        if p is not None and p.what_if:
            runtime += f", what-if {p.precision}"
        bound = ">= " if p is not None and p.is_lower_bound else ""
        rows.append((device_id, [
            runtime,
            bound + seconds(p.total_s) if p is not None else "-",
            f"{p.fps:.4g}" if p is not None else "-",
            _bound(p) if p is not None else "-",
            (">= " if e.is_lower_bound else "") + joules(e.estimated_j.mid) if e is not None else "-",
            _fits(memory, device_id),
        ]))
    return rows


def latency_notes(report: LatencyReport, memory: MemoryReport | None = None) -> list[str]:
    """What a reader must know beside the table: a device the model does not fit (``memory``'s RAM
    and microcontroller fits), lower bounds, dominant layers, a failed measurement."""
    notes = []
    if memory is not None:
        notes += fit_notes(memory, set(report.predicted))
    for device_id, p in report.predicted.items():
        if p.what_if:
            notes.append(f"{device_id}: WHAT-IF: the network re-typed as deployed at {p.precision} (not the model as given)")
        notes += partition_notes(device_id, p)
        quality = estimate_quality(p)
        if quality:
            notes.append(f"{device_id}: {quality}")
        if p.dominant:
            notes.append(f"{device_id}: most time in {', '.join(p.dominant[:3])}")
        notes += [f"{device_id}: {m}" for m in p.missing]
    if report.measurement_error:
        notes.append(f"Measurement not made: {report.measurement_error}")
    return notes


def partition_notes(device_id: str, p: PredictedLatency) -> list[str]:
    """The runtime and its partitions in a few lines: default or chosen, device vs host kernels, why."""
    part = p.partitioning
    if part is None:
        return []
    chosen = "default" if part.runtime == part.default_runtime else f"chosen; default {part.default_runtime}"
    line = (f"{device_id}: runtime {part.runtime} ({chosen}; offers {', '.join(part.offered)}): "
            f"{part.device_kernels} kernel(s) on the device")
    if part.host_kernels:
        line += f", {part.host_kernels} on the host CPU ({part.host_device or device_id})"
    if part.link_bytes:
        line += f"; {part.link_bytes:,} B over the link per inference ({seconds(p.link_s)})"
    if part.streamed_weight_bytes:
        line += f", {part.streamed_weight_bytes:,} B of weights streamed (beyond the on-chip cache)"
    return [line] + [f"{device_id}: fallback: {f}" for f in part.fallback[:3]]


_FIGURE = re.compile(r"^[^ ]+?\.([A-Za-z0-9_.:]+) = \S+ \[(\w+)\]")


def estimate_quality(p: PredictedLatency) -> str:
    """How good the device figures behind a prediction are: the ones still ``assumed`` named, so
    the reader knows the prediction is an estimate of that quality (docs/latency.md)."""
    used = [m.groups() for m in (_FIGURE.match(s) for s in p.sources) if m]
    if not used:
        return ""
    assumed = sorted({name for name, tag in used if tag == "assumed"})
    if not assumed:
        return "every device figure used is measured, fitted, derived or a vendor's"
    return (f"{len(assumed)} of the {len({name for name, _ in used})} device figures it draws on are assumed "
            f"({', '.join(assumed)}): an estimate of that quality until the device is calibrated")


def render_validation(entries: list[ValidationEntry], fmt: str, *, width: int = 100, color: bool = False,
                      encoding: str = "utf-8") -> str:
    """``json`` (a list of objects), ``md`` or ``table`` (the terminal's style, ``width`` columns)."""
    if fmt == "json":
        return json.dumps([to_dict(e) for e in entries], indent=2) + "\n"
    head = ("model", "device", "predicted", "measured p50", "error")
    rows = [(e.model, e.device_id, seconds(e.predicted_s) if e.predicted_s is not None else "-",
             seconds(e.measured_s) if e.measured_s is not None else "-",
             f"{e.error:+.1%}" if e.error is not None else e.problem) for e in entries]
    errors = sorted(abs(e.error) for e in entries if e.error is not None)
    summary = ""
    if errors:
        summary = (f"median |error| {percentile(errors, 0.5):.1%} over {len(errors)} model(s); "
                   f"within 20 %: {sum(x <= 0.2 for x in errors)}, within 10 %: {sum(x <= 0.1 for x in errors)}")
    if fmt == "md":
        table = md_table(head, rows, (False,) * len(head))
        return printable("\n".join(table), newlines=True) + "\n" + (f"\n{summary}\n" if summary else "")
    cols = [Col("model", "name"), Col("device"), Col("predicted", "num"), Col("measured p50", "num"),
            Col("error", "wrap")]
    fitted = fit_table(cols, rows, width)
    return print_all([fitted.table, *([summary] if summary else [])], width, color, encoding)
