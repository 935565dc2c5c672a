"""Cross-checks against fvcore's, ptflops' and thop's published test expectations.

Each case rebuilds the module and input of one of those tools' own tests, profiles it with
edgeprof and converts edgeprof's figures to the tool's convention as docs/comparison.md states:

- fvcore ``flop_count``/``FlopCountAnalysis``: one "flop" per MAC for conv, linear (bias add not
  counted), matmul, bmm and einsum, so its figure is edgeprof's ``macs``; ``flop_count`` returns
  GFlops (the count / 1e9), ``FlopCountAnalysis`` plain counts. Its adaptive_avg_pool2d handle
  counts one per input element, which is edgeprof's FLOPs of the ReduceMean it becomes
  ((n - 1) adds + 1 divide per output = numel of the input).
  Source: facebookresearch/fvcore, ``tests/test_flop_count.py`` at commit
  017141c42f50a0328182c1fd42b1de80c3a58efe.
- ptflops ``get_model_complexity_info`` (batch 1 prepended to the input resolution): MACs of
  conv/linear plus one per output element for the bias add, so its figure is edgeprof's ``macs``
  + numel(output) of the layer with bias.
  Source: sovrasov/flops-counter.pytorch, ``tests/common_test.py`` at commit
  2c85b93dc2838776779d44431652170baf47df2f.
- thop ``profile``: MACs of conv/linear with the bias add not counted, 0 for ReLU, so its figure
  is edgeprof's ``macs``.
  Source: Lyken17/pytorch-OpCounter, ``tests/test_conv2d.py`` at commit
  572085fc432b9d0aab522d1d1ca3fdde94c27ca5, ``tests/test_matmul.py`` at commit
  67cf5bac6e2931a6f108fa154818904e35aa9143, ``tests/test_relu.py`` at commit
  c574f0677ae4f26f9924724dc183a75d81fcda35.

The expected numbers are those tools' own (literal values or their closed-form ``gt_flop``
expressions, copied verbatim). fvcore's batch-norm and bilinear-upsample handles and thop's
randomised cases are left out: the first two count by other conventions than edgeprof's
(fvcore: 1 or 4 per BN element by mode, 4 per upsampled output; edgeprof: docs/ops-conventions.md)
and the last have no fixed expectation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn as nn

import edgeprof
from edgeprof.report.model import Profile
from tests.frontends.pytorch.test_ops import Fn


def prof(model: nn.Module, *shapes: tuple[int, ...]) -> Profile:
    p = edgeprof.profile(model, input_shapes=list(shapes))
    assert not p.not_counted, p.not_counted
    return p


def fn_macs(fn: Callable[..., Any], *shapes: tuple[int, ...]) -> int:
    return prof(Fn(fn), *shapes).totals.macs


# --------------------------------------------------------------------------- fvcore


class ThreeNet(nn.Module):
    """fvcore's ThreeNet: 1x1 conv, adaptive average pool to 1x1, two linears."""

    def __init__(self, input_dim: int, conv_dim: int, linear_dim: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(input_dim, conv_dim, 1, 1)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.linear1 = nn.Linear(conv_dim, linear_dim)
        self.linear2 = nn.Linear(linear_dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear2(self.linear1(torch.flatten(self.pool(self.conv(x)), 1)))


def test_fvcore_linear() -> None:
    """fvcore tests/test_flop_count.py@017141c4 ``test_nn`` and ``test_linear`` (2-D and the
    3-D input): gt_flop = batch_size * input_dim * output_dim / 1e9 (bias not counted) =
    edgeprof MACs / 1e9."""
    p = prof(nn.Linear(8, 4), (5, 8))  # test_nn
    assert p.totals.macs / 1e9 == 5 * 8 * 4 / 1e9
    batch_size, input_dim, output_dim, extra_dim = 5, 10, 20, 5
    p = prof(nn.Linear(input_dim, output_dim), (batch_size, input_dim))
    assert p.totals.macs / 1e9 == batch_size * input_dim * output_dim / 1e9
    p = prof(nn.Linear(input_dim, output_dim), (batch_size, extra_dim, input_dim))
    assert p.totals.macs / 1e9 == batch_size * input_dim * extra_dim * output_dim / 1e9


# (conv_dim, batch, in, out, spatial, kernel, padding, stride, groups, transpose, output_padding)
FVCORE_CONVS = [
    (2, 5, 10, 3, 15, 3, 1, 1, 1, False, 0),
    (2, 2, 10, 6, 20, 3, 1, 2, 1, False, 0),
    (2, 5, 16, 8, 15, 5, 2, 1, 4, False, 0),
    (2, 5, 16, 8, 15, 3, 1, 1, 8, False, 0),
    (1, 5, 10, 3, 15, 3, 1, 1, 1, False, 0),
    (3, 5, 10, 3, 15, 3, 1, 1, 1, False, 0),
    (2, 5, 10, 3, 15, 3, 1, 1, 1, True, 0),
    (2, 5, 10, 3, 15, 3, 1, 2, 1, True, 0),
    (2, 5, 10, 3, 15, 3, 1, 3, 1, True, 2),
]


@pytest.mark.parametrize(
    ("conv_dim", "batch_size", "input_dim", "output_dim", "spatial_dim", "kernel_size", "padding",
     "stride", "group_size", "transpose", "output_padding"), FVCORE_CONVS,
    ids=["conv2d", "conv2d_stride2", "group_conv", "depthwise", "conv1d", "conv3d",
         "conv_transpose2d", "conv_transpose2d_stride2", "conv_transpose2d_output_padding"])
def test_fvcore_conv(conv_dim: int, batch_size: int, input_dim: int, output_dim: int, spatial_dim: int,
                     kernel_size: int, padding: int, stride: int, group_size: int, transpose: bool,
                     output_padding: int) -> None:
    """fvcore tests/test_flop_count.py@017141c4 ``test_conv`` (its nine cases, bias on): gt_flop =
    batch * in * out * k^d * spatial_size^d / groups / 1e9, spatial_size the output size for a
    convolution and the input size for a transposed one (counted from the input side, as
    edgeprof does), bias not counted = edgeprof MACs / 1e9."""
    if transpose:
        layer: nn.Module = [nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d][conv_dim - 1](
            input_dim, output_dim, kernel_size, stride, padding, groups=group_size,
            output_padding=output_padding)
        spatial_size = spatial_dim
    else:
        layer = [nn.Conv1d, nn.Conv2d, nn.Conv3d][conv_dim - 1](
            input_dim, output_dim, kernel_size, stride, padding, groups=group_size)
        spatial_size = ((spatial_dim + 2 * padding) - kernel_size) // stride + 1
    p = prof(layer, (batch_size, input_dim) + (spatial_dim,) * conv_dim)
    gt_flop = (batch_size * input_dim * output_dim * (kernel_size ** conv_dim)
               * (spatial_size ** conv_dim) / group_size / 1e9)
    assert p.totals.macs / 1e9 == gt_flop


@pytest.mark.parametrize(("x", "y", "batch"), [
    ((20, 10), (10, 100), 1),          # test_matmul
    ((1, 20, 10), (1, 10, 100), 1),    # test_matmul_broadcast
    ((2, 2, 20, 10), (2, 2, 10, 100), 4),
    ((1, 20, 10), (10, 100), 1),
    ((2, 20, 10), (10, 100), 2),
], ids=["2d", "batch1", "batch2x2", "batch1_x_2d", "batch2_x_2d"])
def test_fvcore_matmul(x: tuple[int, ...], y: tuple[int, ...], batch: int) -> None:
    """fvcore tests/test_flop_count.py@017141c4 ``test_matmul`` and ``test_matmul_broadcast``:
    m, n, p = 20, 10, 100, gt_flop = batch * m * n * p / 1e9 = edgeprof MACs / 1e9."""
    m, n, p = 20, 10, 100
    assert fn_macs(lambda s, a, b: torch.matmul(a, b), x, y) / 1e9 == batch * m * n * p / 1e9


def test_fvcore_bmm() -> None:
    """fvcore tests/test_flop_count.py@017141c4 ``test_bmm``: n, c, t, p = 2, 5, 2, 12,
    gt_flop = n * t * p * c / 1e9 = edgeprof MACs / 1e9."""
    n, c, t, p = 2, 5, 2, 12
    assert fn_macs(lambda s, a, b: torch.bmm(a, b), (n, c, t), (n, t, p)) / 1e9 == n * t * p * c / 1e9


def test_fvcore_einsum() -> None:
    """fvcore tests/test_flop_count.py@017141c4 ``test_einsum`` ("nct,ncp->ntp" and
    "ntg,ncg->nct", gt_flop = n * t * p * c / 1e9 and n * t * g * c / 1e9) and
    ``test_complicated_einsum`` ("nc,nchw->hw" on 3x4 and 3x4x2x3: 72) = edgeprof MACs."""
    n, c, t, p, g = 1, 5, 2, 12, 6
    assert fn_macs(lambda s, a, b: torch.einsum("nct,ncp->ntp", a, b), (n, c, t), (n, c, p)) / 1e9 \
        == n * t * p * c / 1e9
    assert fn_macs(lambda s, a, b: torch.einsum("ntg,ncg->nct", a, b), (n, t, g), (n, c, g)) / 1e9 \
        == n * t * g * c / 1e9
    assert fn_macs(lambda s, a, b: torch.einsum("nc,nchw->hw", a, b), (3, 4), (3, 4, 2, 3)) == 72


def test_fvcore_torch_mm() -> None:
    """fvcore tests/test_flop_count.py@017141c4 ``test_torch_mm``: torch.mm and torch.matmul of
    3x4 by 4x5: 60 = edgeprof MACs."""
    assert fn_macs(lambda s, a, b: torch.mm(a, b), (3, 4), (4, 5)) == 60
    assert fn_macs(lambda s, a, b: torch.matmul(a, b), (3, 4), (4, 5)) == 60


def test_fvcore_three_net() -> None:
    """fvcore tests/test_flop_count.py@017141c4 ``test_threeNet`` (GFlops by operator: conv
    4*5*2*10*10/1e9, linear (4*5*3 + 4*3*1)/1e9, adaptive_avg_pool2d 2e-6) and
    ``test_flop_counter_class`` (by module: conv 4000, linear1 60, linear2 12, pool 4000 // 2,
    total their sum). conv/linear = edgeprof MACs; pool = edgeprof FLOPs of the ReduceMean
    (one per input element in both)."""
    batch_size, input_dim, conv_dim, spatial_dim, linear_dim = 4, 2, 5, 10, 3
    p = prof(ThreeNet(input_dim, conv_dim, linear_dim), (batch_size, input_dim, spatial_dim, spatial_dim))
    flop1 = batch_size * conv_dim * input_dim * spatial_dim * spatial_dim
    flop_linear1 = batch_size * conv_dim * linear_dim
    flop_linear2 = batch_size * linear_dim * 1
    by_scope = {x.scope: x for x in p.layers if x.flops or x.macs}
    assert set(by_scope) == {"conv", "pool", "linear1", "linear2"}
    assert by_scope["conv"].op == "Conv" and by_scope["conv"].macs == flop1
    assert by_scope["linear1"].macs == flop_linear1
    assert by_scope["linear2"].macs == flop_linear2
    assert by_scope["pool"].macs == 0 and by_scope["pool"].flops == flop1 // input_dim
    # flop_count's GFlops by operator
    ops = {r.op: r for r in p.by_operator()}
    assert ops["Conv"].macs / 1e9 == flop1 / 1e9
    assert ops["Gemm"].macs / 1e9 == flop_linear1 / 1e9 + flop_linear2 / 1e9
    assert ops["ReduceMean"].flops / 1e9 == 2e-6
    # FlopCountAnalysis.by_module()[""]: the total
    assert p.totals.macs + by_scope["pool"].flops == flop1 + flop_linear1 + flop_linear2 + flop1 // input_dim


# --------------------------------------------------------------------------- ptflops


def ptflops_macs(model: nn.Module, input_res: tuple[int, ...]) -> tuple[int, int]:
    """ptflops' (MACs, params) from edgeprof: MACs + one bias add per output element of every
    layer with a bias (ptflops' conv/linear hooks add numel(output) when bias is set)."""
    # the cases here have only conv/linear layers with a bias: each MAC layer adds numel(output)
    assert all(m.bias is not None for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    p = prof(model, (1, *input_res))
    bias_adds = sum(math.prod(int(d) for d in x.output_shape) for x in p.layers if x.macs)
    return p.totals.macs + bias_adds, p.totals.params


def test_ptflops_conv() -> None:
    """ptflops tests/common_test.py@2c85b93d ``test_conv``: Conv2d(3, 2, 3, bias=True) on
    1x3x224x224: MACs 2759904 = 2 * 27 * 222^2 (edgeprof MACs) + 2 * 222^2 (the bias adds),
    params 3 * 3 * 2 * 3 + 2."""
    net = nn.Sequential(nn.Conv2d(3, 2, 3, bias=True))
    macs, params = ptflops_macs(net, (3, 224, 224))
    assert params == 3 * 3 * 2 * 3 + 2
    assert macs == 2759904
    p = prof(net, (1, 3, 224, 224))
    assert p.totals.macs == 2759904 - 2 * 222 * 222
    # edgeprof's exact FLOPs of a conv with bias: (2K - 1) + 1 per output = 2 x MACs
    assert p.totals.flops == 2 * p.totals.macs


@pytest.mark.parametrize(("input_res", "expected"), [((3,), 8), ((4, 5, 3), (3 * 2 + 2) * 4 * 5)],
                         ids=["fc", "fc_multidim"])
def test_ptflops_fc(input_res: tuple[int, ...], expected: int) -> None:
    """ptflops tests/common_test.py@2c85b93d ``test_fc`` (input (3,): 8) and ``test_fc_multidim``
    (input (4, 5, 3): (3 * 2 + 2) * 4 * 5), Linear(3, 2, bias=True), params 3 * 2 + 2: 6 MACs +
    2 bias adds per row; ``test_input_constructor_tensor``/``_dict`` state the same (8, 8)."""
    macs, params = ptflops_macs(nn.Sequential(nn.Linear(3, 2, bias=True)), input_res)
    assert (macs, params) == (expected, 3 * 2 + 2)


# --------------------------------------------------------------------------- thop


@pytest.mark.parametrize("bias", [False, True], ids=["no_bias", "bias"])
def test_thop_conv2d(bias: bool) -> None:
    """thop tests/test_conv2d.py@572085fc ``test_conv2d_no_bias`` and ``test_conv2d``:
    Conv2d(3, 12, 5, padding 1) on 1x3x32x32: 810000 with or without bias (thop skips the bias
    add) = edgeprof MACs (12 * 30 * 30 * 3 * 5 * 5)."""
    net = nn.Conv2d(3, 12, kernel_size=(5, 5), stride=1, padding=1, dilation=1, groups=1, bias=bias)
    p = prof(net, (1, 3, 32, 32))
    assert p.totals.macs == 810000
    # edgeprof's FLOPs: (2K - 1) per output, + 1 with bias
    assert p.totals.flops == 2 * 810000 - (0 if bias else 12 * 30 * 30)


def test_thop_linear() -> None:
    """thop tests/test_matmul.py@67cf5bac ``test_matmul_case2`` (first definition: n, in_c, out_c
    = 1, 100, 200): n * in_c * out_c (bias add skipped) = edgeprof MACs."""
    n, in_c, out_c = 1, 100, 200
    assert prof(nn.Linear(in_c, out_c), (n, in_c)).totals.macs == n * in_c * out_c


def test_thop_relu() -> None:
    """thop tests/test_relu.py@c574f067 ``test_relu``: ReLU on 1x100: 0 = edgeprof MACs (edgeprof
    still counts its 100 comparisons as FLOPs)."""
    p = prof(nn.ReLU(), (1, 100))
    assert p.totals.macs == 0
    assert p.totals.flops == 100


def test_fvcore_custom_net_skips_sigmoid() -> None:
    """fvcore tests/test_flop_count.py@017141c4 ``test_skip_ops``: CustomNet (Linear(5, 4),
    Sigmoid) on 10x5 skips aten::sigmoid once; edgeprof counts it (FLOPs, no MACs), so its MACs
    are fvcore's linear count 10 * 5 * 4 and nothing is left uncounted."""
    p = prof(nn.Sequential(nn.Linear(5, 4), nn.Sigmoid()), (10, 5))
    assert p.totals.macs == 10 * 5 * 4
    assert any(x.op == "Sigmoid" and x.flops and not x.macs for x in p.layers)


def test_conversions_differ_only_by_bias() -> None:
    """The same Linear(3, 2) row seen by all three: fvcore/thop 6 (MACs), ptflops 8 (MACs + bias),
    edgeprof FLOPs 12 (2 x 3 x 2: 5 per dot product + 1 bias add)."""
    p = prof(nn.Linear(3, 2), (1, 3))
    assert (p.totals.macs, ptflops_macs(nn.Linear(3, 2), (3,))[0], p.totals.flops) == (6, 8, 12)

