"""The framework-neutral graph: values, weights, nodes and graphs, all frozen.

A frontend builds a :class:`Graph`; passes read it and return their own results.
Nothing here computes a cost and nothing is ever written back onto a node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Literal

from edgeprof.ir.dtype import DType
from edgeprof.ir.shape import Shape


@dataclass(frozen=True)
class TensorConst:
    """A constant tensor attribute (e.g. ``ConstantOfShape.value``): dtype, shape, and its
    values when small (``None`` when not kept)."""

    dtype: DType
    shape: Shape
    values: tuple[float | int, ...] | None = None


AttrValue = int | float | str | bytes | bool | tuple[int, ...] | tuple[float, ...] | tuple[str, ...] | TensorConst | None

WeightRole = Literal["parameter", "buffer", "constant"]


@dataclass(frozen=True, slots=True)
class Value:
    """A tensor flowing through the graph. ``shape`` is ``None`` when even the rank is unknown."""

    name: str
    dtype: DType
    shape: Shape | None

    @property
    def is_static(self) -> bool:
        return self.shape is not None and self.shape.is_static

    def numel(self) -> int:
        if self.shape is None:
            raise ValueError(f"value {self.name!r} has no known shape")
        return self.shape.numel()

    def nbytes(self) -> int:
        return self.dtype.nbytes_for(self.numel())


@dataclass(frozen=True, slots=True)
class Weight:
    """A stored tensor: an initializer, a Constant node's value, a module parameter or buffer.

    ``role`` is what it is to the model: a learnable ``parameter``, a ``buffer`` (running
    statistics), or a ``constant`` (a shape, an epsilon, an axis list). ``None`` means the
    frontend could not tell and the params pass decides. ``storage_key`` identifies the
    storage: two weights with the same key are one tensor (tied weights), counted once.
    ``stored`` is the number of elements the file holds when it is fewer than ``shape`` has (a
    sparse tensor stores its non-zero values only); ``numel`` and ``nbytes`` are what is stored.
    """

    name: str
    dtype: DType
    shape: Shape
    role: WeightRole | None = None
    storage_key: str = ""
    values: tuple[float | int, ...] | None = None  # kept only for small tensors (shape math)
    external: bool = False  # stored in an ONNX external-data file
    stored: int | None = None  # elements stored, when fewer than the shape's (a sparse tensor)

    @property
    def numel(self) -> int:
        """The elements stored: the shape's, or ``stored`` for a sparse tensor."""
        return self.shape.numel() if self.stored is None else self.stored

    @property
    def nbytes(self) -> int:
        return self.dtype.nbytes_for(self.numel)

    @property
    def key(self) -> str:
        return self.storage_key or self.name


_NO_ATTRS: Mapping[str, AttrValue] = MappingProxyType({})
_NO_SUBGRAPHS: Mapping[str, Graph] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Node:
    """One operation. ``op`` is the canonical op name (ONNX's spelling; other domains as
    ``domain::Op``). ``inputs`` may hold ``""`` for an omitted optional input.

    ``scope`` is where the node came from for attribution (a torch module path such as
    ``layer1.0.conv1``; for ONNX the node name's prefix); ``source_op`` is the op as the
    source framework named it (``aten.convolution.default``, ``Conv``)."""

    name: str
    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: Mapping[str, AttrValue] = field(default_factory=dict)
    subgraphs: Mapping[str, Graph] = field(default_factory=dict)
    scope: str = ""
    source_op: str = ""
    _reads: tuple[str, ...] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # read-only copies (one shared empty mapping for the many nodes without attributes or subgraphs)
        object.__setattr__(self, "attrs", MappingProxyType(dict(self.attrs)) if self.attrs else _NO_ATTRS)
        object.__setattr__(self, "subgraphs", MappingProxyType(dict(self.subgraphs)) if self.subgraphs else _NO_SUBGRAPHS)

    @property
    def reads(self) -> tuple[str, ...]:
        """The values this node reads: its inputs, and the outer values its subgraphs read (each
        once, in that order). Worked out on first use and kept: a node never changes."""
        reads = self._reads
        if reads is None:
            names = [i for i in self.inputs if i]
            for sub in self.subgraphs.values():
                names.extend(sorted(sub.outer_read_names))
            reads = tuple(dict.fromkeys(names))
            object.__setattr__(self, "_reads", reads)
        return reads


@dataclass(frozen=True, eq=False)
class Graph:
    """A graph: nodes in the source order, every value by name, the weights by name.

    ``values`` holds every tensor the nodes read or write, weights included. Subgraphs (the
    bodies of If/Loop/Scan) may read values of the enclosing graphs by name."""

    name: str
    nodes: tuple[Node, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    values: Mapping[str, Value]
    weights: Mapping[str, Weight] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", MappingProxyType(dict(self.values)))
        object.__setattr__(self, "weights", MappingProxyType(dict(self.weights)))

    @cached_property
    def outer_read_names(self) -> frozenset[str]:
        """Names this graph reads that it does not define (see :func:`outer_reads`), computed once
        per graph: a subgraph run by several nodes (TFLite IF/WHILE branches) is not re-walked."""
        defined = set(self.inputs) | set(self.weights)
        for n in self.nodes:
            defined.update(o for o in n.outputs if o)
        reads: set[str] = set()
        for n in self.nodes:
            reads.update(node_reads(n))
        reads.update(self.outputs)
        return frozenset(r for r in reads if r not in defined)

    @cached_property
    def producer(self) -> Mapping[str, Node]:
        """The node that writes each value (graph inputs and weights have none)."""
        return MappingProxyType({out: n for n in self.nodes for out in n.outputs if out})

    @cached_property
    def consumers(self) -> Mapping[str, tuple[Node, ...]]:
        """The nodes that read each value, in node order (subgraph reads count for the node
        that owns the subgraph)."""
        found: dict[str, list[Node]] = {}
        for node in self.nodes:
            for name in node_reads(node):
                found.setdefault(name, []).append(node)
        return MappingProxyType({k: tuple(v) for k, v in found.items()})

    def value(self, name: str) -> Value:
        return self.values[name]

    def iter_all_nodes(self) -> list[tuple[Node, int]]:
        """Every node of this graph and of its subgraphs, with its nesting depth."""
        out: list[tuple[Node, int]] = []

        def walk(g: Graph, depth: int) -> None:
            for n in g.nodes:
                out.append((n, depth))
                for sub in n.subgraphs.values():
                    walk(sub, depth + 1)

        walk(self, 0)
        return out


def node_reads(node: Node) -> tuple[str, ...]:
    """The values a node reads: its inputs, and the outer values its subgraphs read."""
    return node.reads


def outer_reads(graph: Graph) -> set[str]:
    """Names a (sub)graph reads that it does not define itself: captured outer values."""
    return set(graph.outer_read_names)
