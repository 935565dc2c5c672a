"""What a runtime typically folds at deployment: BatchNormalization after a Conv/Gemm/MatMul,
a bias Add after a MatMul, and an activation fused into the preceding kernel.

The as-given count never drops these; this pass only says how much of it is foldable."""

from __future__ import annotations

from edgeprof.ir import Graph
from edgeprof.report.model import Foldable, LayerCost

_KERNELS = {"Conv", "ConvTranspose", "Gemm", "MatMul"}
_FUSABLE_ACTIVATIONS = {"Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh"}


def foldable(graph: Graph, layers: list[LayerCost]) -> Foldable:
    """Sum the FLOPs of nodes that follow a kernel they would fold into (top-level graph)."""
    by_name = {layer.name: layer for layer in layers}
    flops = 0
    nodes = 0
    kinds: dict[str, int] = {}
    for node in graph.nodes:
        if not node.inputs or not node.inputs[0]:
            continue
        src = graph.producer.get(node.inputs[0])
        if src is not None and node.op in _FUSABLE_ACTIVATIONS and src.op in ("BatchNormalization", "Add"):
            # Conv -> BatchNormalization -> Relu and MatMul -> Add(bias) -> Relu fuse into one kernel.
            inner = graph.producer.get(src.inputs[0]) if src.inputs and src.inputs[0] else None
            src = src if inner is None or inner.op not in _KERNELS else inner
        if src is None or src.op not in _KERNELS:
            continue
        if len(graph.consumers.get(node.inputs[0], ())) != 1:
            continue
        if node.op == "BatchNormalization":
            kind = f"BatchNormalization into {src.op}"
        elif node.op == "Add" and src.op == "MatMul" and len(node.inputs) > 1 and node.inputs[1] in graph.weights:
            kind = "bias Add into MatMul"
        elif node.op in _FUSABLE_ACTIVATIONS:
            kind = f"{node.op} into the preceding kernel"
        else:
            continue
        layer = by_name.get(node.name or node.op)
        if layer is None or layer.state != "counted":
            continue
        flops += layer.flops + layer.int_ops
        nodes += 1
        kinds[kind] = kinds.get(kind, 0) + 1
    detail = tuple(f"{n} x {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    return Foldable(flops=flops, nodes=nodes, detail=detail)
