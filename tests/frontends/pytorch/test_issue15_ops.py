"""Issue #15 ("real models, counted in full"), items 9-14: grid_sample, torch._scaled_mm,
flex_attention and other higher-order operators, profiler markers, norms without affine
parameters, and parameters on the right row (an LSTM's weights; QGemm's int8 weights).

Every expectation is a closed form worked out by hand from docs/ops-conventions.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import onnx
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto

import edgeprof
from edgeprof.ir import validate
from edgeprof.report.model import Profile
from tests.frontends.onnx_builders import make_model, node, tensor, vinfo
from tests.frontends.pytorch.test_ops import Fn, counted, prof
from tests.opcall import cost


def rows(p: Profile, op: str) -> list[Any]:
    return [x for x in p.layers if x.op == op]


# ---- item 9: F.grid_sample -> GridSample --------------------------------------------------


@pytest.mark.parametrize(("mode", "padding", "per_point", "per_out"), [
    # per grid point and dim: unnormalise 2 + mode (nearest 1, linear 3, cubic 28) + padding
    # (zeros 0, border 2, reflection 7); per output element: nearest 0, bilinear 9, bicubic 35.
    ("bilinear", "zeros", 2 + 3 + 0, 9),
    ("nearest", "border", 2 + 1 + 2, 0),
    ("bicubic", "reflection", 2 + 28 + 7, 35),
])
def test_grid_sample_is_counted_like_onnx_gridsample(mode: str, padding: str, per_point: int, per_out: int) -> None:
    p = prof(lambda s, x, g: F.grid_sample(x, g, mode=mode, padding_mode=padding, align_corners=False),
             (1, 3, 8, 8), (1, 4, 5, 2))
    [row] = rows(p, "GridSample")
    points, out = 1 * 4 * 5, 1 * 3 * 4 * 5
    assert (row.flops, row.macs) == (points * 2 * per_point + per_out * out, 0)


def test_grid_sample_3d() -> None:
    p = prof(lambda s, x, g: F.grid_sample(x, g, align_corners=True), (1, 2, 4, 4, 4), (1, 2, 3, 3, 3))
    [row] = rows(p, "GridSample")
    # 18 points x 3 dims x (2 + 3); trilinear 3·(2³-1) = 21 per output element of 1·2·2·3·3
    assert row.flops == 18 * 3 * 5 + 21 * 36


# ---- item 10: torch._scaled_mm ----------------------------------------------------------------


def test_scaled_mm_is_m_k_n_macs_at_fp8() -> None:
    def fn(s: nn.Module, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        one = torch.ones((), dtype=torch.float32)
        return torch._scaled_mm(a.to(torch.float8_e4m3fn), b.to(torch.float8_e4m3fn).t(), scale_a=one,
                                scale_b=one, out_dtype=torch.bfloat16)

    p = prof(fn, (16, 32), (8, 32))
    [mm] = rows(p, "MatMul")
    assert (mm.flops, mm.macs, mm.precision) == ((2 * 32 - 1) * 16 * 8, 16 * 32 * 8, "float8e4m3fn")
    muls = rows(p, "Mul")
    assert [(m.flops, m.precision) for m in muls] == [(128, "bfloat16")] * 2  # · scale_a, · scale_b
    assert p.totals.macs == 16 * 32 * 8


# ---- item 11: flex_attention and other higher-order operators -----------------------------


def _flex(score_mod: Callable[..., Any] | None = None, mask_mod: Callable[..., Any] | None = None) -> nn.Module:
    from torch.nn.attention.flex_attention import create_block_mask, flex_attention

    def fn(s: nn.Module, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        bm = None
        if mask_mod is not None:
            bm = create_block_mask(mask_mod, None, None, q.shape[2], k.shape[2], device="cpu")
        return flex_attention(q, k, v, score_mod=score_mod, block_mask=bm, enable_gqa=q.shape[1] != k.shape[1])

    return Fn(fn)


def _flex_profile(model: nn.Module, q: tuple[int, ...], kv: tuple[int, ...]) -> Profile:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        validate(edgeprof.load(model, input_shapes=[q, kv, kv]).graph)
        return edgeprof.profile(model, input_shapes=[q, kv, kv])


def _sdpa(b: int, h: int, s: int, t: int, d: int, masked: bool) -> tuple[int, int]:
    scores = b * h * s * t
    flops = (2 * d - 1) * scores + scores + b * h * s * (5 * t - 2) + (2 * t - 1) * b * h * s * d
    return flops + (scores if masked else 0), 2 * d * scores


def test_flex_attention_is_counted_like_sdpa() -> None:
    p = _flex_profile(_flex(), (2, 4, 8, 16), (2, 4, 8, 16))
    assert not p.not_counted
    [att] = rows(p, "Attention")
    assert (att.flops, att.macs) == _sdpa(2, 4, 8, 8, 16, masked=False)
    sdpa = prof(lambda s, q, k, v: F.scaled_dot_product_attention(q, k, v), (2, 4, 8, 16), (2, 4, 8, 16),
                (2, 4, 8, 16))
    assert (att.flops, att.macs) == next((x.flops, x.macs) for x in sdpa.layers if x.op == "Attention")


def test_flex_attention_gqa_mask_and_score_mod() -> None:
    def causal(b: Any, h: Any, q: Any, kv: Any) -> Any:
        return q >= kv

    def bias(score: Any, b: Any, h: Any, q: Any, kv: Any) -> Any:
        return score + (q - kv)

    p = _flex_profile(_flex(bias, causal), (1, 4, 8, 8), (1, 2, 8, 8))
    assert not p.not_counted
    [att] = rows(p, "Attention")
    assert (att.flops, att.macs) == _sdpa(1, 4, 8, 8, 8, masked=True)  # the mask: one add per score
    # The score_mod's arithmetic on the (1, 4, 8, 8) score grid: q - kv (int, 8·8) and + (float, 256).
    after = p.layers[p.layers.index(att) + 1:]
    assert [(x.op, x.flops, x.int_ops) for x in after if x.flops or x.int_ops] == [("Sub", 0, 64), ("Add", 256, 0)]
    # The mask_mod: q >= kv on the 8x8 grid (integer comparisons), feeding the Attention node.
    assert any(x.op == "GreaterOrEqual" and x.int_ops == 64 for x in p.layers)


def test_an_unknown_higher_order_operator_is_a_not_counted_row() -> None:
    model = Fn(lambda s, x: torch.cond(x.sum() > 0, lambda t: t.sin(), lambda t: t.cos(), (x,)))
    p = edgeprof.profile(model, input_shapes=[(2, 3)])
    assert [(n.op, n.count) for n in p.not_counted] == [("higher_order::cond", 1)]
    assert rows(p, "higher_order::cond")[0].state == "not_counted"


# ---- item 12: profiler markers -------------------------------------------------------------------


def test_record_function_markers_do_not_make_a_lower_bound() -> None:
    def fn(s: nn.Module, x: torch.Tensor) -> torch.Tensor:
        with torch.autograd.profiler.record_function("block"):
            return s.fc(x)

    p = prof(fn, (2, 4), fc=nn.Linear(4, 3))
    assert counted(p) == [("Gemm", 2 * 4 * 3 * 2, 4 * 3 * 2)]
    assert not any("record_function" in x.op for x in p.layers)


# ---- item 13: norms without affine parameters ------------------------------------------------


@pytest.mark.parametrize(("module", "affine", "plain"), [
    # x (2, 3, 4, 8): numel 192; BN eval: (2 + a)·numel + 3·C
    (nn.BatchNorm2d(3), 4 * 192 + 9, None),
    (nn.BatchNorm2d(3, affine=False), None, 2 * 192 + 9),
    # GroupNorm: (5 + a)·numel + 3·N·G
    (nn.GroupNorm(1, 3), 7 * 192 + 6, None),
    (nn.GroupNorm(1, 3, affine=False), None, 5 * 192 + 6),
    # LayerNorm over the last dim (rows 24, n 8): rows·(5n+3) + rows·n per scale and bias
    (nn.LayerNorm([8]), 24 * (7 * 8 + 3), None),
    (nn.LayerNorm([8], bias=False), 24 * (6 * 8 + 3), None),
    (nn.LayerNorm([8], elementwise_affine=False), None, 24 * (5 * 8 + 3)),
    # InstanceNorm: torch runs batch_norm over (1, N·C, ...) in training mode, no running stats:
    # (5 + a)·numel + 3·N·C
    (nn.InstanceNorm2d(3), None, 5 * 192 + 3 * 6),
    (nn.InstanceNorm2d(3, affine=True), 7 * 192 + 3 * 6, None),
])
def test_norms_charge_scale_and_bias_only_when_they_exist(module: nn.Module, affine: int | None,
                                                          plain: int | None) -> None:
    p = prof(lambda s, x: s.norm(x), (2, 3, 4, 8), norm=module.eval())
    [(op, flops, _)] = counted(p)
    assert flops == (affine if affine is not None else plain), op


def test_onnx_norm_formulas_without_scale_or_bias() -> None:
    x = (2, 3, 4)  # rows 6, n 4
    assert cost("LayerNormalization", [x, (4,), (4,)], [x]).flops == 6 * (7 * 4 + 3)
    assert cost("LayerNormalization", [x, (4,)], [x]).flops == 6 * (6 * 4 + 3)  # ONNX: B is optional
    assert cost("LayerNormalization", [x, None, None], [x]).flops == 6 * (5 * 4 + 3)
    assert cost("RMSNormalization", [x, (4,)], [x]).flops == 6 * (4 * 4 + 3)
    assert cost("RMSNormalization", [x, None], [x]).flops == 6 * (3 * 4 + 3)
    bn = [(2, 3, 4, 4), None, None, (3,), (3,)]
    assert cost("BatchNormalization", bn, [(2, 3, 4, 4)]).flops == 2 * 96 + 9
    assert cost("InstanceNormalization", [(2, 3, 4, 4), None, None], [(2, 3, 4, 4)]).flops == 5 * 96 + 18
    assert cost("GroupNormalization", [(2, 4, 3, 3), (4,), None], [(2, 4, 3, 3)], num_groups=2).flops == 6 * 72 + 12


def test_batch_norm_training_updates_running_stats_only_when_it_has_them() -> None:
    def train(bn: nn.Module) -> list[int]:
        p = edgeprof.profile(Fn(lambda s, x: s.bn(x), bn=bn.train()), input_shapes=[(2, 3, 4, 4)], eval_mode=False)
        return [x.flops for x in rows(p, "BatchNormalization")]

    numel, c = 96, 3
    # statistics, normalise, scale, bias: 7·numel + 3·C; running mean and var: 3·C each
    assert train(nn.BatchNorm2d(3)) == [7 * numel + 3 * c + 2 * 3 * c]
    assert train(nn.BatchNorm2d(3, track_running_stats=False)) == [7 * numel + 3 * c]
    assert train(nn.BatchNorm2d(3, affine=False, track_running_stats=False)) == [5 * numel + 3 * c]


# ---- item 14: parameters on the right row ------------------------------------------------


@pytest.mark.parametrize(("bidirectional", "bias"), [(False, True), (True, True), (True, False)])
def test_lstm_row_holds_the_lstm_weights(bidirectional: bool, bias: bool) -> None:
    lstm = nn.LSTM(16, 32, num_layers=2, bidirectional=bidirectional, bias=bias)
    p = prof(lambda s, x: s.rnn(x)[0], (5, 1, 16), rnn=lstm)
    total = sum(t.numel() for t in lstm.parameters())
    assert p.totals.params == total
    assert sum(x.params for x in rows(p, "LSTM")) == total
    assert all(x.params == 0 for x in p.layers if x.op != "LSTM")
    dirs = 2 if bidirectional else 1
    first = 4 * 32 * (16 + 32) * dirs + (2 * 4 * 32 * dirs if bias else 0)
    assert [x.params for x in rows(p, "LSTM")] == [first, total - first]


def test_an_lstm_called_twice_counts_its_weights_once() -> None:
    lstm = nn.LSTM(4, 6)
    p = prof(lambda s, x: s.rnn(s.rnn(x)[0][..., :4])[0], (3, 1, 4), rnn=lstm)
    assert p.totals.params == sum(t.numel() for t in lstm.parameters())


def test_qgemm_int8_weights_and_bias_are_parameters() -> None:
    """MobileNetV2 QOperator's classifier is a com.microsoft QGemm whose int8 B was dropped."""
    rng = np.random.default_rng(0)
    inits = [
        tensor("a_scale", np.float32(0.02)), tensor("a_zp", np.int8(0)),
        tensor("B", rng.integers(-128, 127, (64, 10), dtype=np.int8)),
        tensor("b_scale", np.float32(0.01)), tensor("b_zp", np.int8(0)),
        tensor("C", rng.integers(-1000, 1000, (10,), dtype=np.int32)),
        tensor("y_scale", np.float32(0.05)), tensor("y_zp", np.int8(0)),
    ]
    model = make_model(
        [node("QGemm", ["A", "a_scale", "a_zp", "B", "b_scale", "b_zp", "C", "y_scale", "y_zp"], ["Y"],
              domain="com.microsoft")],
        [vinfo("A", [1, 64], TensorProto.INT8)], [vinfo("Y", [1, 10], TensorProto.INT8)], inits,
        domains={"com.microsoft": 1},
    )
    onnx.checker.check_model(model)
    p = edgeprof.profile(model)
    assert not p.not_counted
    assert p.totals.params == 64 * 10 + 10
    [row] = [x for x in p.layers if x.op.endswith("QGemm")]
    assert (row.params, row.macs) == (650, 640)
