"""Typed results of the deployment pass: the graph a runtime executes, beside the graph as given.

Data only (frozen dataclasses that JSON round-trip with the rest of the :class:`Profile` tree);
:mod:`edgeprof.passes.deploy` builds them.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DeployedKernel:
    """One kernel of the deployed graph: a node as given, with what a runtime fuses into it.

    ``nodes`` are the as-given (top-level) node names it absorbs, the kernel's own node first.
    ``precision`` is after QDQ folding (``int8``/``uint8`` for a Conv between Q/DQ pairs).
    ``flops``/``int_ops``/``macs`` are what runs per inference (a BatchNormalization folded into
    the weights at load adds nothing; a fused activation adds its ops; an int8 kernel's arithmetic
    is integer OPs). ``bytes_read``/``bytes_written`` are counted at the kernel's boundary: inputs
    from outside the fused group and its weights, and the outputs that leave it. ``fused`` names
    each fusion (``"BatchNormalization into Conv"``, ``"QDQ into int8 Conv"``)."""

    name: str
    op: str
    nodes: tuple[str, ...]
    precision: str
    flops: int = 0
    int_ops: int = 0
    macs: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    calls: int = 1
    category: str = ""
    state: str = "counted"  # the as-given node's state: counted, zero or not_counted
    fused: tuple[str, ...] = ()


@dataclass(frozen=True)
class FoldCount:
    """One kind of deployment rewrite: how often it applied (``count``), how many as-given nodes
    it removed as kernels of their own (``nodes``) and their ops as given (FLOPs + integer OPs)."""

    kind: str
    count: int
    nodes: int
    ops: int


@dataclass(frozen=True)
class Deployment:
    """The graph as deployed (``kernels``, in execution order) and the summary beside the graph as
    given: node count vs kernel count, FLOPs + integer OPs, bytes moved (read + written).

    The as-given figures are those of the top-level nodes (a control-flow node with the layers of
    its subgraphs); ``folded`` lists what was folded or fused, by kind (``"constant folded"``,
    ``"BatchNormalization into Conv"``, ``"SiLU into Conv"``, ``"QDQ into int8 Conv"``, ``"view"``);
    ``removed`` names the as-given nodes left with no kernel at all (the others are in some kernel's
    ``nodes``)."""

    kernels: tuple[DeployedKernel, ...]
    given_nodes: int
    given_flops: int
    given_int_ops: int
    given_bytes: int
    deployed_kernels: int
    deployed_flops: int
    deployed_int_ops: int
    deployed_bytes: int
    folded: tuple[FoldCount, ...] = ()
    removed: tuple[str, ...] = ()  # as-given nodes with no kernel at all: constants evaluated at load, views
    method: str = ""
