"""Limits on how much of a model edgeprof will build, shared by the frontends.

A profile costs about 0.2 ms and 8 kB per node (docs/hardening.md), so every count that grows
with the file (nodes after functions are inlined or subgraphs expanded at each call site,
initializers, graph inputs and outputs, value_info entries, tensors) is checked against a
limit before the heavy work starts.
"""

from __future__ import annotations

import os

DEFAULT_MAX_NODES = 500_000  # nodes in all graphs, subgraphs and functions; EDGEPROF_MAX_NODES overrides it


def max_nodes() -> int:
    """The node limit: ``EDGEPROF_MAX_NODES`` when set to a positive integer, else 500,000.
    A profile costs about 0.2 ms and 8 kB per node (docs/hardening.md), so the default bounds
    one to under two minutes and about 4 GB."""
    raw = os.environ.get("EDGEPROF_MAX_NODES", "").strip()
    if not raw.isdigit():
        return DEFAULT_MAX_NODES
    value = int(raw) if len(raw) <= 18 else 10**18  # int() of over 4,300 digits raises; 10**18 is no limit
    return value if value > 0 else DEFAULT_MAX_NODES
