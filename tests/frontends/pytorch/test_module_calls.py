"""Per-module tables of PyTorch models carry how many times each module ran."""

from __future__ import annotations

import torch
from torch import nn

import edgeprof
from edgeprof.render.markdown import render_markdown
from edgeprof.render.terminal import ViewOptions


class SharedTwice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = nn.Linear(4, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.block(self.block(x)))


def test_shared_module_calls_and_flops_per_call() -> None:
    p = edgeprof.profile(SharedTwice(), input_shapes=[(1, 4)])
    rows = {r.module: r for r in p.by_module(depth=1)}
    assert rows["block"].calls == 2
    assert rows["head"].calls == 1
    # two calls of a 4->4 FC with bias: 2 * (2*4*4) FLOPs (seed: 2ij with bias)
    assert rows["block"].flops == 2 * 2 * 4 * 4
    assert rows["block"].macs == 2 * 16
    assert p.totals.params == (16 + 4) + (8 + 2)  # the shared module's weights count once
    md = render_markdown(p, ViewOptions(by_module=1))
    assert "| module | calls |" in md
