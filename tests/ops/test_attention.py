"""Closed-form tests of the attention family and the shared softmax convention."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeprof.ops.primitives import softmax_ops
from edgeprof.ops.registry import Uncountable, lookup
from tests.opcall import cost


def test_softmax_convention_is_5n_minus_2_per_row() -> None:
    # n=4: max 3 comparisons, subtract 4, exp 4, sum 3, divide 4 = 18 per row
    assert softmax_ops(3, 4) == 54
    assert softmax_ops(1, 1) == 3  # subtract, exp, divide
    assert softmax_ops(5, 0) == 0


def test_mha_4d() -> None:
    # B=2, H=4, S=3, T=5, D=8, Dv=6. Scores 2·4·3·5 = 120: QK^T 120·15 = 1800 FLOPs, 960 MACs.
    # scale: one multiply per score = 120. Softmax 24 rows of 5: 24·23 = 552.
    # probs@V: 2·4·3·6 = 144 dot products of 5: 1296 FLOPs, 720 MACs.
    c = cost("Attention", [(2, 4, 3, 8), (2, 4, 5, 8), (2, 4, 5, 6)], [(2, 4, 3, 6)])
    assert (c.flops, c.macs) == (1800 + 120 + 552 + 1296, 1680)
    assert c.category.value == "attention"
    # softcap: divide, tanh (5), multiply = 7 per score: +840
    s = cost("Attention", [(2, 4, 3, 8), (2, 4, 5, 8), (2, 4, 5, 6)], [(2, 4, 3, 6)], softcap=30.0)
    assert s.flops == c.flops + 840


def test_gqa_and_causal() -> None:
    # Hq=8, Hkv=2, S=T=4, D=16. Scores 128: QK^T 128·31 = 3968, 2048 MACs.
    # scale: one multiply per score = 128 (GQA does not change the score count). Softmax 32·18 = 576.
    # probs@V: 8·4·16 = 512 dots of 4: 3584, 2048 MACs.
    ins = [(1, 8, 4, 16), (1, 2, 4, 16), (1, 2, 4, 16)]
    c = cost("Attention", ins, [(1, 8, 4, 16)])
    assert (c.flops, c.macs) == (3968 + 128 + 576 + 3584, 4096)
    # causal: the full score matrix is computed, plus one bias add per score
    causal = cost("Attention", ins, [(1, 8, 4, 16)], is_causal=1)
    assert (causal.flops, causal.macs) == (c.flops + 128, 4096)
    window = cost("Attention", ins, [(1, 8, 4, 16)], left_window_size=2)
    assert window.flops == c.flops + 128


def test_past_kv_extends_the_key_length() -> None:
    # one new token, past 7: T = 8. Hq=8, Hkv=2, D=16. Scores 64: QK^T 64·31 = 1984, 1024 MACs.
    # scale 64 (one per score). Causal bias 64. Softmax 8 rows of 8: 8·38 = 304.
    # probs@V: 128 dots of 8: 1920, 1024 MACs.
    q, kv, past = (1, 8, 1, 16), (1, 2, 1, 16), (1, 2, 7, 16)
    present = (1, 2, 8, 16)
    c = cost("Attention", [q, kv, kv, None, past, past], [(1, 8, 1, 16), present, present], is_causal=1)
    assert (c.flops, c.macs) == (1984 + 64 + 64 + 304 + 1920, 2048)


def test_3d_inputs_with_head_attributes_and_mask() -> None:
    # Q (2,3,32) with 4 heads -> D 8; K (2,5,16), V (2,5,12) with 2 KV heads -> D 8, Dv 6.
    # Scores 2·4·3·5 = 120: 1800; scale 120; mask add 120; softmax 552;
    # probs@V 144 dots of 5: 1296.
    ins = [(2, 3, 32), (2, 5, 16), (2, 5, 12), (3, 5)]
    c = cost("Attention", ins, [(2, 3, 24)], q_num_heads=4, kv_num_heads=2)
    assert (c.flops, c.macs) == (1800 + 120 + 120 + 552 + 1296, 1680)
    with pytest.raises(Uncountable, match="q_num_heads"):
        cost("Attention", ins, [(2, 3, 24)])


def test_attention_shape_mismatches_are_uncountable() -> None:
    with pytest.raises(Uncountable, match="multiple"):
        cost("Attention", [(1, 6, 4, 16), (1, 4, 4, 16), (1, 4, 4, 16)], [(1, 6, 4, 16)])
    with pytest.raises(Uncountable, match="do not fit"):
        cost("Attention", [(1, 8, 4, 16), (1, 2, 4, 8), (1, 2, 4, 16)], [(1, 8, 4, 16)])


@given(
    b=st.integers(1, 3), kv=st.integers(1, 3), rep=st.integers(1, 3), s=st.integers(1, 6),
    t=st.integers(1, 6), d=st.integers(1, 8), dv=st.integers(1, 8),
)
def test_attention_macs_are_its_two_matmuls(b: int, kv: int, rep: int, s: int, t: int, d: int, dv: int) -> None:
    hq = kv * rep
    c = cost("Attention", [(b, hq, s, d), (b, kv, t, d), (b, kv, t, dv)], [(b, hq, s, dv)])
    qk = cost("MatMul", [(b, hq, s, d), (b, hq, d, t)], [(b, hq, s, t)])
    pv = cost("MatMul", [(b, hq, s, t), (b, hq, t, dv)], [(b, hq, s, dv)])
    assert c.macs == qk.macs + pv.macs
    scale = b * hq * s * t  # one multiply per score
    assert c.flops == qk.flops + pv.flops + scale + softmax_ops(b * hq * s, t)


# --- RotaryEmbedding ------------------------------------------------------------------------


def test_rotary_embedding() -> None:
    # a pair (x1, x2) -> (cos·x1 - sin·x2, sin·x1 + cos·x2): 4 multiplies + 2 adds = 3 per element
    x = (2, 4, 3, 8)
    cache = (16, 4)
    assert cost("RotaryEmbedding", [x, cache, cache, ((2, 3), "int64")], [x]).flops == 3 * 192
    # partial rotation of 4 of 8 dims: half the elements rotate
    partial = cost("RotaryEmbedding", [x, (16, 2), (16, 2), ((2, 3), "int64")], [x], rotary_embedding_dim=4)
    assert partial.flops == 3 * 96
    # 3-D input with num_heads: (2, 3, 32) = 4 heads of 8
    assert cost("RotaryEmbedding", [(2, 3, 32), (2, 3, 4), (2, 3, 4)], [(2, 3, 32)], num_heads=4).flops == 3 * 192
    with pytest.raises(Uncountable, match="num_heads"):
        cost("RotaryEmbedding", [(2, 3, 32), (2, 3, 4), (2, 3, 4)], [(2, 3, 32)])
    entry = lookup("RotaryEmbedding")
    assert entry is not None and entry.buffer_inputs == frozenset({1, 2}) and entry.meta_inputs == frozenset({3})


# --- LinearAttention ------------------------------------------------------------------------

# B=1, T=2, Hq=4, Hkv=2, dk=3, dv=5
Q, K, V = (1, 2, 12), (1, 2, 6), (1, 2, 10)
HEADS = {"q_num_heads": 4, "kv_num_heads": 2}
OUTS = [(1, 2, 20), (1, 2, 3, 5)]


def test_linear_attention_linear_rule() -> None:
    # per KV head: S += k ⊗ v: 15 multiplies + 15 adds, 15 MACs.
    # per query head: q^T S: 5 dots of 3 = 25, 15 MACs, then 5 scale multiplies = 30.
    # per token: 2·30 + 4·30 = 180 ops, 2·15 + 4·15 = 90 MACs; 2 tokens.
    c = cost("LinearAttention", [Q, K, V], OUTS, update_rule="linear", **HEADS)
    assert (c.flops, c.macs) == (360, 180)
    assert c.category.value == "attention"


def test_linear_attention_gated_rule() -> None:
    # decay per head: exp 1 + decay ⊙ S 15 -> update 46; per token 2·46 + 120 = 212
    c = cost("LinearAttention", [Q, K, V, None, (1, 2, 2)], OUTS, update_rule="gated", **HEADS)
    assert (c.flops, c.macs) == (424, 180)
    # decay per key dim: 3 exps -> update 48; per token 216
    c = cost("LinearAttention", [Q, K, V, None, (1, 2, 6)], OUTS, update_rule="gated", **HEADS)
    assert c.flops == 432
    with pytest.raises(Uncountable, match="decay"):
        cost("LinearAttention", [Q, K, V], OUTS, update_rule="gated", **HEADS)


def test_linear_attention_delta_rules() -> None:
    # delta: S^T k 5 dots of 3 = 25 (15 MACs), v - that 5, β·k 3, outer+add 30: 63 ops, 30 MACs.
    # per token 2·63 + 120 = 246, MACs 2·30 + 60 = 120
    beta = (1, 2, 2)
    c = cost("LinearAttention", [Q, K, V, None, None, beta], OUTS, update_rule="delta", **HEADS)
    assert (c.flops, c.macs) == (492, 240)
    # gated_delta (default rule): + decay 16 per KV head -> 79; per token 278
    g = cost("LinearAttention", [Q, K, V, None, (1, 2, 2), beta], OUTS, **HEADS)
    assert (g.flops, g.macs) == (556, 240)
    with pytest.raises(Uncountable, match="beta"):
        cost("LinearAttention", [Q, K, V, None, (1, 2, 2)], OUTS, **HEADS)
