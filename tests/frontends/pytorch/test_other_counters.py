"""Cross-checks against another counter's published test expectations.

PyTorch's own counter (``torch.utils.flop_counter.FlopCounterMode``) counts 2 x MACs for
matmuls, convolutions and SDPA and nothing for elementwise ops (docs/comparison.md), so each
expectation below is compared with 2 x edgeprof's MACs of the same forward.

Source: pytorch/pytorch, ``test/test_flop_counter.py`` at commit
067f1d9d1fec00506e2b6f2bcdb95005e8cbd2ba (``test_flop_counter_variety``, ``test_op``,
``test_convs``, ``test_sdpa``, ``test_module``). Only forward expectations are used; the
expected numbers are copied verbatim from that file's ``assertExpectedInline``/``assertEqual``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import edgeprof
from tests.frontends.pytorch.test_ops import Fn


def torch_flops(fn: Callable[..., Any], *shapes: tuple[int, ...], **modules: nn.Module) -> int:
    """FlopCounterMode's figure for ``fn``, from edgeprof: 2 x MACs (no op left uncounted)."""
    p = edgeprof.profile(Fn(fn, **modules), input_shapes=list(shapes))
    assert not p.not_counted, p.not_counted
    return 2 * p.totals.macs


def test_flop_counter_variety() -> None:
    # mm 4x5x6, addmm (beta = alpha = 0.5), matmul 5x6x7, einsum 6x7x8, Linear(9, 10) on 8 rows: "3012"
    def fn(s: nn.Module, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor, d: torch.Tensor, e: torch.Tensor,
           f: torch.Tensor, g: torch.Tensor, h: torch.Tensor, i: torch.Tensor, x: torch.Tensor) -> Any:
        return (torch.mm(a, b), torch.addmm(c, a, b, beta=0.5, alpha=0.5), torch.matmul(d, e),
                torch.einsum("ab,bc->ac", f, g), s.mod(x), h, i)

    shapes = [(4, 5), (5, 6), (4, 6), (5, 6), (6, 7), (6, 7), (7, 8), (1,), (1,), (8, 9)]
    assert torch_flops(fn, *shapes, mod=nn.Linear(9, 10)) == 3012


@pytest.mark.parametrize(("fn", "shapes", "expected"), [
    (lambda s, a, b: torch.mm(a, b), [(4, 5), (5, 6)], 240),
    (lambda s, a, b: torch.bmm(a, b), [(3, 4, 5), (3, 5, 6)], 720),
    # the three addmm calls of test_op: 720 together
    (lambda s, c1, c2, c3, a, b: (torch.addmm(c1, a, b), torch.addmm(c2, a, b), torch.addmm(c3, a, b)),
     [(4, 6), (4, 1), (6,), (4, 5), (5, 6)], 720),
    (lambda s, c, a, b: torch.baddbmm(c, a, b), [(3, 4, 6), (3, 4, 5), (3, 5, 6)], 720),
    (lambda s, x, w: torch.conv2d(x, w, padding=1), [(2, 3, 6, 6), (6, 3, 4, 4)], 28800),
    (lambda s, x, w: torch.conv1d(x, w, padding=1), [(2, 3, 6), (6, 3, 4)], 1440),
    # test_convs: the forward convolution figures it states
    (lambda s, x, w: F.conv_transpose2d(x, w), [(1, 1, 2, 2), (1, 1, 2, 2)], 32),
    (lambda s, x, w: F.conv2d(x, w), [(1, 1, 2, 2), (1, 1, 1, 1)], 8),
], ids=["mm", "bmm", "addmm", "baddbmm", "conv2d", "conv1d", "conv_transpose2d", "conv2d_1x1"])
def test_op(fn: Callable[..., Any], shapes: list[tuple[int, ...]], expected: int) -> None:
    assert torch_flops(fn, *shapes) == expected


@pytest.mark.parametrize(("lq", "lk", "expected"), [(128, 128, 134217728), (128, 256, 268435456)])
def test_sdpa_forward(lq: int, lk: int, expected: int) -> None:
    """test_sdpa: batch 4, 8 heads, head dim 64, is_causal=True (counted over the full score
    matrix by both tools), float16 on CUDA there; the count does not depend on the device."""
    q, kv = (4, 8, lq, 64), (4, 8, lk, 64)
    assert torch_flops(lambda s, a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), q, kv, kv) == expected


@pytest.mark.skipif(importlib.util.find_spec("torchvision") is None, reason="no torchvision")
def test_module_resnet18() -> None:
    """test_module: ResNet-18 at 1x3x224x224, forward + backward "10884440064" (3 x the forward:
    every convolution's backward is two of its forwards, the stem's input gradient included), and
    layer1's forward convolutions "924844032"."""
    from torchvision import models

    p = edgeprof.profile(models.resnet18(), input_shapes=[(1, 3, 224, 224)])
    assert 3 * 2 * p.totals.macs == 10884440064
    layer1 = sum(x.macs for x in p.layers if x.op == "Conv" and x.scope.startswith("layer1"))
    assert 2 * layer1 == 924844032
