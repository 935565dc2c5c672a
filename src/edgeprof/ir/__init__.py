"""The framework-neutral graph IR (frozen dataclasses) and its order/validation."""

from edgeprof.ir.dtype import DType, dtype_by_name
from edgeprof.ir.graph import AttrValue, Graph, Node, TensorConst, Value, Weight, WeightRole, node_reads, outer_reads
from edgeprof.ir.order import topological_indices, topological_order, validate
from edgeprof.ir.shape import Dim, Shape

__all__ = [
    "AttrValue", "DType", "Dim", "Graph", "Node", "Shape", "TensorConst", "Value", "Weight", "WeightRole",
    "dtype_by_name", "node_reads", "outer_reads", "topological_indices", "topological_order", "validate",
]
