"""The node limit for TFLite models, checked before any graph is built.

A subgraph that several IF/WHILE/CALL_ONCE operators run is built once, but the costing walks
it once per path from the main graph: subgraphs that each run the next from two IF operators
with both branches give 4**D layer rows (a 3 KB file with D = 7 took 15 s, D = 10 over 120 s).
The number of operators the walk will meet is predicted by a memoised walk over the subgraph
call graph, exact (Python ints) and linear in the file's size:

    count(subgraph) = its operators (a WHILE is two nodes: condition and body)
                      + the sum over its IF/WHILE/CALL_ONCE operators of count(each subgraph run)

and compared with the node limit ONNX models have (``EDGEPROF_MAX_NODES``, 500,000) before
anything is built. A subgraph that runs itself is refused here too (it would never end).
"""

from __future__ import annotations

from edgeprof.errors import GraphError, ModelLoadError
from edgeprof.frontends.limits import max_nodes
from edgeprof.frontends.tflite._read import TfModel, TfOperator

# Operator -> (IR nodes it becomes, the option fields naming the subgraphs it runs).
_CONTROL_FLOW: dict[str, tuple[int, tuple[str, ...]]] = {
    "IF": (1, ("ThenSubgraphIndex", "ElseSubgraphIndex")),
    "WHILE": (2, ("CondSubgraphIndex", "BodySubgraphIndex")),
    "CALL_ONCE": (1, ("InitSubgraphIndex",)),
}


def _calls(op: TfOperator, n_subgraphs: int) -> tuple[int, list[int]]:
    nodes, fields = _CONTROL_FLOW.get(op.name, (1, ()))
    called = []
    for f in fields:
        v = op.options.get(f)
        if isinstance(v, int) and 0 < v < n_subgraphs:  # a bad index is the graph builder's error to report
            called.append(v)
    return nodes, called


def expanded_operator_count(model: TfModel, label: str) -> int:
    """Operators the graph walk meets from the main subgraph, every called subgraph counted once
    per call. GraphError when a subgraph can run itself."""
    n = len(model.subgraphs)
    own: list[int] = []
    callees: list[list[int]] = []
    for sg in model.subgraphs:
        total, called = 0, []
        for op in sg.operators:
            nodes, c = _calls(op, n)
            total += nodes
            called.extend(c)
        own.append(total)
        callees.append(called)
    counts: dict[int, int] = {}
    on_path = {0}
    stack: list[tuple[int, list[int]]] = [(0, list(callees[0]))]
    while stack:
        index, pending = stack[-1]
        if pending:
            callee = pending.pop()
            if callee in counts:
                continue
            if callee in on_path:
                raise GraphError(f"{label}: subgraph {callee} calls itself (through subgraph {index}); recursion "
                                 "cannot be costed")
            on_path.add(callee)
            stack.append((callee, list(callees[callee])))
            continue
        counts[index] = own[index] + sum(counts[c] for c in callees[index])
        on_path.discard(index)
        stack.pop()
    return counts[0]


def check_node_limit(model: TfModel, label: str) -> None:
    """Refuse (one line) a model whose expanded operator count passes the node limit."""
    limit = max_nodes()
    count = expanded_operator_count(model, label)
    if count > limit:
        bits = count.bit_length()
        shown = f"{count:,}" if bits <= 100 else f"more than 2**{bits - 1}"
        raise ModelLoadError(
            f"{label}: the model has {shown} operators once each subgraph is counted at every IF/WHILE/CALL_ONCE "
            f"that runs it, more than edgeprof's limit of {limit:,}; set EDGEPROF_MAX_NODES to raise it (a load takes "
            "about 0.2 ms and 8 kB per node)"
        )
