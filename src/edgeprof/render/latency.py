"""Latency as table rows shared by the renderers (terminal, Markdown, HTML), and the
``edgeprof validate`` table (predicted vs measured latency, with the error summary)."""

from __future__ import annotations

import json
import re

from edgeprof.measure.stats import percentile
from edgeprof.render.format import fit_notes, seconds
from edgeprof.render.tables import md_table, text_table
from edgeprof.report.latency import LatencyReport, PredictedLatency, ValidationEntry
from edgeprof.report.memory import MemoryReport
from edgeprof.report.serial import to_dict
from edgeprof.report.text import printable

__all__ = ["LATENCY_COLUMNS", "latency_notes", "latency_rows", "partition_notes", "render_validation"]

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
            f"{bound}roofline on {p.device_name}" + (f", runtime {p.runtime}" if p.runtime else "")
            + (f"; what-if {p.precision}" if p.what_if else ""),
        ]))
        if p.llm is not None:
            rows.append((f"LLM on {device_id}", [
                seconds(p.llm.prefill_s), f"{p.llm.decode_tokens_per_s:.4g} tok/s",
                f"prefill {p.llm.context_len} tokens ({p.llm.prefill_bound}); decode {seconds(p.llm.decode_s_per_token)}"
                f"/token ({p.llm.decode_bound})",
                "whole-graph roofline",
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


def render_validation(entries: list[ValidationEntry], fmt: str) -> str:
    """``json`` (a list of objects), ``md`` or ``table`` (plain text)."""
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
    else:
        table = text_table([head, *rows], (False,) * len(head), rule=True)
    return printable("\n".join(table), newlines=True) + "\n" + (f"\n{summary}\n" if summary else "")
