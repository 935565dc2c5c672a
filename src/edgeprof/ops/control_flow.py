"""Op family: control flow. If, Loop and Scan cost what their subgraphs cost (see passes/count.py)."""

from __future__ import annotations

from edgeprof.ops.registry import subgraph_op

subgraph_op("If", reason="counts the branch taken (both as a range when the condition is not known statically)")
subgraph_op("Loop", reason="counts trip count x body")
subgraph_op("Scan", reason="counts sequence length x body")
