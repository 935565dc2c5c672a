"""Which stored tensors are learnable parameters, buffers or constants, and their totals.

A frontend that knows (PyTorch: ``named_parameters`` vs buffers) sets ``Weight.role``. Where it
is ``None`` (ONNX initializers), the role is inferred from how the tensor is used:

* an input the op declares as a shape/axes/index operand (``Reshape``'s shape, ``Slice``'s
  starts, ...) or a non-float, non-quantised tensor: **constant**;
* BatchNormalization's running mean and variance: **buffer**;
* a single-element operand of an elementwise, activation or data-movement op (``x / 8.0``,
  ``+ eps``, an ``Expand`` fill value): **constant**;
* the scales and zero points of quantised ops (QLinearConv, DequantizeLinear, ...): **constant**
  (quantisation metadata; the int8 weights and int32 biases they describe are parameters);
* anything else: **parameter**.

Shared tensors (same ``storage_key``, or the same name) are counted once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edgeprof.ir import Graph, Weight, WeightRole
from edgeprof.ops.registry import Category, lookup

_QUANT_WEIGHT_OPS = {
    "DequantizeLinear", "QLinearConv", "QLinearMatMul", "MatMulInteger", "ConvInteger", "Gather",
    "MatMulNBits", "com.microsoft::MatMulNBits", "com.microsoft::QLinearConv", "com.microsoft::QGemm",
    "com.microsoft::DynamicQuantizeLSTM", "com.microsoft::DynamicQuantizeMatMul",
    "com.microsoft::MatMulIntegerToFloat", "com.microsoft::QAttention",
}

# Inputs of quantised ops that hold scales and zero points (not parameters).
_QUANT_METADATA_INPUTS: dict[str, frozenset[int]] = {
    "QLinearConv": frozenset({1, 2, 4, 5, 6, 7}),
    "QLinearMatMul": frozenset({1, 2, 4, 5, 6, 7}),
    "com.microsoft::QLinearConv": frozenset({1, 2, 4, 5, 6, 7}),
    # A, a_scale, a_zp, B, b_scale, b_zp, C (the int32 bias: a parameter), y_scale, y_zp
    "com.microsoft::QGemm": frozenset({1, 2, 4, 5, 7, 8}),
    "QuantizeLinear": frozenset({1, 2}),
    "DequantizeLinear": frozenset({1, 2}),
    "MatMulInteger": frozenset({2, 3}),
    "ConvInteger": frozenset({2, 3}),
    # ONNX Runtime's dynamic quantiser: X, W, R, B, seq_lens, h0, c0, P, W_scale, W_zp, R_scale, R_zp
    "com.microsoft::DynamicQuantizeLSTM": frozenset({8, 9, 10, 11}),
    "com.microsoft::DynamicQuantizeMatMul": frozenset({2, 3}),  # A, B, b_scale, b_zp, bias
    "com.microsoft::MatMulIntegerToFloat": frozenset({2, 3, 4, 5}),  # A, B, a_scale, b_scale, a_zp, b_zp, bias
    # input, weight, bias, input_scale, weight_scale, mask_index, input_zp, weight_zp, past
    "com.microsoft::QAttention": frozenset({3, 4, 6, 7}),
    # ONNX Runtime's QOperator activations and pooling: X, X_scale, X_zp, Y_scale, Y_zp
    "com.microsoft::QLinearGlobalAveragePool": frozenset({1, 2, 3, 4}),
    "com.microsoft::QLinearAveragePool": frozenset({1, 2, 3, 4}),
    "com.microsoft::QLinearSigmoid": frozenset({1, 2, 3, 4}),
    "com.microsoft::QLinearLeakyRelu": frozenset({1, 2, 3, 4}),
    "com.microsoft::QLinearSoftmax": frozenset({1, 2, 3, 4}),
    # A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp
    "com.microsoft::QLinearAdd": frozenset({1, 2, 4, 5, 6, 7}),
    "com.microsoft::QLinearMul": frozenset({1, 2, 4, 5, 6, 7}),
}


def _is_quant_metadata(op: str, index: int) -> bool:
    """Whether input ``index`` of ``op`` is a scale or a zero point."""
    if op == "com.microsoft::QLinearConcat":  # Y_scale, Y_zp, then (X, X_scale, X_zp) per input
        return index < 2 or (index - 2) % 3 != 0
    return index in _QUANT_METADATA_INPUTS.get(op, frozenset())


@dataclass(frozen=True)
class WeightTable:
    """Every distinct stored tensor of a graph (subgraphs included) with its resolved role."""

    weights: tuple[Weight, ...]
    roles: Mapping[str, WeightRole]  # by Weight.key

    @property
    def params(self) -> int:
        return sum(w.numel for w in self.weights if self.roles[w.key] == "parameter")

    @property
    def weight_bytes(self) -> int:
        return sum(w.nbytes for w in self.weights)

    def role(self, w: Weight) -> WeightRole:
        return self.roles[w.key]


def weight_table(graph: Graph) -> WeightTable:
    """Collect every weight once (by storage key) and resolve its role."""
    uses: dict[str, list[tuple[str, int]]] = {}
    by_key: dict[str, Weight] = {}
    names_of: dict[str, set[str]] = {}

    def walk(g: Graph) -> None:
        for w in g.weights.values():
            by_key.setdefault(w.key, w)
            names_of.setdefault(w.key, set()).add(w.name)
        for n in g.nodes:
            for i, name in enumerate(n.inputs):
                if name:
                    uses.setdefault(name, []).append((n.op, i))
            for sub in n.subgraphs.values():
                walk(sub)

    walk(graph)
    roles: dict[str, WeightRole] = {}
    for w in by_key.values():
        if w.role is not None:
            roles[w.key] = w.role
            continue
        roles[w.key] = _infer_role(w, [u for n in sorted(names_of[w.key]) for u in uses.get(n, [])])
    return WeightTable(tuple(by_key.values()), roles)


def _infer_role(w: Weight, uses: list[tuple[str, int]]) -> WeightRole:
    if not uses:
        return "constant"
    quantised_use = any(op in _QUANT_WEIGHT_OPS for op, _ in uses)
    if not w.dtype.is_float and not quantised_use:
        return "constant"
    if w.dtype.kind == "bool":
        return "constant"
    kinds: set[WeightRole] = set()
    for op, i in uses:
        if _is_quant_metadata(op, i):
            kinds.add("constant")
            continue
        entry = lookup(op)
        if entry is None:
            kinds.add("parameter")
            continue
        if i in entry.meta_inputs:
            kinds.add("constant")
        elif i in entry.buffer_inputs:
            kinds.add("buffer")
        elif w.numel <= 1 and entry.category in (Category.ELEMENTWISE, Category.ACTIVATION, Category.DATA_MOVEMENT):
            kinds.add("constant")
        else:
            kinds.add("parameter")
    order: tuple[WeightRole, ...] = ("parameter", "buffer", "constant")
    return next((role for role in order if role in kinds), "parameter")
