"""The deployed graph: the kernels a runtime executes, built from the graph as given.

Every decision reads the IR's use-def chains (:attr:`Graph.producer`, :attr:`Graph.consumers`),
never the layer order. On the top-level graph (a control-flow node stays one kernel that costs
its subgraphs as counted), in this order:

1. **Constants.** A node all of whose inputs are known at load (weights, or outputs of other such
   nodes), and ``Shape``/``Size`` of a statically shaped value, is evaluated at load and removed
   (zero per-inference cost): the shape arithmetic ``Shape -> Gather -> Unsqueeze -> Concat`` on
   static shapes disappears with it. Random generators are never constants.
2. **QDQ.** A node among :data:`QDQ_OPS` whose data input 0 comes from a ``DequantizeLinear`` of an
   integer tensor, whose other data inputs come from such DQs or are known at load (a bias), and
   whose output goes to a ``QuantizeLinear`` (Conv/ConvTranspose/MatMul/Gemm may also keep a float
   output) is one integer kernel: its arithmetic (and that of what fuses into it) is counted as
   integer OPs with the same MACs, at the precision of the DQ's integer input (``int8``/``uint8``).
   The DQs feeding it (weights included: the kernel reads the stored integer weights) and its
   output Q are absorbed into it at no extra cost (the requantise is its epilogue); a DQ read by
   several integer kernels is absorbed by each (its bytes counted in each; its name listed in the
   first). A Q or DQ left standing alone (a graph input quantised, an output dequantised) is an
   elementwise kernel of its own; a DQ whose only reader is a Q is one requantise kernel, removed
   when both use the same scale and zero point.
3. **Fusion** into a ``Conv``/``ConvTranspose``/``Gemm``/``MatMul`` (float or integer), each step
   only when the absorbed node is the only reader of what it reads from the kernel: a
   ``BatchNormalization`` with parameters known at load is folded into the weights (its ops vanish),
   or a bias ``Add`` with a constant operand; then one activation, which still runs in the
   epilogue: ``Relu``, ``Clip``, ``LeakyRelu``, ``Tanh``, ``Sigmoid``, ``HardSigmoid``,
   ``HardSwish``, ``Gelu``, ``Elu``, or a pattern recognised from its use-def closure: SiLU
   (``Sigmoid(x)``, ``Mul(x, .)`` where x's readers are exactly those two), HardSwish
   (``HardSigmoid`` + ``Mul``, or ``Add(3) -> Clip(0, 6) -> Mul -> Div(6)``), GELU (the ``Erf``
   form and the ``Tanh`` form). In a QDQ graph a ``Q -> DQ`` pair between the kernel and what
   fuses is looked through (absorbed). A Conv whose output has two readers fuses with neither; a
   residual ``Add`` (two runtime operands) stays a kernel.
4. **Views.** ``Reshape``/``Flatten``/``Squeeze``/``Unsqueeze``/``Identity``/``Dropout`` whose input
   has it as its only reader: removed (no kernel, no bytes).
5. Everything else is one kernel per node (ONNX QOperator and ``com.microsoft`` fused ops already
   are one node each).

Bytes of a kernel are counted at its boundary: a single-node kernel keeps its counted bytes; a
fused group reads the values it takes from outside the group (weights included, at their stored
dtype) and writes the values that leave it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from edgeprof.ir import Graph, Node, topological_indices
from edgeprof.ops.registry import lookup
from edgeprof.report.deploy import DeployedKernel, Deployment, FoldCount
from edgeprof.report.model import LayerCost

__all__ = ["CONSTANT", "FUSION_HEADS", "METHOD", "QDQ_OPS", "VIEW", "VIEW_OPS", "deploy"]

METHOD = (
    "deployed graph from use-def chains: constant subgraphs (shape arithmetic on static shapes) evaluated at load; "
    "BatchNormalization folded into the preceding Conv/Gemm/MatMul; activations (SiLU, HardSwish, GELU patterns "
    "included) fused into their producing kernel when they are its only reader; QDQ folded into integer kernels; "
    "views removed; bytes counted at each kernel's boundary"
)
CONSTANT = "constant folded"
VIEW = "view"

FUSION_HEADS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul", "com.microsoft::FusedMatMul"})
_BN_HEADS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})
_MAC_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})
VIEW_OPS = frozenset({"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout"})
_SINGLE_ACTIVATIONS = frozenset({
    "Relu", "Clip", "LeakyRelu", "Tanh", "Sigmoid", "HardSigmoid", "HardSwish", "Gelu", "Elu",
    "com.microsoft::Gelu", "com.microsoft::FastGelu", "com.microsoft::QuickGelu",
})
_PATTERN_OPS = _SINGLE_ACTIVATIONS | {"Mul", "Div", "Add", "Sub", "Erf", "Pow", "Min", "Max",
                                      "QuantizeLinear", "DequantizeLinear"}
_PATTERN_LIMIT = 16  # nodes in one activation pattern (the tanh GELU has 9, with Q/DQ pairs more)
QDQ_OPS = frozenset({
    "Conv", "ConvTranspose", "MatMul", "Gemm", "Add", "Sub", "Mul", "Concat", "AveragePool", "MaxPool",
    "GlobalAveragePool", "GlobalMaxPool", "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish",
    "Tanh", "Gelu", "Softmax", "Resize", "Transpose", "Split", "Slice", "Gather", "Pad", "DepthToSpace",
    "SpaceToDepth", "BatchNormalization", "InstanceNormalization", "LayerNormalization", "ReduceMean", "Where",
    "ArgMax", *VIEW_OPS,
})
_RANDOM = frozenset({"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial",
                     "Bernoulli"})
_SHAPE_SOURCES = frozenset({"Shape", "Size"})
_Q, _DQ = "QuantizeLinear", "DequantizeLinear"


@dataclass
class _Group:
    head: int
    members: list[int]
    int_precision: str = ""  # "int8"/"uint8"...: an integer kernel from QDQ
    fused: list[str] = field(default_factory=list)
    folded: set[int] = field(default_factory=set)  # members whose ops vanish (BN in the weights, Q/DQ)
    shared: list[int] = field(default_factory=list)  # DQs absorbed by another kernel too (bytes only)
    tail: str = ""  # the value the fused group hands on
    requantise: str = ""  # a DQ -> Q requantise kernel: its integer precision


class _Deployer:
    def __init__(self, graph: Graph, layers: Sequence[LayerCost]) -> None:
        self.g = graph
        indices = topological_indices(graph)
        self.order = tuple(graph.nodes[i] for i in indices)
        step_of = [0] * len(indices)  # graph.nodes index -> position in self.order
        for k, i in enumerate(indices):
            step_of[i] = k
        # by value: the node writing it and the nodes reading it (in graph.nodes order), as positions
        self.producer_at: dict[str, int] = {}
        self.readers_at: dict[str, list[int]] = {}  # (never changed once built)
        for i, node in enumerate(graph.nodes):
            for out in node.outputs:
                if out:
                    self.producer_at[out] = step_of[i]
            for name in node.reads:
                self.readers_at.setdefault(name, []).append(step_of[i])
        self.outputs = set(graph.outputs)
        self.layer: list[LayerCost | None] = []
        self.sub_layers: dict[int, list[LayerCost]] = {}
        self._match_layers(layers)
        self.known: set[str] = set(graph.weights)  # values known at load
        self.const: set[int] = set()
        self.group_of: dict[int, _Group] = {}
        self.removed: dict[int, str] = {}  # node -> kind (constant folded, view, QDQ pair removed)
        self.kind_of: dict[int, str] = {}  # absorbed node -> the fusion kind it counts under
        self.events: dict[str, int] = {}

    # ---- helpers ---------------------------------------------------------------------------
    def _match_layers(self, layers: Sequence[LayerCost]) -> None:
        """The count pass's layer of each top-level node (layers follow the same topological
        order; a control-flow node's subgraph layers follow it, named under its prefix)."""
        by_name: dict[str, LayerCost] = {}
        for layer in layers:
            by_name.setdefault(layer.name, layer)
        li = 0
        for i, node in enumerate(self.order):
            name = node.name or node.op
            found: LayerCost | None = None
            if li < len(layers) and layers[li].name == name:
                found = layers[li]
                li += 1
                prefix = name + "/"
                subs: list[LayerCost] = []
                while node.subgraphs and li < len(layers) and layers[li].name.startswith(prefix):
                    subs.append(layers[li])
                    li += 1
                if subs:
                    self.sub_layers[i] = subs
            else:
                found = by_name.get(name)
            self.layer.append(found)

    def node(self, i: int) -> Node:
        return self.order[i]

    def readers(self, value: str) -> Sequence[int]:
        """The nodes reading ``value`` at run time (a constant node, such as ``Shape`` of a static
        value, reads it at load only)."""
        readers = self.readers_at.get(value, ())
        return [j for j in readers if j not in self.const] if self.const else readers

    def only_reader(self, value: str) -> int | None:
        rs = self.readers(value)
        return rs[0] if len(rs) == 1 and value not in self.outputs else None

    def producer(self, value: str) -> int | None:
        return self.producer_at.get(value)

    def free(self, i: int) -> bool:
        return i not in self.group_of and i not in self.removed

    def is_dq(self, i: int | None) -> bool:
        if i is None:
            return False
        n = self.node(i)
        if n.op != _DQ or not n.inputs or not n.inputs[0]:
            return False
        v = self.g.values.get(n.inputs[0])
        return v is not None and v.dtype.is_integer

    def dq_dtype(self, i: int) -> str:
        return self.g.values[self.node(i).inputs[0]].dtype.name

    def nbytes(self, value: str) -> int:
        v = self.g.values.get(value)
        shape = v.shape if v is not None else None
        return v.dtype.nbytes_for(shape.numel()) if v is not None and shape is not None and shape.is_static else 0

    def data_inputs(self, n: Node) -> list[str]:
        entry = lookup(n.op)
        meta = entry.meta_inputs if entry is not None else frozenset()
        return [x for k, x in enumerate(n.inputs) if x and k not in meta]

    # ---- 1. constants ----------------------------------------------------------------------
    def constants(self) -> None:
        for i, n in enumerate(self.order):
            if n.subgraphs or n.op in _RANDOM:
                continue
            ins = [x for x in n.inputs if x]
            if n.op in _SHAPE_SOURCES:
                v = self.g.values.get(ins[0]) if ins else None
                is_const = v is not None and v.is_static
            else:
                is_const = all(x in self.known for x in ins)
            if is_const:
                self.const.add(i)
                self.known.update(o for o in n.outputs if o)

    # ---- 2. QDQ: which nodes are integer kernels -----------------------------------------------
    def int_precision(self, i: int) -> str:
        n = self.node(i)
        if n.op not in QDQ_OPS or i in self.const:
            return ""
        data = self.data_inputs(n)
        if not data:
            return ""
        first = self.producer(data[0])
        if not self.is_dq(first):
            return ""
        for x in data[1:]:
            if not (self.is_dq(self.producer(x)) or x in self.known):
                return ""
        out = n.outputs[0] if n.outputs else ""
        reader = self.only_reader(out) if out else None
        if n.op not in _MAC_OPS and (reader is None or self.node(reader).op != _Q):
            return ""
        assert first is not None
        return self.dq_dtype(first)

    # ---- 3. fusion --------------------------------------------------------------------------
    def fuse(self) -> None:
        for i, n in enumerate(self.order):
            if not self.free(i) or i in self.const or n.op in (_Q, _DQ):
                continue
            g = _Group(i, [i], self.int_precision(i))
            self.group_of[i] = g
            g.tail = n.outputs[0] if len(n.outputs) == 1 else ""
            if n.op in FUSION_HEADS and g.tail:
                self._epilogue(g)
            if g.int_precision:
                self._output_q(g)

    def _absorb(self, g: _Group, nodes: Iterable[int], kind: str, folded: bool = False) -> None:
        for j in nodes:
            g.members.append(j)
            self.group_of[j] = g
            is_qdq = g.int_precision and self.node(j).op in (_Q, _DQ)
            self.kind_of[j] = self._qdq_kind(g) if is_qdq else kind
            if folded or is_qdq:
                g.folded.add(j)

    def _qdq_kind(self, g: _Group) -> str:
        return f"QDQ into {g.int_precision} {self.node(g.head).op}"

    def _epilogue(self, g: _Group) -> None:
        tail = g.tail
        stage = 0  # 0: a BatchNormalization or bias Add may fold; 1: an activation may fuse; 2: done
        while stage < 2:
            step = self._step(g, tail, stage)
            through: list[int] = []
            if step is None and g.int_precision:
                pair = self._qdq_pair(tail)
                if pair is not None:
                    through = list(pair)
                    step = self._step(g, self.node(pair[1]).outputs[0], stage)
            if step is None:
                return
            nodes, kind, new_tail, folded, stage = step
            if through:
                self._absorb(g, through, self._qdq_kind(g), folded=True)
            self._absorb(g, nodes, kind, folded)
            g.fused.append(kind)
            self.events[kind] = self.events.get(kind, 0) + 1
            tail = g.tail = new_tail

    def _qdq_pair(self, value: str) -> tuple[int, int] | None:
        """The ``Q -> DQ`` pair reading ``value`` when each is the only reader of what it reads."""
        q = self.only_reader(value)
        if q is None or not self.free(q) or self.node(q).op != _Q or not self.node(q).outputs:
            return None
        dq = self.only_reader(self.node(q).outputs[0])
        if dq is None or not self.free(dq) or not self.is_dq(dq) or not self.node(dq).outputs:
            return None
        return q, dq

    def _step(self, g: _Group, tail: str, stage: int) -> tuple[list[int], str, str, bool, int] | None:
        head_op = self.node(g.head).op
        r = self.only_reader(tail)
        if stage == 0 and r is not None and self.free(r) and r not in self.const:
            n = self.node(r)
            if (n.op == "BatchNormalization" and head_op in _BN_HEADS and n.inputs[0] == tail
                    and all(x in self.known for x in n.inputs[1:] if x) and len([o for o in n.outputs if o]) == 1):
                return [r], f"BatchNormalization into {head_op}", n.outputs[0], True, 1
            if n.op == "Add" and len(n.inputs) == 2:
                other = [x for x in n.inputs if x != tail]
                if len(other) == 1 and other[0] in self.known and self._same_shape(tail, n.outputs[0]):
                    return [r], f"bias Add into {head_op}", n.outputs[0], False, 1
        found = self._activation(tail, bool(g.int_precision))
        if found is None:
            return None
        nodes, name, out = found
        return nodes, f"{name} into {head_op}", out, False, 2

    def _same_shape(self, a: str, b: str) -> bool:
        va, vb = self.g.values.get(a), self.g.values.get(b)
        return va is not None and vb is not None and va.shape is not None and va.shape == vb.shape

    def _activation(self, tail: str, quantised: bool) -> tuple[list[int], str, str] | None:
        """The largest activation pattern closed over ``tail``: nodes reading only ``tail``, values
        known at load and each other, taking all of ``tail``'s readers, with one value leaving."""
        members: list[int] = []
        inside: set[int] = set()
        produced = {tail}
        best: tuple[list[int], str, str] | None = None
        tail_readers = set(self.readers(tail))
        if not tail_readers or tail in self.outputs:
            return None
        while len(members) < _PATTERN_LIMIT:
            candidates = sorted({r for v in produced for r in self.readers(v)} - inside)
            nxt = None
            for c in candidates:
                n = self.node(c)
                if (self.free(c) and c not in self.const and n.op in _PATTERN_OPS and not n.subgraphs
                        and (quantised or n.op not in (_Q, _DQ))
                        and all(x in produced or x in self.known for x in n.inputs if x)):
                    nxt = c
                    break
            if nxt is None:
                break
            members.append(nxt)
            inside.add(nxt)
            produced.update(o for o in self.node(nxt).outputs if o)
            if not tail_readers <= inside:
                continue
            leaving = [o for j in members for o in self.node(j).outputs if o
                       and (o in self.outputs or not inside.issuperset(self.readers(o)))]
            if len(leaving) != 1 or not self._same_shape(tail, leaving[0]) or self.is_dq(self.producer(leaving[0])):
                continue  # (a DQ at the end belongs to the kernels that read it)
            name = self._signature(tail, members)
            if name:
                best = (list(members), name, leaving[0])
        return best

    def _root(self, value: str, members: set[int]) -> str:
        """``value`` with the Q/DQ nodes of the pattern looked through."""
        while True:
            p = self.producer(value)
            if p is None or p not in members or self.node(p).op not in (_Q, _DQ):
                return value
            value = self.node(p).inputs[0]

    def _signature(self, tail: str, members: list[int]) -> str:
        inside = set(members)
        core = [self.node(j) for j in members if self.node(j).op not in (_Q, _DQ)]
        ops = sorted(n.op for n in core)
        if len(core) == 1:
            n = core[0]
            return n.op if n.op in _SINGLE_ACTIVATIONS and self._root(n.inputs[0], inside) == tail else ""
        op_set = set(ops)
        if ops in (["Mul", "Sigmoid"], ["HardSigmoid", "Mul"]):
            act = next(n for n in core if n.op != "Mul")
            mul = next(n for n in core if n.op == "Mul")
            roots = {self._root(x, inside) for x in mul.inputs}
            if self._root(act.inputs[0], inside) == tail and roots == {tail, act.outputs[0]}:
                return "SiLU" if act.op == "Sigmoid" else "HardSwish"
            return ""
        if "Clip" in op_set and op_set <= {"Add", "Clip", "Mul", "Div"} and len(core) == 4:
            return "HardSwish"
        if "Erf" in op_set and op_set <= {"Erf", "Mul", "Div", "Add"}:
            return "GELU"
        if "Tanh" in op_set and op_set <= {"Tanh", "Mul", "Add", "Pow"} and len(core) >= 5:
            return "GELU"
        if ops == ["Mul", "Mul", "Sigmoid"]:
            return "GELU"  # QuickGELU: x * sigmoid(1.702 x)
        return ""

    def _output_q(self, g: _Group) -> None:
        if not g.tail:
            return
        q = self.only_reader(g.tail)
        if q is not None and self.free(q) and self.node(q).op == _Q:
            self._absorb(g, [q], self._qdq_kind(g), folded=True)

    # ---- 2b. DQs into the integer kernels that read them --------------------------------------
    def absorb_dqs(self) -> None:
        for i, n in enumerate(self.order):
            if not self.is_dq(i) or not self.free(i) or not n.outputs or n.outputs[0] in self.outputs:
                continue
            groups = [self.group_of.get(r) for r in self.readers(n.outputs[0])]
            if not groups or any(gr is None or not gr.int_precision for gr in groups):
                continue
            first = groups[0]
            assert first is not None
            self.const.discard(i)
            self._absorb(first, [i], self._qdq_kind(first), folded=True)
            for gr in groups[1:]:
                assert gr is not None
                if gr is not first and i not in gr.shared:
                    gr.shared.append(i)

    # ---- 4/5. views, standalone Q/DQ, the rest --------------------------------------------------
    def finish(self) -> None:
        for i in sorted(self.const):
            if self.free(i):
                self.removed[i] = CONSTANT
        for i, n in enumerate(self.order):
            if not self.free(i):
                continue
            if n.op == _DQ and self.is_dq(i) and n.outputs and n.outputs[0]:
                q = self.only_reader(n.outputs[0])
                if q is not None and self.free(q) and self.node(q).op == _Q:
                    if list(n.inputs[1:3]) == list(self.node(q).inputs[1:3]):
                        self.removed[i] = self.removed[q] = "QDQ pair (same scale)"
                    else:
                        g = _Group(i, [i], requantise=self.dq_dtype(i))
                        self.group_of[i] = g
                        self._absorb(g, [q], "requantise (DQ then Q)", folded=False)
                        self.events["requantise (DQ then Q)"] = self.events.get("requantise (DQ then Q)", 0) + 1
                    continue
            self.group_of[i] = _Group(i, [i])
        # int views (DQ -> Reshape -> Q) and float views on a single reader: no kernel at all
        for g in {id(g): g for g in self.group_of.values()}.values():
            head = self.node(g.head)
            if head.op not in VIEW_OPS or any(self.node(j).op not in (_Q, _DQ) for j in g.members if j != g.head):
                continue
            data = head.inputs[0] if head.inputs else ""
            if not data or self.only_reader(data) is None:
                continue
            for j in g.members:
                del self.group_of[j]
                self.removed[j] = VIEW
                self.kind_of.pop(j, None)

    # ---- the result ---------------------------------------------------------------------------
    def kernel(self, g: _Group) -> DeployedKernel:
        head = self.node(g.head)
        members = sorted(g.members)
        members.remove(g.head)
        members.insert(0, g.head)
        layers = [self.layer[j] for j in members]
        head_layer = layers[0]
        run = [self.layer[j] for j in members if j not in g.folded]
        subs = [x for x in self.sub_layers.get(g.head, []) if x.in_totals]
        run_costs = [x for x in run if x is not None] + subs
        flops = sum([x.flops for x in run_costs])
        int_ops = sum([x.int_ops for x in run_costs])
        if g.int_precision or g.requantise:
            flops, int_ops = 0, flops + int_ops
        macs = sum([x.macs for x in run_costs])
        if len(members) == 1 and not g.shared:
            read = (head_layer.bytes_read if head_layer else 0) + sum(x.bytes_read for x in subs)
            written = (head_layer.bytes_written if head_layer else 0) + sum(x.bytes_written for x in subs)
        else:
            read, written = self._boundary(members + g.shared, set(g.shared))
        states = {x.state for x in layers if x is not None}
        state = "not_counted" if "not_counted" in states else (head_layer.state if head_layer else "not_counted")
        precision = g.int_precision or g.requantise or (head_layer.precision if head_layer else "")
        return DeployedKernel(
            name=head_layer.name if head_layer else head.name or head.op, op=head.op,
            nodes=tuple([self.layer[j].name if self.layer[j] else self.node(j).name for j in members  # type: ignore[union-attr]
                         if j not in g.shared]),
            precision=precision, flops=flops, int_ops=int_ops, macs=macs, bytes_read=read, bytes_written=written,
            calls=head_layer.calls if head_layer else 1, category=head_layer.category if head_layer else "other",
            state=state, fused=tuple(dict.fromkeys(([self._qdq_kind(g)] if g.int_precision else []) + g.fused)),
        )

    def _boundary(self, members: list[int], shared: set[int]) -> tuple[int, int]:
        nodes = self.order
        inside = set(members)
        produced = {o for j in members for o in nodes[j].outputs if o}
        reads: dict[str, None] = {}
        for j in members:
            for x in nodes[j].inputs:
                if x and x not in produced:
                    reads[x] = None
        written = 0
        for j in members:
            if j in shared or (j in self.kind_of and self.is_dq(j)):
                continue  # an absorbed DQ writes nothing: its readers take the integer tensor
            for o in nodes[j].outputs:
                if o and (o in self.outputs or not inside.issuperset(self.readers(o))):
                    written += self.nbytes(o)
        read = 0
        for x in reads:
            p = self.producer_at.get(x)
            if p is not None and p in self.kind_of and self.is_dq(p):  # an absorbed DQ's integer input
                read += self.nbytes(nodes[p].inputs[0])
            else:
                read += self.nbytes(x)
        return read, written

    def result(self) -> Deployment:
        groups = sorted({id(g): g for g in self.group_of.values()}.values(), key=lambda g: g.head)
        kernels = tuple(self.kernel(g) for g in groups)
        counts: dict[str, list[int]] = {}

        def add(kind: str, j: int, event: bool) -> None:
            row = counts.setdefault(kind, [0, 0, 0])
            layer = self.layer[j]
            row[0] += 1 if event else 0
            row[1] += 1
            row[2] += (layer.flops + layer.int_ops) if layer is not None else 0

        for j, kind in self.removed.items():
            add(kind, j, True)
        for j, kind in self.kind_of.items():
            if j in self.group_of:
                add(kind, j, False)
        for kind, n in self.events.items():
            counts.setdefault(kind, [0, 0, 0])[0] = n
        int_groups: dict[str, int] = {}
        for g in groups:
            if g.int_precision:
                k = self._qdq_kind(g)
                int_groups[k] = int_groups.get(k, 0) + 1
        for kind, n in int_groups.items():
            counts.setdefault(kind, [0, 0, 0])[0] = n
        folded = tuple(FoldCount(k, c, n, ops) for k, (c, n, ops) in
                       sorted(counts.items(), key=lambda kv: (-kv[1][1], kv[0])))
        all_layers = [x for x in self.layer if x is not None]
        all_layers += [x for subs in self.sub_layers.values() for x in subs]
        given = [x for x in all_layers if x.in_totals]
        return Deployment(
            kernels=kernels,
            given_nodes=len(self.order),
            given_flops=sum(x.flops for x in given),
            given_int_ops=sum(x.int_ops for x in given),
            given_bytes=sum(x.bytes_read + x.bytes_written for x in given),
            deployed_kernels=len(kernels),
            deployed_flops=sum(k.flops for k in kernels),
            deployed_int_ops=sum(k.int_ops for k in kernels),
            deployed_bytes=sum(k.bytes_read + k.bytes_written for k in kernels),
            folded=folded,
            removed=tuple(self.layer[j].name if self.layer[j] else self.node(j).name  # type: ignore[union-attr]
                          for j in sorted(self.removed)),
            method=METHOD,
        )


def deploy(graph: Graph, layers: Sequence[LayerCost]) -> Deployment:
    """The deployed graph of ``graph`` (top level) from its counted ``layers`` (see the module docstring)."""
    d = _Deployer(graph, layers)
    d.constants()
    d.fuse()
    d.absorb_dqs()
    d.finish()
    return d.result()
