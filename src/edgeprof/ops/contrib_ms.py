"""Op family: ONNX Runtime's ``com.microsoft`` fused ops, the ones ORT's graph optimiser writes
into saved transformer and CNN models. Each is counted as the ops it fuses, with the formulas
of the standard families (one formula per op, no second convention):

* ``FusedConv`` = Conv (+ Z add) + its activation; ``FusedMatMul`` = MatMul (+ alpha);
* ``Gelu``/``BiasGelu``/``FastGelu``/``QuickGelu`` = (bias add +) the activation;
* ``SkipLayerNormalization`` = skip add (+ bias add) + LayerNormalization;
  ``SkipSimplifiedLayerNormalization``/``SimplifiedLayerNormalization`` the same with RMS norm;
* ``Attention`` (BERT-style, input (B, S, Hin) and packed QKV weights (Hin, Hq+Hk+Hv)) = the QKV
  projection (B·S·(Hq+Hk+Hv) dot products of Hin, + its bias adds) + the attention core as ONNX
  Attention counts it (QK^T, one scale multiply per score, one mask add per score with a mask or
  ``unidirectional``, softmax, probs@V), T = past + S.
"""

from __future__ import annotations

from dataclasses import replace
from math import prod

from edgeprof.ir import Value
from edgeprof.ops.conv import conv
from edgeprof.ops.norm import layer_normalization, rms_normalization
from edgeprof.ops.primitives import CLIP_OPS, GELU_OPS, GELU_TANH_OPS, SIGMOID_OPS, dot_products, softmax_ops
from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, formula
from edgeprof.ops.rnn import ACTIVATION_OPS

MS = "com.microsoft::"
_FUSED_ACTIVATIONS = {**ACTIVATION_OPS, "clip": CLIP_OPS}


@formula(
    MS + "FusedConv", category=Category.CONV,
    example=Example(((1, 2, 7, 7), (4, 2, 3, 3), (4,)), ((1, 4, 5, 5),), {"activation": "Relu"}, ops=3700, macs=1800),
)
def fused_conv(call: OpCall) -> Arith:
    """Conv (+numel(Y) for the Z sum input) + the activation's ops per output element (Relu 1, Sigmoid 4, Tanh 5, ...)."""
    core = conv(replace(call, inputs=call.inputs[:3]))
    numel_y = prod(call.out_shape())
    z = numel_y if call.has_input(3) else 0
    activation = call.attr_str("activation", "")
    if not activation:
        return Arith(ops=core.ops + z, macs=core.macs)
    per_element = _FUSED_ACTIVATIONS.get(activation.lower())
    if per_element is None:
        raise Uncountable(f"FusedConv: activation {activation!r} has no per-element count")
    return Arith(ops=core.ops + z + per_element * numel_y, macs=core.macs)


@formula(
    MS + "FusedMatMul", category=Category.LINEAR,
    example=Example(((2, 6, 3), (6, 5)), ((2, 3, 5),), {"transA": 1}, ops=330, macs=180),
)
def fused_matmul(call: OpCall) -> Arith:
    """op(A)·op(B) (transA/transB only re-index): numel(Y)·(2K-1) FLOPs, numel(Y)·K MACs, + numel(Y) for alpha≠1."""
    a = call.in_shape(0)
    if not a:
        raise Uncountable("FusedMatMul of a scalar")
    k = a[-2] if call.attr_int("transA", 0) and len(a) >= 2 else a[-1]
    numel_y = prod(call.out_shape())
    core = dot_products(numel_y, k)
    alpha = numel_y if call.attr_float("alpha", 1.0) != 1.0 else 0
    return Arith(ops=core.ops + alpha, macs=core.macs)


def _per_element(call: OpCall, ops: int) -> Arith:
    return Arith(ops=ops * prod(call.out_shape()))


@formula(MS + "Gelu", category=Category.ACTIVATION, example=Example(((2, 8),), ((2, 8),), ops=80))
def ms_gelu(call: OpCall) -> Arith:
    """Exact GELU 0.5·x·(1+erf(x/√2)): 5 per element (as ONNX Gelu)."""
    return _per_element(call, GELU_OPS)


@formula(MS + "BiasGelu", category=Category.ACTIVATION, example=Example(((2, 8), (8,)), ((2, 8),), ops=96))
def bias_gelu(call: OpCall) -> Arith:
    """Bias add 1 + exact GELU 5 = 6 per output element."""
    return _per_element(call, 1 + GELU_OPS)


@formula(MS + "FastGelu", category=Category.ACTIVATION, example=Example(((2, 8), (8,)), ((2, 8),), ops=224))
def fast_gelu(call: OpCall) -> Arith:
    """Tanh-approximation GELU 13 per element (as ONNX Gelu approximate='tanh'), +1 with the bias input."""
    return _per_element(call, GELU_TANH_OPS + (1 if call.has_input(1) else 0))


@formula(MS + "QuickGelu", category=Category.ACTIVATION, example=Example(((2, 8),), ((2, 8),), ops=96))
def quick_gelu(call: OpCall) -> Arith:
    """x·sigmoid(alpha·x): multiply 1 + sigmoid 4 + multiply 1 = 6 per element."""
    return _per_element(call, 2 + SIGMOID_OPS)


def _input(call: OpCall, i: int) -> Value | None:
    """Input ``i``, or None when the node has fewer inputs (the formula then says which is missing)."""
    return call.inputs[i] if call.has_input(i) else None


def _skip_adds(call: OpCall) -> int:
    """input + skip (+ bias): one add per element each."""
    return prod(call.in_shape(0)) * (2 if call.has_input(4) else 1)


@formula(
    MS + "SkipLayerNormalization", category=Category.NORMALISATION,
    example=Example(((2, 3, 8), (2, 3, 8), (8,), (8,), (8,)), ((2, 3, 8),), ops=450),
)
def skip_layer_normalization(call: OpCall) -> Arith:
    """input + skip (+ bias) adds per element, then LayerNormalization over the last dim with gamma (and beta): rows·(6n+3) (+rows·n)."""
    norm_inputs = (_input(call, 0), _input(call, 2), _input(call, 3))
    norm = layer_normalization(replace(call, inputs=norm_inputs, attrs={"axis": -1}))
    return Arith(ops=_skip_adds(call) + norm.ops)


@formula(
    MS + "SkipSimplifiedLayerNormalization", category=Category.NORMALISATION,
    example=Example(((2, 3, 8), (2, 3, 8), (8,)), ((2, 3, 8),), ops=258),
)
def skip_simplified_layer_normalization(call: OpCall) -> Arith:
    """input + skip (+ bias) adds per element, then RMS normalisation over the last dim: rows·(4n+3)."""
    norm = rms_normalization(replace(call, inputs=(_input(call, 0), _input(call, 2)), attrs={"axis": -1}))
    return Arith(ops=_skip_adds(call) + norm.ops)


@formula(
    MS + "SimplifiedLayerNormalization", category=Category.NORMALISATION,
    example=Example(((2, 3, 8), (8,)), ((2, 3, 8),), {"axis": -1}, ops=210),
)
def simplified_layer_normalization(call: OpCall) -> Arith:
    """RMS normalisation over prod(shape[axis:]) (default axis -1): rows·(4n+3)."""
    return rms_normalization(call)


def packed_attention(call: OpCall) -> tuple[Arith, Arith]:
    """com.microsoft Attention/QAttention split in two: the QKV projection's dot products (without
    its bias) and the rest (bias adds, the attention core). Inputs: input (B, S, Hin), weights
    (Hin, Hq+Hk+Hv), bias, mask_index (3), past (4: (2, B, N, P, h))."""
    x, w = call.in_shape(0), call.in_shape(1)
    heads = call.attr_int("num_heads", 0)
    if len(x) != 3 or len(w) != 2 or w[0] != x[2] or heads < 1:
        raise Uncountable(f"{call.op} needs input (B, S, Hin), weights (Hin, 3H) and num_heads; got {x}, {w}")
    sizes = call.attr_ints("qkv_hidden_sizes", ())
    if sizes and len(sizes) == 3:
        hq, hk, hv = sizes
    elif w[1] % 3 == 0:
        hq = hk = hv = w[1] // 3
    else:
        raise Uncountable(f"{call.op}: weights {w} do not split into Q, K, V")
    if hq != hk or hq % heads or hv % heads:
        raise Uncountable(f"{call.op}: hidden sizes {hq}, {hk}, {hv} do not fit {heads} heads")
    batch, seq = x[0], x[1]
    rows = batch * seq
    projection = dot_products(rows * (hq + hk + hv), x[2])
    bias = rows * (hq + hk + hv) if call.has_input(2) else 0
    past = 0
    if call.has_input(4):
        p = call.in_shape(4)
        if len(p) != 5:
            raise Uncountable(f"{call.op}: past must be (2, B, N, P, h), got {p}")
        past = p[3]
    total = past + seq
    scores = batch * heads * seq * total
    qk = dot_products(scores, hq // heads)
    pv = dot_products(batch * heads * seq * (hv // heads), total)
    mask = scores if call.has_input(3) or call.attr_int("unidirectional", 0) else 0
    softmax = softmax_ops(batch * heads * seq, total)
    rest = Arith(ops=bias + qk.ops + scores + mask + softmax + pv.ops, macs=qk.macs + pv.macs)
    return projection, rest


@formula(
    MS + "Attention", category=Category.ATTENTION, meta_inputs=(3,),
    example=Example(((1, 2, 4), (4, 12), (12,)), ((1, 2, 4),), {"num_heads": 2}, ops=280, macs=128),
)
def ms_attention(call: OpCall) -> Arith:
    """QKV projection B·S·(Hq+Hk+Hv) dots of Hin (+ bias adds) + B·N·S·T dots of dq + scale 1/score + mask 1/score + softmax 5T-2/row + B·N·S·dv dots of T."""
    projection, rest = packed_attention(call)
    return Arith(ops=projection.ops + rest.ops, macs=projection.macs + rest.macs)
