"""Values given by the user (``--value`` / ``values=``) are used by every run (issue #15, item 7):
the static report and the real runs on ONNX Runtime see the same input values."""

from __future__ import annotations

import numpy as np
import pytest

import edgeprof
from edgeprof.measure.inputs import input_request, random_inputs
from tests.frontends.onnx_builders import INT64, const, make_model, node, vinfo

pytest.importorskip("onnxruntime")


def _sample_rate_model() -> object:
    """y = x + Range(0, sr / 1000): only runs when sr is 16000 (x has 16 samples)."""
    return make_model(
        [const("k", np.array(1000, np.int64)), const("zero", np.array(0, np.int64)), const("one", np.array(1, np.int64)),
         node("Div", ["sr", "k"], ["n"]), node("Range", ["zero", "n", "one"], ["r"]),
         node("Cast", ["r"], ["rf"], to=1), node("Add", ["x", "rf"], ["y"])],
        inputs=[vinfo("x", [16]), vinfo("sr", [], INT64)],
        outputs=["y"],
    )


def test_given_values_reach_the_measurement_request() -> None:
    p = edgeprof.profile(_sample_rate_model(), values={"sr": 16000}, memory=False)
    sr = next(s for s in p.inputs if s.name == "sr")
    assert sr.value == (16000.0,) and sr.shape == ()
    specs = input_request(p.inputs)
    assert specs[1] == {"name": "sr", "shape": [], "dtype": "int64", "value": [16000.0]}
    x, fed = random_inputs(specs)
    assert fed.dtype == np.int64 and fed.shape == () and int(fed) == 16000
    assert x.shape == (16,)


def test_measured_latency_runs_on_the_given_value(tmp_path: object) -> None:
    import onnx

    path = f"{tmp_path}/sr.onnx"
    onnx.save(_sample_rate_model(), path)  # type: ignore[arg-type]
    p = edgeprof.profile(path, values={"sr": 16000}, memory=False)
    out = edgeprof.measure_latency(p, max_runs=5, max_time_s=0.2)
    assert out.latency is not None
    assert out.latency.measurement_error == "" and out.latency.measured is not None
