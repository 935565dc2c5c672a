"""Op family: attention (Attention, LinearAttention, RotaryEmbedding), costed with the project's
softmax convention, :func:`edgeprof.ops.primitives.softmax_ops`, which the Softmax op's formula shares.

Softmax of a row of n: max n-1 comparisons, subtract n, exp n, sum n-1 adds, divide n = 5n-2.

Attention (ONNX opset 23+) is counted as the textbook softmax(Q·K^T·scale + mask)·V that a direct
implementation computes: the QK^T matmul, one scale multiply per score (ONNX's function body
and torch's math SDPA instead scale Q and K by sqrt(scale); we count the score form so that a
fused attention op and the eager ``matmul * scaling`` pattern cost the same), optional softcap, one add of the combined bias (attn_mask, is_causal, sliding window,
nonpad_kv_seqlen), softmax over the total key length, and probs@V. A causal or windowed mask is
counted over the **full** score matrix: a direct implementation computes every score and masks
it. Building the bias tensor (selects, padding, combining masks) and the fully-masked-row
guard are not counted. MACs are the two matmuls only.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgeprof.ops.primitives import SCALED_TANH_OPS, dot_products, softmax_ops
from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, formula

SOFTCAP_OPS = SCALED_TANH_OPS  # softcap·tanh(x / softcap): divide, tanh, multiply


@dataclass(frozen=True)
class AttentionDims:
    """Batch, query heads, KV heads, query length, total key length, QK head size, V head size."""

    batch: int
    q_heads: int
    kv_heads: int
    q_len: int
    total_len: int
    head_size: int
    v_head_size: int


def _heads_attr(call: OpCall, name: str) -> int:
    heads = call.attr_int(name, 0)
    if heads < 1:
        raise Uncountable(f"{call.op}: 3-D inputs need the {name} attribute")
    return heads


def _split_heads(call: OpCall, hidden: int, heads: int, what: str) -> int:
    if hidden % heads:
        raise Uncountable(f"{call.op}: {what} hidden size {hidden} is not a multiple of {heads} heads")
    return hidden // heads


def attention_dims(call: OpCall) -> AttentionDims:
    """Resolve an Attention call's dims from its 4-D (B, H, S, D) or 3-D (B, S, H·D) inputs."""
    q, k, v = call.in_shape(0), call.in_shape(1), call.in_shape(2)
    if not len(q) == len(k) == len(v) or len(q) not in (3, 4):
        raise Uncountable(f"Attention needs Q, K, V all 3-D or all 4-D; got {q}, {k}, {v}")
    if len(q) == 4:
        batch, q_heads, q_len, head = q
        _, kv_heads, kv_len, k_head = k
        v_heads, v_len, v_head = v[1], v[2], v[3]
    else:
        q_heads, kv_heads = _heads_attr(call, "q_num_heads"), _heads_attr(call, "kv_num_heads")
        batch, q_len = q[0], q[1]
        kv_len, v_len, v_heads = k[1], v[1], kv_heads
        head = _split_heads(call, q[2], q_heads, "Q")
        k_head = _split_heads(call, k[2], kv_heads, "K")
        v_head = _split_heads(call, v[2], kv_heads, "V")
    if k_head != head or v_heads != kv_heads or v_len != kv_len or k[0] != batch or v[0] != batch:
        raise Uncountable(f"Attention: K {k} / V {v} do not fit Q {q}")
    if kv_heads < 1 or q_heads % kv_heads:
        raise Uncountable(f"Attention: {q_heads} query heads are not a multiple of {kv_heads} KV heads")
    past = 0
    if call.has_input(4):
        pk = call.in_shape(4)
        if len(pk) != 4:
            raise Uncountable(f"Attention: past_key must be 4-D, got {pk}")
        past = pk[2]
    return AttentionDims(batch, q_heads, kv_heads, q_len, past + kv_len, head, v_head)


def _has_bias(call: OpCall) -> bool:
    return (
        call.has_input(3)
        or call.has_input(6)
        or bool(call.attr_int("is_causal", 0))
        or call.attr_int("left_window_size", -1) >= 0
        or call.attr_int("right_window_size", -1) >= 0
    )


@formula(
    "Attention", category=Category.ATTENTION, meta_inputs=(6,),
    example=Example(((2, 4, 3, 8), (2, 4, 5, 8), (2, 4, 5, 6)), ((2, 4, 3, 6),), ops=3768, macs=1680),
)
def attention(call: OpCall) -> Arith:
    """B·Hq·S·T dot products of D + B·Hq·S·Dv of T; + scale 1/score + softcap 7/score + mask 1/score + softmax 5T-2/row; T = past + kv."""
    d = attention_dims(call)
    scores = d.batch * d.q_heads * d.q_len * d.total_len
    qk = dot_products(scores, d.head_size)
    pv = dot_products(d.batch * d.q_heads * d.q_len * d.v_head_size, d.total_len)
    scale = scores  # one multiply per score
    softcap = SOFTCAP_OPS * scores if call.attr_float("softcap", 0.0) > 0 else 0
    bias = scores if _has_bias(call) else 0
    softmax = softmax_ops(d.batch * d.q_heads * d.q_len, d.total_len)
    return Arith(ops=qk.ops + scale + softcap + bias + softmax + pv.ops, macs=qk.macs + pv.macs)


# --- LinearAttention ----------------------------------------------------------------------


def _linear_attention_update(rule: str, dk: int, dv: int, decay_exps: int) -> Arith:
    """Ops and MACs of one KV head's state update S (dk×dv) for one token."""
    state = dk * dv
    outer = Arith(ops=2 * state, macs=state)  # S += k ⊗ v': a multiply and an add per state element
    if rule == "linear":
        return outer
    decay = decay_exps + state  # exp(g) (per head or per key dim), then decay ⊙ S
    if rule == "gated":
        return Arith(ops=decay + outer.ops, macs=outer.macs)
    # delta rules: v' = β·(v - S^T k): dv dot products of dk, dv subtracts, dk multiplies (β·k)
    retrieve = dot_products(dv, dk)
    delta = retrieve.ops + dv + dk + outer.ops
    macs = retrieve.macs + outer.macs
    if rule == "delta":
        return Arith(ops=delta, macs=macs)
    return Arith(ops=decay + delta, macs=macs)  # gated_delta: decay S once, use it in both terms


@formula(
    "LinearAttention", category=Category.ATTENTION,
    example=Example(
        ((1, 2, 12), (1, 2, 6), (1, 2, 10)), ((1, 2, 20), (1, 2, 3, 5)), {"update_rule": "linear", "q_num_heads": 4, "kv_num_heads": 2}, ops=360, macs=180,
    ),
)
def linear_attention(call: OpCall) -> Arith:
    """Per token: Hkv state updates (linear 2·dk·dv; gated +dk·dv+exp; delta +(2dk-1)·dv+dv+dk) + Hq outputs (2dk-1)·dv + dv (scale)."""
    q, k, v = call.in_shape(0), call.in_shape(1), call.in_shape(2)
    if len(q) != 3 or len(k) != 3 or len(v) != 3 or not q[:2] == k[:2] == v[:2]:
        raise Uncountable(f"LinearAttention needs (B, T, H·D) query/key/value; got {q}, {k}, {v}")
    q_heads, kv_heads = _heads_attr(call, "q_num_heads"), _heads_attr(call, "kv_num_heads")
    if q_heads % kv_heads:
        raise Uncountable(f"LinearAttention: {q_heads} query heads are not a multiple of {kv_heads} KV heads")
    dk = _split_heads(call, q[2], q_heads, "query")
    if _split_heads(call, k[2], kv_heads, "key") != dk:
        raise Uncountable(f"LinearAttention: key {k} does not fit query head size {dk}")
    dv = _split_heads(call, v[2], kv_heads, "value")
    rule = call.attr_str("update_rule", "gated_delta")
    if rule not in ("linear", "gated", "delta", "gated_delta"):
        raise Uncountable(f"LinearAttention: unknown update_rule {rule!r}")
    decay_exps = 0
    if rule in ("gated", "gated_delta"):
        if not call.has_input(4):
            raise Uncountable(f"LinearAttention: update_rule {rule!r} needs the decay input")
        g = call.in_shape(4)
        decay_exps = dk if g and g[-1] == kv_heads * dk else 1  # per key dim, or one per head
    if rule in ("delta", "gated_delta") and not call.has_input(5):
        raise Uncountable(f"LinearAttention: update_rule {rule!r} needs the beta input")
    update = _linear_attention_update(rule, dk, dv, decay_exps)
    read = dot_products(dv, dk)  # o = scale · q^T S: dv dot products of dk, then dv multiplies
    tokens = q[0] * q[1]
    ops = tokens * (kv_heads * update.ops + q_heads * (read.ops + dv))
    return Arith(ops=ops, macs=tokens * (kv_heads * update.macs + q_heads * read.macs))


# --- RotaryEmbedding ----------------------------------------------------------------------


@formula(
    "RotaryEmbedding", category=Category.ATTENTION, meta_inputs=(3,), buffer_inputs=(1, 2),
    example=Example(((2, 4, 3, 8), (16, 4), (16, 4), ((2, 3), "int64")), ((2, 4, 3, 8),), ops=576),
)
def rotary_embedding(call: OpCall) -> Arith:
    """3 ops per rotated element: each pair (x1, x2) -> (cos·x1 - sin·x2, sin·x1 + cos·x2) is 4 multiplies + 2 adds; the rest is copied."""
    x = call.in_shape(0)
    if len(x) == 4:
        heads_tokens, head_size = x[0] * x[1] * x[2], x[3]
    elif len(x) == 3:
        heads = _heads_attr(call, "num_heads")
        head_size = _split_heads(call, x[2], heads, "X")
        heads_tokens = x[0] * x[1] * heads
    else:
        raise Uncountable(f"RotaryEmbedding needs a 3-D or 4-D input, got {x}")
    rotary = call.attr_int("rotary_embedding_dim", 0) or head_size
    if rotary > head_size or rotary % 2:
        raise Uncountable(f"RotaryEmbedding: rotary_embedding_dim {rotary} does not fit head size {head_size}")
    return Arith(ops=3 * heads_tokens * rotary)
