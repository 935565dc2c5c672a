"""A tiny builder for IR graphs in tests (no frontend involved)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from edgeprof.ir import Graph, Node, Shape, Value, Weight, WeightRole, dtype_by_name


class GraphBuilder:
    """Collects values, weights and nodes; ``build()`` returns a frozen Graph."""

    def __init__(self, name: str = "g") -> None:
        self.name = name
        self.values: dict[str, Value] = {}
        self.weights: dict[str, Weight] = {}
        self.nodes: list[Node] = []
        self.inputs: list[str] = []

    def input(self, name: str, shape: Sequence[int | str], dtype: str = "float32") -> str:
        self.values[name] = Value(name, dtype_by_name(dtype), Shape(tuple(shape)))
        self.inputs.append(name)
        return name

    def weight(
        self, name: str, shape: Sequence[int], dtype: str = "float32", role: WeightRole | None = None, key: str = ""
    ) -> str:
        dt = dtype_by_name(dtype)
        self.values[name] = Value(name, dt, Shape(tuple(shape)))
        self.weights[name] = Weight(name, dt, Shape(tuple(shape)), role=role, storage_key=key)
        return name

    def node(
        self,
        op: str,
        inputs: Sequence[str],
        out: str,
        shape: Sequence[int | str] | None,
        dtype: str = "float32",
        name: str = "",
        scope: str = "",
        subgraphs: dict[str, Graph] | None = None,
        **attrs: Any,
    ) -> str:
        self.values[out] = Value(out, dtype_by_name(dtype), None if shape is None else Shape(tuple(shape)))
        self.nodes.append(
            Node(name or out, op, tuple(inputs), (out,), attrs, subgraphs or {}, scope=scope, source_op=op)
        )
        return out

    def build(self, outputs: Sequence[str]) -> Graph:
        return Graph(self.name, tuple(self.nodes), tuple(self.inputs), tuple(outputs), self.values, self.weights)
