"""The op-cost registry and its op families (one module per family)."""

from edgeprof.ops.registry import Arith, Category, Entry, OpCall, OpCost, Uncountable, cost_of, lookup, registered_ops

# Registers every family's ops. Importing any module of this package runs this first, so the
# registry (a leaf that imports no family) is complete before anyone looks an op up.
from edgeprof.ops import families  # noqa: F401  isort: skip

__all__ = ["Arith", "Category", "Entry", "OpCall", "OpCost", "Uncountable", "cost_of", "lookup", "registered_ops"]
