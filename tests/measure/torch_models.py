"""Builders named as ``"tests.measure.torch_models:<name>"`` by the PyTorch measurement tests."""

from __future__ import annotations

import torch


def mlp() -> torch.nn.Module:
    """Linear 512 -> 2048, ReLU, Linear 2048 -> 256: no kernel scratch, so its tensor peak is exact."""
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(512, 2048), torch.nn.ReLU(), torch.nn.Linear(2048, 256))

