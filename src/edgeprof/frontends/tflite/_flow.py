"""TFLite control flow as the IR's If/Loop, with the subgraphs they run.

* ``IF`` (inputs: the condition, then the branch arguments) -> ``If`` with ``then_branch`` /
  ``else_branch``; a constant condition picks the branch (``attrs["branch"]``), otherwise both
  are listed and the totals carry the range;
* ``WHILE`` -> two ``Loop`` nodes: the body (``trip_count`` runs) and the condition subgraph
  (``<name>/cond``, trip_count + 1 runs: it is evaluated once more to exit). The trip count is
  found when the loop has the counting form ``i < N`` (or ``i <= N``) in the condition with a
  constant N, ``i + step`` (a positive constant step) in the body and a constant initial i;
  otherwise both nodes are listed as not counted, with the reason;
* ``CALL_ONCE`` (runs an initialisation subgraph once) -> ``Loop`` with ``trip_count=1``.

A subgraph that calls itself, directly or not, is an error (one line).
"""

from __future__ import annotations

from edgeprof.frontends.tflite._graph import GraphBuilder, decode_values
from edgeprof.frontends.tflite._read import TfModel, TfOperator, TfSubgraph
from edgeprof.ir import AttrValue

UNKNOWN_TRIPS = (
    "WHILE: the number of iterations depends on the loop's data (not the counting form i < N with constants)"
)


def _index(b: GraphBuilder, op: TfOperator, key: str) -> int:
    v = op.options.get(key)
    if not isinstance(v, int):
        raise b.fail(f"operator {op.index} ({op.name}) has no {key}")
    return v


def if_op(b: GraphBuilder, op: TfOperator) -> None:
    then_g = b.ctx.subgraph(_index(b, op, "ThenSubgraphIndex"), f"IF operator {op.index}")
    else_g = b.ctx.subgraph(_index(b, op, "ElseSubgraphIndex"), f"IF operator {op.index}")
    attrs: dict[str, AttrValue] = {}
    cond = b.const(op.inputs[0]) if op.inputs else None
    if cond is not None and len(cond) == 1:
        attrs["branch"] = "then_branch" if cond[0] else "else_branch"
    b.node(op, "If", tuple(b.name(i) for i in op.inputs), tuple(b.name(i) for i in op.outputs), attrs,
           subgraphs={"then_branch": then_g, "else_branch": else_g})


def while_op(b: GraphBuilder, op: TfOperator) -> None:
    cond_i, body_i = _index(b, op, "CondSubgraphIndex"), _index(b, op, "BodySubgraphIndex")
    cond_g = b.ctx.subgraph(cond_i, f"WHILE operator {op.index}")
    body_g = b.ctx.subgraph(body_i, f"WHILE operator {op.index}")
    trips = _trip_count(b, op, b.ctx.model.subgraphs[cond_i], b.ctx.model.subgraphs[body_i])
    inputs = tuple(b.name(i) for i in op.inputs)
    if trips is None:
        body_attrs: dict[str, AttrValue] = {"trip_count_reason": UNKNOWN_TRIPS}
        cond_attrs: dict[str, AttrValue] = {"trip_count_reason": UNKNOWN_TRIPS}
    else:
        body_attrs, cond_attrs = {"trip_count": trips}, {"trip_count": trips + 1}
    b.node(op, "Loop", inputs, (), cond_attrs, suffix="cond", source="WHILE (condition subgraph)",
           subgraphs={"body": cond_g})
    b.node(op, "Loop", inputs, tuple(b.name(i) for i in op.outputs), body_attrs, subgraphs={"body": body_g})


def call_once(b: GraphBuilder, op: TfOperator) -> None:
    init = b.ctx.subgraph(_index(b, op, "InitSubgraphIndex"), f"CALL_ONCE operator {op.index}")
    b.node(op, "Loop", (), (), {"trip_count": 1}, suffix="call_once", subgraphs={"body": init})


def _scalar(model: TfModel, sg: TfSubgraph, index: int) -> int | None:
    if not 0 <= index < len(sg.tensors):
        return None
    t = sg.tensors[index]
    buf = model.buffers[t.buffer] if t.buffer < len(model.buffers) else None
    if buf is None or buf.data is None or t.dtype.name not in ("int32", "int64"):
        return None
    values = decode_values(buf.data, t.dtype.name, 1)
    return int(values[0]) if values else None


def _trip_count(b: GraphBuilder, op: TfOperator, cond: TfSubgraph, body: TfSubgraph) -> int | None:
    """Iterations of a counting loop (see the module docstring), None when it is not one."""
    model = b.ctx.model
    if len(cond.operators) != 1 or not cond.outputs:
        return None
    test = cond.operators[0]
    if test.name not in ("LESS", "LESS_EQUAL") or len(test.inputs) != 2 or test.outputs[:1] != cond.outputs[:1]:
        return None
    if test.inputs[0] not in cond.inputs:
        return None
    pos = cond.inputs.index(test.inputs[0])
    limit = _scalar(model, cond, test.inputs[1])
    if limit is None or pos >= len(op.inputs) or pos >= len(body.outputs) or pos >= len(body.inputs):
        return None
    step_op = next((o for o in body.operators if o.outputs[:1] == (body.outputs[pos],)), None)
    if step_op is None or step_op.name != "ADD" or len(step_op.inputs) != 2 or body.inputs[pos] not in step_op.inputs:
        return None
    other = step_op.inputs[1] if step_op.inputs[0] == body.inputs[pos] else step_op.inputs[0]
    step = _scalar(model, body, other)
    init = b.const(op.inputs[pos])
    if step is None or step <= 0 or init is None or len(init) != 1:
        return None
    end = limit + (1 if test.name == "LESS_EQUAL" else 0)
    return max(0, -(-(end - int(init[0])) // step))
