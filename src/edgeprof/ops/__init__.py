"""The op-cost registry and its op families (one module per family)."""

from edgeprof.ops.registry import Arith, Category, Entry, OpCall, OpCost, Uncountable, cost_of, lookup, registered_ops

__all__ = ["Arith", "Category", "Entry", "OpCall", "OpCost", "Uncountable", "cost_of", "lookup", "registered_ops"]
