"""What a runtime folds away at deployment, read off the deployed graph (:mod:`edgeprof.passes.deploy`):
constant subgraphs evaluated at load, BatchNormalization after a Conv/Gemm/MatMul, a bias Add after a
MatMul, activations (SiLU, HardSwish and GELU patterns included) fused into their producing kernel,
and Q/DQ pairs folded into integer kernels.

The as-given count never drops these; this pass only says how much of it is foldable. It is derived
from the same :class:`Deployment` the latency model runs on, so the two never disagree.
"""

from __future__ import annotations

from edgeprof.ir import Graph
from edgeprof.passes.deploy import deploy
from edgeprof.report.deploy import Deployment
from edgeprof.report.model import Foldable, LayerCost

_ACTIVATION_SUFFIX = " into the preceding kernel"


def foldable(graph: Graph, layers: list[LayerCost], deployment: Deployment | None = None) -> Foldable:
    """The ops (FLOPs + integer OPs, as given) of the nodes the deployment folds or fuses away, by
    kind, most first (``deployment`` is built from ``graph`` and ``layers`` when not given)."""
    dep = deployment if deployment is not None else deploy(graph, layers)
    flops = nodes = 0
    by_label: dict[str, int] = {}
    for row in dep.folded:
        if row.ops <= 0:
            continue  # views and zero-op rewrites fold no FLOPs
        flops += row.ops
        nodes += row.nodes
        label = _label(row.kind)
        by_label[label] = by_label.get(label, 0) + row.count
    detail = sorted(by_label.items(), key=lambda kv: -kv[1])
    return Foldable(flops=flops, nodes=nodes, detail=tuple(f"{n} x {k}" for k, n in detail))


def _label(kind: str) -> str:
    """``Relu into Conv`` reads ``Relu into the preceding kernel`` (the note's wording since it was
    introduced); BatchNormalization, bias, QDQ and constant kinds keep their own."""
    what, _, into = kind.partition(" into ")
    if not into or what.startswith(("BatchNormalization", "bias ", "QDQ")):
        return kind
    return what + _ACTIVATION_SUFFIX
