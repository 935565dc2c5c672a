"""Small ONNX models built in code with ``onnx.helper``, for the frontend tests (and others).

    from tests.frontends.onnx_builders import make_model, conv_net, vinfo, const

    model = make_model(
        [node("Relu", ["x"], ["y"])],
        inputs=[("x", ["batch", 3])],
        outputs=["y"],
    )

Inputs and outputs are ``ValueInfoProto`` s or ``(name, shape[, elem_type])`` tuples (a dim is
an int, a symbolic name, or None for an unknown dim; ``shape=None`` leaves the shape out) or,
for outputs, a bare name (float, shape unknown). Initializers are TensorProtos or
``(name, numpy array)`` pairs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

Dim: TypeAlias = int | str | None
ValueSpec: TypeAlias = onnx.ValueInfoProto | str | tuple[Any, ...]  # (name, shape) or (name, shape, elem)
InitSpec: TypeAlias = TensorProto | tuple[str, Any]

FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64
BOOL = TensorProto.BOOL


def vinfo(name: str, shape: Sequence[Dim] | None, elem: int = FLOAT) -> onnx.ValueInfoProto:
    """A tensor ValueInfoProto; ``None`` dims are unknown, strings are symbolic."""
    return helper.make_tensor_value_info(name, elem, None if shape is None else list(shape))


def _value(spec: ValueSpec) -> onnx.ValueInfoProto:
    if isinstance(spec, onnx.ValueInfoProto):
        return spec
    if isinstance(spec, str):
        return vinfo(spec, None)
    if len(spec) == 3:
        return vinfo(spec[0], spec[1], spec[2])
    return vinfo(spec[0], spec[1])


def tensor(name: str, values: Any, dtype: Any = None) -> TensorProto:
    """An initializer from a numpy array (or anything ``np.array`` takes)."""
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)


def _init(spec: InitSpec) -> TensorProto:
    if isinstance(spec, TensorProto):
        return spec
    name, values = spec
    return tensor(name, values)


def node(op: str, inputs: Sequence[str], outputs: Sequence[str], name: str = "", domain: str = "", **attrs: Any) -> onnx.NodeProto:
    return helper.make_node(op, list(inputs), list(outputs), name=name or None, domain=domain or None, **attrs)


def const(output: str, values: Any, dtype: Any = None, name: str = "") -> onnx.NodeProto:
    """A Constant node holding ``values`` (``value`` attribute)."""
    return helper.make_node("Constant", [], [output], name=name or None, value=tensor(output, values, dtype))


def make_graph(
    nodes: Sequence[onnx.NodeProto],
    inputs: Iterable[ValueSpec],
    outputs: Iterable[ValueSpec],
    initializers: Iterable[InitSpec] = (),
    name: str = "g",
    value_info: Iterable[ValueSpec] = (),
) -> onnx.GraphProto:
    return helper.make_graph(
        list(nodes), name, [_value(i) for i in inputs], [_value(o) for o in outputs],
        [_init(t) for t in initializers], value_info=[_value(v) for v in value_info],
    )


def make_model(
    nodes: Sequence[onnx.NodeProto],
    inputs: Iterable[ValueSpec],
    outputs: Iterable[ValueSpec],
    initializers: Iterable[InitSpec] = (),
    opset: int = 17,
    *,
    domains: dict[str, int] | None = None,
    functions: Sequence[onnx.FunctionProto] = (),
    value_info: Iterable[ValueSpec] = (),
    name: str = "g",
    ir_version: int | None = None,
    producer: tuple[str, str] = ("edgeprof-tests", "1.0"),
) -> onnx.ModelProto:
    """A ModelProto with the default domain at ``opset`` and any extra ``domains``."""
    imports = [helper.make_opsetid("", opset)]
    imports += [helper.make_opsetid(d, v) for d, v in (domains or {}).items()]
    graph = make_graph(nodes, inputs, outputs, initializers, name, value_info)
    model = helper.make_model(graph, opset_imports=imports, functions=list(functions),
                              producer_name=producer[0], producer_version=producer[1])
    model.ir_version = ir_version if ir_version is not None else min(onnx.IR_VERSION, 10)
    return model


def save(model: onnx.ModelProto, path: Path) -> Path:
    path.write_bytes(model.SerializeToString())
    return path


def conv_net(batch: Dim = 1, channels: int = 3, size: int = 8, cout: int = 4, kernel: int = 3, seed: int = 0) -> onnx.ModelProto:
    """x (batch, channels, size, size) -> Conv(k, pad 0, bias) -> Relu -> GlobalAveragePool ->
    Flatten -> Gemm(cout -> 2, bias). Node names follow the TorchScript exporter's style."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((cout, channels, kernel, kernel)).astype(np.float32)
    b = rng.standard_normal((cout,)).astype(np.float32)
    fc_w = rng.standard_normal((2, cout)).astype(np.float32)
    fc_b = rng.standard_normal((2,)).astype(np.float32)
    nodes = [
        node("Conv", ["x", "conv.weight", "conv.bias"], ["c"], name="/conv/Conv", kernel_shape=[kernel, kernel]),
        node("Relu", ["c"], ["r"], name="/act/Relu"),
        node("GlobalAveragePool", ["r"], ["p"], name="/pool/GlobalAveragePool"),
        node("Flatten", ["p"], ["f"], name="/Flatten", axis=1),
        node("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], name="/fc/Gemm", transB=1),
    ]
    return make_model(
        nodes,
        inputs=[("x", [batch, channels, size, size])],
        outputs=[("y", [batch, 2])],
        initializers=[("conv.weight", w), ("conv.bias", b), ("fc.weight", fc_w), ("fc.bias", fc_b)],
    )
