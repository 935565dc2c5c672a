"""Closed-form tests of the torch frontend, one aten op family at a time.

Each expectation is worked out by hand from the counting contract (a dot product of n is 2n-1
FLOPs and n MACs) and the registry's documented per-op conventions; the model is a tiny
module calling the functional API, traced on fake tensors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import edgeprof
from edgeprof.frontends.pytorch._map import ATEN_TABLE, emitted_ops
from edgeprof.frontends.pytorch._rnn import RNN_EMITS
from edgeprof.ir import validate
from edgeprof.ops.registry import lookup, registered_ops
from edgeprof.report.model import Profile


class Fn(nn.Module):
    """A module whose forward is ``fn(self, *inputs)``; keyword modules become submodules."""

    def __init__(self, fn: Callable[..., Any], **modules: nn.Module) -> None:
        super().__init__()
        self.fn = fn
        for name, module in modules.items():
            self.add_module(name, module)

    def forward(self, *inputs: torch.Tensor) -> Any:
        return self.fn(self, *inputs)


def prof(fn: Callable[..., Any], *shapes: tuple[int, ...], **modules: nn.Module) -> Profile:
    model = Fn(fn, **modules)
    validate(edgeprof.load(model, input_shapes=list(shapes)).graph)
    p = edgeprof.profile(model, input_shapes=list(shapes))
    assert not p.not_counted, p.not_counted
    return p


def counted(p: Profile) -> list[tuple[str, int, int]]:
    """(op, FLOPs, MACs) of every node with a cost, in trace order."""
    return [(x.op, x.flops, x.macs) for x in p.layers if x.flops or x.macs]


# ---- the table --------------------------------------------------------------------------


def test_every_onnx_op_the_table_emits_has_a_registry_entry() -> None:
    assert sorted((emitted_ops() | set(RNN_EMITS)) - set(registered_ops())) == []
    assert all(key.startswith(("aten.", "prim.", "profiler.")) for key in ATEN_TABLE)
    assert all(row.emits or row.note for row in ATEN_TABLE.values())


# ---- linear ------------------------------------------------------------------------------


@pytest.mark.parametrize(("i", "j", "rows"), [(1, 1, 1), (3, 5, 2), (64, 10, 7)])
def test_linear_with_bias_is_one_gemm_of_2ij_per_row(i: int, j: int, rows: int) -> None:
    p = prof(lambda s, x: s.fc(x), (rows, i), fc=nn.Linear(i, j))
    gemm = [x for x in p.layers if x.op == "Gemm"]
    assert len(gemm) == 1
    assert (gemm[0].flops, gemm[0].macs) == (2 * i * j * rows, i * j * rows)
    assert gemm[0].params == i * j + j  # the weight is read by the Gemm itself (transB=1)
    assert p.totals.params == i * j + j


def test_functional_linear_without_bias_on_3d_input() -> None:
    model_w = nn.Module()
    model_w.w = nn.Parameter(torch.randn(6, 4))
    p = prof(lambda s, x: F.linear(x, s.m.w), (2, 3, 4), m=model_w)
    # 2·3 rows, 6 outputs, dot products of length 4: (2·4-1)·6·6 FLOPs, 4·36 MACs
    assert (p.totals.flops, p.totals.macs) == (7 * 36, 4 * 36)


def test_matmul_operator_and_bmm_and_einsum_give_the_same_batched_matmul() -> None:
    # (2, 3, 4) x (2, 4, 5): 2·3·5 dot products of length 4
    expected = (2 * 3 * 5 * (2 * 4 - 1), 2 * 3 * 5 * 4)
    for fn in (lambda s, a, b: a @ b, lambda s, a, b: torch.bmm(a, b),
               lambda s, a, b: torch.einsum("bij,bjk->bik", a, b)):
        p = prof(fn, (2, 3, 4), (2, 4, 5))
        assert (p.totals.flops, p.totals.macs) == expected


def test_einsum_attention_scores_and_broadcast_matmul() -> None:
    p = prof(lambda s, q, k: torch.einsum("bhqd,bhkd->bhqk", q, k), (1, 2, 5, 8), (1, 2, 6, 8))
    assert (p.totals.flops, p.totals.macs) == (2 * 5 * 6 * 15, 2 * 5 * 6 * 8)
    # (4,) @ (4, 3): three dot products of length 4
    p = prof(lambda s, a, b: a @ b, (4,), (4, 3))
    assert (p.totals.flops, p.totals.macs) == (3 * 7, 12)


@given(m=st.integers(1, 6), k=st.integers(1, 9), n=st.integers(1, 6))
@settings(max_examples=15, deadline=None)
def test_mm_is_m_n_dot_products_of_k(m: int, k: int, n: int) -> None:
    p = prof(lambda s, a, b: torch.mm(a, b), (m, k), (k, n))
    assert (p.totals.flops, p.totals.macs) == (m * n * (2 * k - 1), m * n * k)


def test_addmm_with_alpha_and_beta() -> None:
    # beta·C + alpha·(A@B): Gemm M·N·(2K-1) + M·N (alpha) + M·N (C) + M·N (beta)
    p = prof(lambda s, c, a, b: torch.addmm(c, a, b, beta=0.5, alpha=2.0), (3, 4), (3, 5), (5, 4))
    assert (p.totals.flops, p.totals.macs) == (12 * 9 + 3 * 12, 60)


# ---- convolution -------------------------------------------------------------------------


def test_conv2d_stride_padding_bias() -> None:
    p = prof(lambda s, x: s.c(x), (1, 3, 32, 32), c=nn.Conv2d(3, 8, 3, stride=2, padding=1))
    out = 8 * 16 * 16  # Hout = (32 + 2 - 3) // 2 + 1 = 16
    assert counted(p) == [("Conv", (2 * 27 - 1) * out + out, 27 * out)]


def test_depthwise_and_grouped_conv_use_cin_over_groups() -> None:
    p = prof(lambda s, x: s.c(x), (1, 16, 20, 20), c=nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False))
    out = 16 * 20 * 20
    assert counted(p) == [("Conv", (2 * 9 - 1) * out, 9 * out)]
    p = prof(lambda s, x: s.c(x), (2, 8, 10, 10), c=nn.Conv2d(8, 12, 3, groups=4, bias=False, dilation=2))
    out = 2 * 12 * 6 * 6  # dilated kernel spans 5: Hout = 10 - 5 + 1
    assert counted(p) == [("Conv", (2 * 9 * 2 - 1) * out, 18 * out)]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
def test_conv_padding_same_even_kernel_is_counted_from_the_output() -> None:
    w = torch.randn(4, 3, 4, 4)
    p = prof(lambda s, x: F.conv2d(x, w, padding="same"), (1, 3, 32, 32))
    assert p.totals.macs == 3 * 16 * 4 * 32 * 32


def test_conv1d_and_conv3d() -> None:
    p = prof(lambda s, x: s.c(x), (2, 4, 10), c=nn.Conv1d(4, 6, 3, bias=False))
    assert p.totals.macs == 4 * 3 * 6 * 2 * 8
    p = prof(lambda s, x: s.c(x), (1, 2, 4, 4, 4), c=nn.Conv3d(2, 3, 3, padding=1, bias=False))
    assert p.totals.macs == 2 * 27 * 3 * 64


def test_conv_transpose2d() -> None:
    c = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1, bias=False)
    p = prof(lambda s, x: s.c(x), (1, 8, 5, 5), c=c)
    macs = 8 * 25 * 4 * 9  # every input element meets every (Cout, tap) pair
    # every position of the uncropped 11x11 output is hit (kernel 3 >= stride 2): one add
    # fewer than products per (Cout, position)
    assert counted(p) == [("ConvTranspose", 2 * macs - 4 * 11 * 11, macs)]


# ---- resize, pooling, normalisation, activations ----------------------------------------------


def test_interpolate_nearest_and_bilinear() -> None:
    p = prof(lambda s, x: F.interpolate(x, scale_factor=2, mode="nearest"), (1, 3, 4, 4))
    assert p.totals.flops == 0 and [x.op for x in p.layers] == ["Resize"]
    p = prof(lambda s, x: F.interpolate(x, size=(8, 6), mode="bilinear", align_corners=False), (1, 3, 4, 4))
    assert p.totals.flops == 3 * (2**2 - 1) * 3 * 8 * 6  # 3 lerps of 3 ops per output element


def test_pooling() -> None:
    p = prof(lambda s, x: F.max_pool2d(x, 2), (1, 3, 4, 4))
    assert p.totals.flops == 3 * 4 * 3  # 12 windows of 4: 3 comparisons
    p = prof(lambda s, x: F.avg_pool2d(x, 2), (1, 3, 4, 4))
    assert p.totals.flops == 3 * 4 * 4  # 3 adds + 1 divide per window
    p = prof(lambda s, x: F.adaptive_avg_pool2d(x, 1), (1, 3, 4, 4))
    assert p.totals.flops == 3 * 16  # a mean over 16: 15 adds + 1 divide
    p = prof(lambda s, x: F.adaptive_avg_pool2d(x, 2), (1, 3, 4, 4))
    assert p.totals.flops == 3 * 4 * 4


ATEN_ONLY = pytest.mark.skipif(lookup("aten::unfold") is None,
                               reason="src/edgeprof/ops/aten_only.py is not listed in ops/families.py yet")


@ATEN_ONLY
def test_adaptive_pool_with_unequal_windows_keeps_its_aten_name() -> None:
    # 5 -> 2: windows [0, 3) and [2, 5), 3 each; 5 -> 3: [0, 2), [1, 4), [3, 5): 2, 3, 2
    p = prof(lambda s, x: F.adaptive_avg_pool2d(x, (2, 3)), (1, 3, 5, 5))
    assert [x.op for x in p.layers] == ["aten::_adaptive_avg_pool2d"]
    assert p.totals.flops == 3 * (3 + 3) * (2 + 3 + 2)  # m-1 adds + 1 divide per window of m
    p = prof(lambda s, x: F.adaptive_max_pool2d(x, (2, 3)), (1, 3, 5, 5))
    assert p.totals.flops == 3 * sum(a * b - 1 for a in (3, 3) for b in (2, 3, 2))


@ATEN_ONLY
def test_unfold_is_data_movement() -> None:
    p = prof(lambda s, x: x.unfold(1, 2, 1) * 2.0, (2, 5))
    assert [(x.op, x.flops) for x in p.layers] == [("aten::unfold", 0), ("Mul", 16)]


def test_norms() -> None:
    p = prof(lambda s, x: s.n(x), (2, 4, 8), n=nn.LayerNorm(8))
    rows, n = 8, 8
    assert p.totals.flops == rows * (6 * n + 3) + rows * n  # stats, normalise, scale (+B)
    bn = nn.BatchNorm2d(3)
    p = prof(lambda s, x: s.n(x), (2, 3, 4, 4), n=bn)
    assert p.totals.flops == 4 * 96 + 3 * 3  # eval: centre, ·1/std, ·scale, +B; eps/sqrt/1/x per channel
    assert p.totals.params == 6  # running statistics are buffers


def test_activations() -> None:
    n = 2 * 3 * 4
    for fn, per in [(F.relu, 1), (torch.sigmoid, 4), (torch.tanh, 5), (F.gelu, 5), (F.silu, 5),
                    (lambda x: F.gelu(x, approximate="tanh"), 13), (F.hardswish, 5), (F.relu6, 2)]:
        p = prof(lambda s, x, f=fn: f(x), (2, 3, 4))
        assert p.totals.flops == per * n, fn


def test_softmax_is_5n_minus_2_per_row() -> None:
    p = prof(lambda s, x: torch.softmax(x, -1), (2, 3, 7))
    assert p.totals.flops == 6 * (5 * 7 - 2)


# ---- elementwise, reductions, data movement ----------------------------------------------------


def test_add_with_alpha_is_a_mul_then_an_add() -> None:
    p = prof(lambda s, a, b: torch.add(a, b, alpha=2), (2, 3), (2, 3))
    assert [(x.op, x.flops) for x in p.layers] == [("Mul", 6), ("Add", 6)]


def test_broadcast_elementwise_counts_output_elements() -> None:
    p = prof(lambda s, a, b: a * b + 1.0, (4, 1, 3), (5, 1))
    assert [(x.op, x.flops) for x in p.layers] == [("Mul", 60), ("Add", 60)]


def test_var_is_counted_as_its_arithmetic() -> None:
    # mean (k-1 adds + 1 divide), subtract, square, sum (k-1), divide: per row of k = 5
    p = prof(lambda s, x: x.var(1), (2, 5))
    assert p.totals.flops == 2 * 5 + 10 + 10 + 2 * 4 + 2


def test_an_unlisted_aten_op_keeps_its_name_and_is_not_counted() -> None:
    p = edgeprof.profile(Fn(lambda s, x: F.adaptive_avg_pool2d(x, 2)), input_shapes=[(1, 3, 5, 5)])
    assert [x.op for x in p.layers] == ["aten::_adaptive_avg_pool2d"]
    assert p.totals.is_lower_bound == (lookup("aten::_adaptive_avg_pool2d") is None)


def test_data_movement_is_zero_flops_and_listed() -> None:
    def move(s: nn.Module, x: torch.Tensor) -> torch.Tensor:
        y = x.view(2, 12).t().reshape(4, 6)[:, 1:3]
        return torch.cat([y, y.flip(0)], 1).unsqueeze(0).expand(3, 4, 4).permute(2, 0, 1)

    p = prof(move, (2, 3, 4))
    assert p.totals.flops == 0 and p.totals.macs == 0
    assert {x.category for x in p.layers} == {"data_movement"}
    assert all(x.bytes_written > 0 for x in p.layers if x.op in ("Concat", "Transpose"))
    assert {"Reshape", "Transpose", "Slice", "Concat", "Unsqueeze", "Expand"} <= {x.op for x in p.layers}


def test_embedding_is_a_gather_and_counts_the_table_as_parameters() -> None:
    emb = nn.Embedding(100, 16)
    model = Fn(lambda s, ids: s.e(ids), e=emb)
    p = edgeprof.profile(model, example_inputs=(torch.zeros(2, 5, dtype=torch.long),))
    assert [x.op for x in p.layers] == ["Gather"]
    assert p.totals.flops == 0 and p.totals.params == 1600


def test_unknown_aten_op_is_listed_under_its_aten_name() -> None:
    model = Fn(lambda s, x: torch.special.digamma(x) + 1.0)
    p = edgeprof.profile(model, input_shapes=[(2, 3)])
    assert [(n.op, n.count) for n in p.not_counted] == [("aten::digamma", 1)]
    assert p.totals.is_lower_bound
    assert p.totals.flops == 6  # the Add after it is still counted


def test_inplace_ops_get_a_new_value_and_are_marked() -> None:
    def f(s: nn.Module, x: torch.Tensor) -> torch.Tensor:
        y = x * 2.0
        y.add_(1.0)
        return y.relu_()

    loaded = edgeprof.load(Fn(f), input_shapes=[(2, 3)])
    validate(loaded.graph)
    mul, add, relu = loaded.graph.nodes
    assert (add.op, add.attrs.get("inplace"), relu.op, relu.attrs.get("inplace")) == ("Add", 1, "Relu", 1)
    assert mul.outputs[0] in add.inputs and add.outputs[0] in relu.inputs
    assert len({mul.outputs[0], add.outputs[0], relu.outputs[0]}) == 3  # SSA: one value per write
    assert loaded.graph.outputs == relu.outputs


# ---- attention -------------------------------------------------------------------------------


def attention_flops(b: int, hq: int, lq: int, lk: int, d: int, dv: int, masked: bool) -> tuple[int, int]:
    """The agreed convention: QK^T, a scale multiply and (masked) an add per score, softmax
    5n-2 per row, probs@V."""
    scores = b * hq * lq * lk
    flops = scores * (2 * d - 1) + scores + (scores if masked else 0) + b * hq * lq * (5 * lk - 2)
    flops += b * hq * lq * dv * (2 * lk - 1)
    return flops, scores * d + b * hq * lq * dv * lk


@pytest.mark.parametrize("causal", [False, True])
def test_sdpa_is_one_attention_node(causal: bool) -> None:
    p = prof(lambda s, q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal),
             (1, 2, 5, 8), (1, 2, 5, 8), (1, 2, 5, 8))
    assert [x.op for x in p.layers] == ["Attention"]
    assert (p.totals.flops, p.totals.macs) == attention_flops(1, 2, 5, 5, 8, 8, masked=causal)


def test_sdpa_with_mask_gqa_and_scale() -> None:
    def f(s: nn.Module, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.1, enable_gqa=True)

    p = prof(f, (2, 4, 5, 8), (2, 2, 7, 8), (2, 2, 7, 6), (5, 7))
    assert (p.totals.flops, p.totals.macs) == attention_flops(2, 4, 5, 7, 8, 6, masked=True)
    node = next(n for n in edgeprof.load(Fn(f), input_shapes=[(2, 4, 5, 8), (2, 2, 7, 8), (2, 2, 7, 6), (5, 7)]
                                         ).graph.nodes if n.op == "Attention")
    assert (node.attrs["q_num_heads"], node.attrs["kv_num_heads"], node.attrs["scale"]) == (4, 2, 0.1)


def test_sdpa_three_dim_inputs_are_one_head_per_batch_entry() -> None:
    p = prof(lambda s, q, k, v: F.scaled_dot_product_attention(q, k, v), (3, 5, 8), (3, 6, 8), (3, 6, 8))
    assert (p.totals.flops, p.totals.macs) == attention_flops(3, 1, 5, 6, 8, 8, masked=False)


def test_hand_written_attention_equals_sdpa() -> None:
    def eager(s: nn.Module, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        scores = torch.matmul(q, k.transpose(-2, -1)) * 0.125
        return torch.matmul(torch.softmax(scores + m, dim=-1), v)

    def fused(s: nn.Module, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m)

    shapes = [(2, 3, 6, 8), (2, 3, 6, 8), (2, 3, 6, 8), (1, 1, 6, 6)]
    pe, pf = prof(eager, *shapes), prof(fused, *shapes)
    assert (pe.totals.flops, pe.totals.macs) == (pf.totals.flops, pf.totals.macs)
    assert (pf.totals.flops, pf.totals.macs) == attention_flops(2, 3, 6, 6, 8, 8, masked=True)


def test_multihead_attention_paths() -> None:
    e, h, length = 8, 2, 5
    mha = nn.MultiheadAttention(e, h, batch_first=True)
    in_proj = length * 3 * e * 2 * e  # 3E outputs per token, dot products of E plus bias
    out_proj = length * e * 2 * e
    att, att_macs = attention_flops(1, h, length, length, e // h, e // h, masked=False)
    macs = length * 3 * e * e + att_macs + length * e * e
    p = prof(lambda s, x: s.m(x, x, x, need_weights=False)[0], (1, length, e), m=mha)
    assert (p.totals.flops, p.totals.macs) == (in_proj + att + out_proj, macs)

    def fast(s: nn.Module, x: torch.Tensor) -> torch.Tensor:  # the module's fast path, called directly
        m = s.m
        return torch._native_multi_head_attention(x, x, x, e, h, m.in_proj_weight, m.in_proj_bias, m.out_proj.weight,
                                                  m.out_proj.bias, None, False)[0]

    p = prof(fast, (1, length, e), m=mha)
    assert (p.totals.flops, p.totals.macs) == (in_proj + att + out_proj, macs)
    # need_weights=True takes torch's explicit path: Q is scaled (L·E multiplies instead of one
    # per score) and the weights are averaged over the heads (a mean of h per score)
    p = prof(lambda s, x: s.m(x, x, x)[0], (1, length, e), m=mha)
    scores = h * length * length
    assert (p.totals.flops, p.totals.macs) == (in_proj + att - scores + length * e + length * length * h + out_proj,
                                               macs)


# ---- recurrent ---------------------------------------------------------------------------------


def lstm_step(i: int, h: int) -> tuple[int, int]:
    """One LSTM step of one direction, from its primitives: 4H dot products of I (x·W_ih^T) and of H
    (h·W_hh^T), 4H adds joining them, 8H bias adds, 3H sigmoids (4 each), 2H tanh (5 each), the cell
    c = f·c + i·g (3H) and h = o·tanh(c) (H)."""
    flops = 4 * h * (2 * i - 1) + 4 * h * (2 * h - 1) + 4 * h + 8 * h + 3 * h * 4 + 2 * h * 5 + 3 * h + h
    return flops, 4 * h * (i + h)


def test_lstm_bidirectional_two_layers_every_step() -> None:
    seq, batch, i, h = 7, 3, 4, 5
    lstm = nn.LSTM(i, h, num_layers=2, bidirectional=True)
    p = prof(lambda s, x: s.r(x)[0], (seq, batch, i), r=lstm)
    f0, m0 = lstm_step(i, h)
    f1, m1 = lstm_step(2 * h, h)
    steps = seq * batch * 2
    assert (p.totals.flops, p.totals.macs) == (steps * (f0 + f1), steps * (m0 + m1))
    assert [x.op for x in p.layers if x.category == "recurrent"] == ["LSTM", "LSTM"]
    assert p.totals.params == sum(t.numel() for t in lstm.parameters())


def test_lstm_batch_first_without_bias() -> None:
    lstm = nn.LSTM(3, 4, batch_first=True, bias=False)
    p = prof(lambda s, x: s.r(x)[0], (2, 6, 3), r=lstm)
    f, m = lstm_step(3, 4)
    assert (p.totals.flops, p.totals.macs) == (12 * (f - 8 * 4), 12 * m)


def test_gru_and_rnn() -> None:
    seq, batch, i, h = 5, 2, 4, 3
    p = prof(lambda s, x: s.r(x)[0], (seq, batch, i), r=nn.GRU(i, h))
    # 3H dot products of I+H (2(I+H)-1 each, the x and h parts joined), 6H bias adds, 2H sigmoids,
    # H multiplies by r, H tanh, h' = (1-z)·n + z·h (4H)
    step = 3 * h * (2 * (i + h) - 1) + 6 * h + 2 * h * 4 + h + h * 5 + 4 * h
    assert (p.totals.flops, p.totals.macs) == (seq * batch * step, seq * batch * 3 * h * (i + h))
    p = prof(lambda s, x: s.r(x)[0], (seq, batch, i), r=nn.RNN(i, h, nonlinearity="relu", bidirectional=True))
    step = h * (2 * (i + h) - 1) + 2 * h + h
    assert (p.totals.flops, p.totals.macs) == (2 * seq * batch * step, 2 * seq * batch * h * (i + h))


def test_lstm_cell_is_counted_from_its_primitives() -> None:
    i, h, batch = 4, 5, 2
    p = prof(lambda s, x: s.c(x)[0], (batch, i), c=nn.LSTMCell(i, h))
    f, m = lstm_step(i, h)
    assert (p.totals.flops, p.totals.macs) == (batch * f, batch * m)
