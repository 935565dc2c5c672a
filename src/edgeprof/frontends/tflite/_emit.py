"""Emitting canonical nodes for TFLite operators, with their fused activations.

A TFLite kernel may carry a ``fused_activation_function`` (CONV_2D, FULLY_CONNECTED, ADD,
pools, CONCATENATION, ...). On float tensors it is a real op after the kernel: it is emitted as
its own canonical node (Relu, Clip for RELU6 / RELU_N1_TO_1, Tanh, Sign for SIGN_BIT), which
writes the operator's output in place (``inplace=1``: it shares the kernel output's storage),
and is counted exactly as the ONNX graph's separate Relu would be. On quantised outputs the
activation only narrows the requantisation's saturating clamp (already counted in the
requantise ops), so no node is emitted; the kernel's node says ``fused_activation``.
"""

from __future__ import annotations

from edgeprof.frontends.tflite._graph import GraphBuilder
from edgeprof.frontends.tflite._read import TfOperator
from edgeprof.ir import AttrValue

# ActivationFunctionType -> (name in the file, canonical op, attributes)
ACTIVATIONS: dict[int, tuple[str, str, dict[str, AttrValue]]] = {
    1: ("RELU", "Relu", {}),
    2: ("RELU_N1_TO_1", "Clip", {"min": -1.0, "max": 1.0}),
    3: ("RELU6", "Clip", {"min": 0.0, "max": 6.0}),
    4: ("TANH", "Tanh", {}),
    5: ("SIGN_BIT", "Sign", {}),
}
QUANTISED_KINDS = ("int", "uint")


def is_quantised(b: GraphBuilder, index: int) -> bool:
    """Tensor ``index`` is an integer tensor with quantisation parameters."""
    if index < 0:
        return False
    t = b.tensor(index)
    return t.quant is not None and t.dtype.kind in QUANTISED_KINDS


def qoperand(b: GraphBuilder, index: int, name: str = "") -> tuple[str, str, str]:
    """Tensor ``index`` as a QLinear op reads it: (value, scale, zero point or "" when all are 0)."""
    scale, zero_point = b.quant_inputs(index)
    return name or b.name(index), scale, zero_point


def activation_of(b: GraphBuilder, op: TfOperator) -> int:
    code = op.options.get("FusedActivationFunction", 0)
    if not isinstance(code, int) or code == 0:
        return 0
    if code not in ACTIVATIONS:
        raise b.fail(f"operator {op.index} ({op.name}) has unknown fused activation {code}")
    return code


def emit(
    b: GraphBuilder,
    op: TfOperator,
    canonical: str,
    inputs: tuple[str, ...],
    attrs: dict[str, AttrValue] | None = None,
    *,
    outputs: tuple[str, ...] | None = None,
) -> None:
    """Emit ``canonical`` reading ``inputs`` and writing the operator's outputs, followed by its
    fused activation (see the module docstring)."""
    outs = outputs if outputs is not None else tuple(b.name(i) for i in op.outputs)
    attrs = dict(attrs or {})
    act = activation_of(b, op) if op.outputs else 0
    if not act:
        b.node(op, canonical, inputs, outs, attrs)
        return
    label, act_op, act_attrs = ACTIVATIONS[act]
    if is_quantised(b, op.outputs[0]):
        attrs["fused_activation"] = label
        b.node(op, canonical, inputs, outs, attrs)
        return
    out = outs[0]
    pre = b.temp(out, b.values[out], "pre_activation")
    b.node(op, canonical, inputs, (pre, *outs[1:]), attrs)
    b.node(op, act_op, (pre,), (out,), {**act_attrs, "inplace": 1, "fused": 1}, suffix=act_op,
           source=f"{op.name} fused {label}")
