"""Assemble the :class:`Profile` from a loaded model: runs the params, count and fold passes."""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterator
from contextlib import contextmanager

from edgeprof.frontends.base import LoadedModel
from edgeprof.ops.registry import Category
from edgeprof.passes.count import count
from edgeprof.passes.deploy import deploy
from edgeprof.passes.fold import foldable
from edgeprof.passes.kernel_scratch import ort_peak_estimate
from edgeprof.passes.memory import analyse_memory
from edgeprof.passes.params import WeightTable, weight_table
from edgeprof.report.memory import MemoryReport
from edgeprof.report.model import CategoryShare, ModuleCalls, Profile, Totals, WeightGroup


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while the passes run, as it was before after them. The passes
    make many objects that live on (a row per node) and no cycles; left on, the collector walks the
    whole graph again and again as they pile up, which costs as much as the passes themselves."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_profile(loaded: LoadedModel, *, memory: bool = True, search_order: bool = True) -> Profile:
    """Run the passes over ``loaded``: params, count, fold and (with ``memory``) the memory pass,
    whose best-order search runs with ``search_order``."""
    with _collector_paused():
        return _build_profile(loaded, memory, search_order)


def _build_profile(loaded: LoadedModel, memory: bool, search_order: bool) -> Profile:
    graph = loaded.graph
    table = weight_table(graph)
    counted = count(graph, table)
    total_ops = counted.flops + counted.int_ops
    cats: dict[str, list[int]] = {}
    for layer in counted.layers:
        if not layer.in_totals:  # an unknown If's cheaper branch: totals and shares follow the costlier one
            continue
        c = cats.setdefault(layer.category, [0, 0, 0, 0])
        c[0] += layer.flops
        c[1] += layer.int_ops
        c[2] += layer.macs
        c[3] += 1
    order = [c.value for c in Category]
    categories = tuple(
        CategoryShare(k, f, i, m, n, (f + i) / total_ops if total_ops else 0.0)
        for k, (f, i, m, n) in sorted(cats.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), order.index(kv[0])))
    )
    groups: dict[str, list[int]] = {}
    for w in table.weights:
        g = groups.setdefault(w.dtype.name, [0, 0, 0, 0])
        g[0] += 1
        g[1] += w.numel
        g[2] += w.numel if table.role(w) == "parameter" else 0
        g[3] += w.nbytes
    weights_by_dtype = tuple(
        WeightGroup(k, t, e, p, b) for k, (t, e, p, b) in sorted(groups.items(), key=lambda kv: -kv[1][3])
    )
    totals = Totals(
        flops=counted.flops,
        int_ops=counted.int_ops,
        macs=counted.macs,
        params=table.params,
        weight_bytes=table.weight_bytes,
        bytes_read=counted.bytes_read,
        bytes_written=counted.bytes_written,
        flops_max=counted.flops,
        macs_max=counted.macs,
        is_lower_bound=bool(counted.not_counted),
        flops_min=counted.flops_min if counted.flops_min != counted.flops else None,
        macs_min=counted.macs_min if counted.macs_min != counted.macs else None,
    )
    deployment = deploy(graph, counted.layers)
    return Profile(
        model=loaded.info,
        inputs=loaded.inputs,
        totals=totals,
        categories=categories,
        weights_by_dtype=weights_by_dtype,
        layers=tuple(counted.layers),
        not_counted=tuple(counted.not_counted),
        foldable=foldable(graph, counted.layers, deployment),
        deployment=deployment,
        notices=loaded.notices,
        module_calls=tuple(ModuleCalls(k, v) for k, v in loaded.module_calls.items()),
        memory=_memory(loaded, table, search_order) if memory else None,
    )


def _memory(loaded: LoadedModel, table: WeightTable, search_order: bool) -> MemoryReport:
    """The memory report; for an ONNX file also its peak on ONNX Runtime's CPU kernels."""
    report = analyse_memory(loaded.graph, file_bytes=loaded.info.file_bytes, search=search_order, table=table)
    if loaded.info.format == "onnx":
        predicted = dataclasses.replace(report.predicted, runtime_estimate=ort_peak_estimate(report.predicted, loaded.graph))
        report = dataclasses.replace(report, predicted=predicted)
    return report
