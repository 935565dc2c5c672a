"""PyTorch models built by a 'module:callable', measured for real in a fresh subprocess."""

from __future__ import annotations

import pytest

import edgeprof
from edgeprof.errors import MeasurementError
from edgeprof.measure.torch_memory import measure_callable_memory
from edgeprof.report.model import InputSpec

pytest.importorskip("torch")
SPEC = "tests.measure.torch_models:mlp"


def test_callable_model_is_measured_beside_the_prediction() -> None:
    p = edgeprof.measured(edgeprof.profile(SPEC, input_shapes=[(64, 512)]), runs=2)
    mem = p.memory
    assert mem is not None and not mem.measurement_error
    # Linear 512 -> 2048 -> 256 on 64 rows: the live-tensor peak is the input (64x512) and the two
    # outputs alive at the ReLU (64x2048 each), exactly as predicted: no kernel scratch in this model.
    assert mem.predicted.peak_activation_bytes == 4 * 64 * (512 + 2 * 2048)
    assert mem.measured.tensor_peak is not None
    assert mem.measured.tensor_peak.peak_activation_bytes == mem.predicted.peak_activation_bytes
    assert mem.measured.tensor_peak_minus_predicted_bytes == 0
    # The RSS increase holds the weights built after the baseline plus the activations.
    assert mem.measured is not None and mem.measured.rss is not None and mem.measured.rss.runtime.startswith("torch")
    assert mem.measured.rss.session_rss_increase_bytes >= mem.predicted.weight_bytes * 0.9
    assert 0.75 * mem.predicted.peak_bytes <= mem.measured.rss.peak_rss_increase_bytes <= 1.25 * mem.predicted.peak_bytes
    assert mem.measured.rss.provenance.kind == "measured"


def test_a_forward_that_fails_is_one_line() -> None:
    wrong = [InputSpec("x", (64, 100), "float32", "flag")]
    with pytest.raises(MeasurementError, match="forward failed") as info:
        measure_callable_memory(SPEC, wrong, runs=1)
    assert "\n" not in str(info.value)


def test_inputs_of_a_dtype_torch_cannot_make_are_refused() -> None:
    with pytest.raises(MeasurementError, match="dtype"):
        measure_callable_memory(SPEC, [InputSpec("x", (1, 512), "string", "flag")], runs=1)
