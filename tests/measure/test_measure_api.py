"""edgeprof.measure on a PyTorch module: the live-tensor peak beside the prediction."""

from __future__ import annotations

import torch
from torch import nn

import edgeprof


def test_torch_module_measured_in_process() -> None:
    model = nn.Sequential(nn.Linear(256, 512), nn.ReLU(), nn.Linear(512, 10))
    p = edgeprof.profile(model, input_shapes=[(64, 256)])
    assert p.memory is not None
    m = edgeprof.measured(p, model=model)
    assert m.memory is not None and m.memory.measurement_error == ""
    peak = m.memory.measured.tensor_peak
    assert peak is not None
    # the input (64x256 float32) is live throughout, and the 64x512 hidden tensor is allocated
    assert peak.input_bytes == 64 * 256 * 4
    assert peak.peak_activation_bytes >= 64 * 256 * 4 + 64 * 512 * 4
    assert m.memory.measured.tensor_peak_minus_predicted_bytes == peak.peak_activation_bytes - p.memory.predicted.peak_activation_bytes
    assert m.totals == p.totals  # the static figures are untouched


def test_measuring_without_the_module_says_why() -> None:
    model = nn.Linear(4, 4)
    p = edgeprof.profile(model, input_shapes=[(1, 4)])
    m = edgeprof.measured(p)
    assert m.memory is not None and "model=" in m.memory.measurement_error


def test_a_forward_that_raises_is_reported_not_raised() -> None:
    class Boom(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(4, 4)
            self.calls = 0

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            self.calls += 1
            if self.calls > 1:  # the profile's trace is call 1; the real run fails
                raise RuntimeError("kaput")
            return self.lin(x)

    model = Boom()
    p = edgeprof.profile(model, input_shapes=[(1, 4)])
    m = edgeprof.measured(p, model=model)
    assert m.memory is not None and "kaput" in m.memory.measurement_error
