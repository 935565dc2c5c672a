"""Copies of an ONNX model for third-party code that would read external data on its own.

onnx's ``numpy_helper.to_array`` (and so onnxruntime's symbolic shape inference, which calls it
on every ``Constant`` and initializer it folds) resolves an external tensor's ``location``
against the *current* folder and reads the whole range: a model in one folder could read a file
of the same name from wherever the user stands, and its bytes would come back as output shapes.

The frontend's working copy already holds the bytes of every small external tensor, read by
edgeprof's own reader (:class:`~edgeprof.frontends.onnx._safety.ExternalData`: the model-folder
rule, the size checks). :func:`sealed_copy` replaces every tensor that is still external by a
shape-only stand-in, in every graph, subgraph and function body:

* an initializer or sparse initializer becomes a typed graph input (of the main graph; a
  subgraph's is moved there when its name is used nowhere else, else it keeps an empty stand-in);
* a ``Constant`` node becomes ``Identity`` of such a main-graph input (the same output, type
  and shape, no values);
* any other tensor-valued attribute keeps its name, element type and dims and loses its
  payload (a reader fails to decode it instead of opening a file).
"""

from __future__ import annotations

from edgeprof.frontends.onnx._structure import function_subgraphs, walk_graphs
from edgeprof.frontends.onnx._tensors import is_external, iter_model_tensors
from edgeprof.frontends.onnx_proto import (
    AttributeProto,
    GraphProto,
    ModelProto,
    NodeProto,
    SparseTensorProto,
    TensorProto,
    make_tensor_value_info,
)

STANDIN_MARK = "__edgeprof_standin"


def has_external(model: ModelProto) -> bool:
    """True when any tensor of ``model`` (graphs, subgraphs, functions) has external data."""
    return any(is_external(t) for t, _ in iter_model_tensors(model))


def sealed_copy(model: ModelProto) -> tuple[ModelProto, frozenset[str]]:
    """A copy of ``model`` with no external tensor left (see the module docstring), and the
    names of the graph inputs added as stand-ins (not values of the model)."""
    copy = ModelProto()
    copy.CopyFrom(model)
    if not has_external(copy):
        return copy, frozenset()
    sealer = _Sealer(copy)
    sealer.graph(copy.graph, main=True)
    for f in copy.functions:
        for n in f.node:
            sealer.node(n, in_function=True)
    return copy, frozenset(sealer.added)


def _standin(t: TensorProto) -> TensorProto:
    """The header of ``t`` (name, element type, dims) without any payload."""
    s = TensorProto()
    s.name = t.name
    s.data_type = t.data_type
    s.dims.extend(t.dims)
    return s


def _dims(dims: list[int]) -> list[int] | None:
    return None if any(d < 0 for d in dims) else dims


class _Sealer:
    def __init__(self, model: ModelProto) -> None:
        self.main = model.graph
        self.main_inputs = {vi.name for vi in model.graph.input}
        self.used, self.defined_twice = _names(model)
        self.added: list[str] = []

    def graph(self, g: GraphProto, main: bool) -> None:
        inputs = {vi.name for vi in g.input}
        if any(is_external(t) for t in g.initializer):
            kept: list[TensorProto] = []
            for t in g.initializer:
                if not is_external(t):
                    kept.append(t)
                elif t.name in inputs:
                    continue  # its declared input type stands
                elif main or t.name not in self.defined_twice:
                    self._main_input(t.name, t.data_type, _dims([int(d) for d in t.dims]))
                else:
                    kept.append(_standin(t))
            del g.initializer[:]
            g.initializer.extend(kept)
        if any(is_external(s.values) or is_external(s.indices) for s in g.sparse_initializer):
            kept_sparse: list[SparseTensorProto] = []
            for s in g.sparse_initializer:
                if not (is_external(s.values) or is_external(s.indices)):
                    kept_sparse.append(s)
                elif s.values.name in inputs:
                    continue
                elif main or s.values.name not in self.defined_twice:
                    self._main_input(s.values.name, s.values.data_type, _dims([int(d) for d in s.dims]))
                else:
                    kept_sparse.append(_sparse_standin(s))
            del g.sparse_initializer[:]
            g.sparse_initializer.extend(kept_sparse)
        for n in g.node:
            self.node(n, in_function=False)

    def node(self, n: NodeProto, in_function: bool) -> None:
        if not in_function and _external_constant(n):
            self._constant_to_identity(n)
            return
        for a in n.attribute:
            if a.type == AttributeProto.GRAPH:
                self.graph(a.g, main=False)
            elif a.type == AttributeProto.GRAPHS:
                for sub in a.graphs:
                    self.graph(sub, main=False)
            elif a.type == AttributeProto.TENSOR and is_external(a.t):
                a.t.CopyFrom(_standin(a.t))
            elif a.type == AttributeProto.TENSORS:
                for t in a.tensors:
                    if is_external(t):
                        t.CopyFrom(_standin(t))
            elif a.type == AttributeProto.SPARSE_TENSOR and (
                    is_external(a.sparse_tensor.values) or is_external(a.sparse_tensor.indices)):
                a.sparse_tensor.CopyFrom(_sparse_standin(a.sparse_tensor))

    def _constant_to_identity(self, n: NodeProto) -> None:
        a = next(a for a in n.attribute if a.name in ("value", "sparse_value"))
        if a.name == "value":
            elem, dims = a.t.data_type, [int(d) for d in a.t.dims]
        else:
            elem, dims = a.sparse_tensor.values.data_type, [int(d) for d in a.sparse_tensor.dims]
        name = self._fresh(n.output[0])
        self._main_input(name, elem, _dims(dims))
        n.op_type = "Identity"
        n.domain = ""
        del n.attribute[:]
        del n.input[:]
        n.input.append(name)

    def _main_input(self, name: str, elem: int, dims: list[int] | None) -> None:
        if name in self.main_inputs:
            return
        self.main.input.append(make_tensor_value_info(name, elem, dims))
        self.main_inputs.add(name)

    def _fresh(self, base: str) -> str:
        k = 0
        name = f"{base}{STANDIN_MARK}"
        while name in self.used:
            k += 1
            name = f"{base}{STANDIN_MARK}{k}"
        self.used.add(name)
        self.added.append(name)
        return name


def _external_constant(n: NodeProto) -> bool:
    if n.op_type != "Constant" or n.domain not in ("", "ai.onnx") or len(n.output) != 1 or not n.output[0]:
        return False
    for a in n.attribute:
        if a.name == "value" and a.type == AttributeProto.TENSOR and is_external(a.t):
            return True
        if a.name == "sparse_value" and a.type == AttributeProto.SPARSE_TENSOR and (
                is_external(a.sparse_tensor.values) or is_external(a.sparse_tensor.indices)):
            return True
    return False


def _sparse_standin(s: SparseTensorProto) -> SparseTensorProto:
    out = SparseTensorProto()
    out.dims.extend(s.dims)
    out.values.CopyFrom(_standin(s.values))
    out.indices.CopyFrom(_standin(s.indices))
    return out


def _names(model: ModelProto) -> tuple[set[str], set[str]]:
    """Every name the model uses, and the names defined more than once (in different graphs)."""
    used: set[str] = set()
    defined: set[str] = set()
    twice: set[str] = set()

    def define(name: str) -> None:
        if name in defined:
            twice.add(name)
        defined.add(name)

    for g in walk_graphs(model.graph, *function_subgraphs(model)):
        for vi in (*g.input, *g.output, *g.value_info):
            used.add(vi.name)
        for vi in g.input:
            define(vi.name)
        for t in g.initializer:
            define(t.name)
        for s in g.sparse_initializer:
            define(s.values.name)
        for n in g.node:
            used.update(n.input)
            for o in n.output:
                define(o)
    for f in model.functions:
        used.update(f.input)
        used.update(f.output)
        for n in f.node:
            used.update(n.input)
            used.update(n.output)
    used.update(defined)
    return used, twice
