"""PyTorch models built by a 'module:callable', timed for real in a fresh subprocess."""

from __future__ import annotations

import json

import pytest

from edgeprof import cli
from edgeprof.errors import MeasurementError
from edgeprof.measure.timing import LatencyOptions
from edgeprof.measure.torch_latency import measure_callable_latency
from edgeprof.report.model import InputSpec

pytest.importorskip("torch")
SPEC = "tests.measure.torch_models:mlp"
QUICK = LatencyOptions(min_runs=5, max_runs=20, max_time_s=2.0, min_time_s=0.1)


def test_callable_model_is_timed_with_the_common_protocol() -> None:
    m = measure_callable_latency(SPEC, [InputSpec("x", (4, 512), "float32", "flag")], options=QUICK)
    assert m.runtime.startswith("torch ") and "eager" in m.runtime
    assert 1 <= m.runs <= 20 and m.warmup_runs >= 3
    assert 0 < m.min_s <= m.p50_s <= m.p90_s <= m.p99_s <= m.max_s
    assert m.environment.runtime == "torch" and m.environment.intra_op_threads == 1
    assert m.inputs == ("x: float32[4x512]",)
    assert "inference_mode" in m.method


def test_a_forward_that_fails_is_one_line() -> None:
    with pytest.raises(MeasurementError, match="PyTorch latency run: the PyTorch forward failed") as info:
        measure_callable_latency(SPEC, [InputSpec("x", (4, 100), "float32", "flag")], options=QUICK)
    assert "\n" not in str(info.value)


def test_cli_measure_of_a_callable_gives_memory_and_latency(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["profile", SPEC, "--input", "8x512", "--measure", "--measure-runs", "2", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["memory"]["measured"]["tensor_peak"]["peak_activation_bytes"] == out["memory"]["predicted"]["peak_activation_bytes"]
    assert out["memory"]["measured"]["rss"]["peak_rss_increase_bytes"] > 0
    assert out["latency"]["measured"]["runtime"].startswith("torch")


def test_a_module_object_is_timed_in_this_process_and_left_as_it_was() -> None:
    import torch

    import edgeprof
    from edgeprof import api
    from tests.measure.torch_models import mlp

    model = mlp().train()
    threads = torch.get_num_threads()
    p = edgeprof.profile(model, input_shapes=[(4, 512)])
    timed = api.measure_latency(p, max_runs=20, max_time_s=2.0, model=model)
    assert timed.latency is not None and not timed.latency.measurement_error
    m = timed.latency.measured
    assert m is not None and m.runtime.startswith("torch ") and "in this process" in m.method
    assert 1 <= m.runs <= 20 and m.inputs == ("Tensor[4x512]",)
    assert model.training and torch.get_num_threads() == threads  # flags and threads restored
    failed = api.measure_latency(p, max_runs=5, model=model, example_inputs=(torch.zeros(4, 100),))
    assert failed.latency is not None and "forward failed" in failed.latency.measurement_error
    assert api.measure_latency(p).latency.measurement_error.startswith("latency measurement of a 'torch' model")
