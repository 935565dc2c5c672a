"""Kernel temporaries of ONNX Runtime's CPU kernels: the peak an ONNX file will reach *on that runtime*.

The memory pass predicts the activation peak from the graph's tensors alone, as a runtime that
allocates nothing else would reach it. Some ONNX Runtime CPU kernels allocate temporaries the
graph does not show; each rule below was measured (docs/memory.md, "Where the two differ"), and
only measured rules are listed:

* ``HardSwish`` runs as its ONNX function body (``HardSigmoid`` then ``Mul``): one temporary the
  size of its output, alive while the node runs;
* ``Where`` with broadcasting (an input shape differs from the output's) builds two output-sized
  selections before merging them: two temporaries the size of its output.

``process_peak_bytes`` (:mod:`edgeprof.passes.ort_process`) goes one step further: the peak of a
whole process running the model with ONNX Runtime's default session options.

The estimate is ``weights + max over the steps of (activation bytes in use + the step's
temporaries)``, reported beside the runtime-neutral prediction (never replacing it) and labelled
*estimated* with these rules as its method.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from edgeprof.ir import Graph, Node
from edgeprof.passes.ort_process import PROCESS_RULES, process_peak
from edgeprof.passes.schedule import stored_size
from edgeprof.report.memory import KernelScratchEstimate, PredictedMemory
from edgeprof.report.model import Provenance

__all__ = ["ORT_CPU_RULES", "RUNTIME", "kernel_scratch_bytes", "ort_peak_estimate"]

RUNTIME = "onnxruntime (CPUExecutionProvider)"
ScratchRule = Callable[[Node, Graph], int]


def _output_bytes(node: Node, graph: Graph) -> int:
    value = graph.values.get(node.outputs[0]) if node.outputs and node.outputs[0] else None
    return (stored_size(value) or 0) if value is not None else 0


def _hard_swish(node: Node, graph: Graph) -> int:
    return _output_bytes(node, graph)


def _where(node: Node, graph: Graph) -> int:
    out = graph.values.get(node.outputs[0]) if node.outputs and node.outputs[0] else None
    if out is None:
        return 0
    broadcast = any(graph.values[i].shape != out.shape for i in node.inputs if i in graph.values)
    return 2 * _output_bytes(node, graph) if broadcast else 0


ORT_CPU_RULES: Mapping[str, tuple[ScratchRule, str]] = {
    "HardSwish": (_hard_swish, "HardSwish: 1 x its output (run as its function body, HardSigmoid then Mul)"),
    "Where": (_where, "Where with broadcasting: 2 x its output (two output-sized selections, then merged)"),
}


def kernel_scratch_bytes(node: Node, graph: Graph) -> int:
    """The temporaries ONNX Runtime's CPU kernel for ``node`` allocates while it runs (0: none known)."""
    rule = ORT_CPU_RULES.get(node.op)
    return rule[0](node, graph) if rule is not None else 0


def ort_peak_estimate(report: PredictedMemory, graph: Graph) -> KernelScratchEstimate:
    """The peak of ``report``'s default order with each step's ONNX Runtime kernel temporaries added."""
    nodes = {n.name: n for n in graph.nodes}
    best_step, best_bytes, best_scratch = -1, report.peak_activation_bytes, 0
    for point in report.timeline:
        node = nodes.get(point.node)
        scratch = kernel_scratch_bytes(node, graph) if node is not None else 0
        if scratch and point.op_peak_bytes + scratch > best_bytes:
            best_step, best_bytes, best_scratch = point.step, point.op_peak_bytes + scratch, scratch
    at = report.timeline[best_step].node if best_step >= 0 else report.peak_at
    process = process_peak(graph, report.weight_bytes, best_bytes, report.input_bytes)
    return KernelScratchEstimate(
        runtime=RUNTIME,
        peak_activation_bytes=best_bytes,
        peak_bytes=report.weight_bytes + best_bytes,
        peak_at=at,
        scratch_at_peak_bytes=best_scratch,
        is_lower_bound=report.is_lower_bound,
        provenance=Provenance(
            "estimated",
            "the activation bytes in use at each step of the default order plus the temporaries ONNX Runtime's "
            "CPU kernels allocate there (rules measured in docs/memory.md); process_peak_bytes: a default-options "
            "process's peak from the weights and that peak (rules fitted on measured runs, docs/memory.md)",
            (*(text for _, text in ORT_CPU_RULES.values()), *PROCESS_RULES),
        ),
        process_peak_bytes=process.peak_bytes,
    )
