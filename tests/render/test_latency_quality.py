"""The report says how good the device figures behind a prediction are (#14: "where a figure is
still a guess, it says so and the report says the prediction is an estimate of that quality")."""

from __future__ import annotations

from pathlib import Path

import edgeprof
from edgeprof.render.latency import estimate_quality, latency_notes

DEMO = Path(__file__).resolve().parents[2] / "models" / "demo.onnx"


def test_assumed_figures_are_named_and_a_fully_sourced_device_says_so(tmp_path: Path) -> None:
    p = edgeprof.predict_latency(edgeprof.profile(DEMO, memory=False), ["a17pro-ane"])
    quality = estimate_quality(p.latency.predicted["a17pro-ane"])  # type: ignore[union-attr]
    assert "are assumed (" in quality and "per_node_overhead_s" in quality
    assert any(n.startswith("a17pro-ane: ") and "assumed" in n for n in latency_notes(p.latency))  # type: ignore[arg-type]
    f = tmp_path / "d.toml"
    f.write_text('[[device]]\nid = "lab"\nname = "Lab board"\nclass = "host"\n'
                 'peak_fp32_flop_per_s = { value = 1e11, tag = "measured", source = "m" }\n'
                 'memory_bandwidth_bytes_per_s = { value = 1e10, tag = "measured", source = "m" }\n'
                 'per_node_overhead_s = { value = 1e-6, tag = "measured", source = "m" }\n'
                 'per_inference_overhead_s = { value = 1e-5, tag = "measured", source = "m" }\n'
                 'bandwidth_efficiency = { value = 0.5, tag = "measured", source = "m" }\n'
                 'efficiency = { default = { value = 0.5, tag = "measured", source = "m" } }\n')
    q = edgeprof.predict_latency(edgeprof.profile(DEMO, memory=False), ["lab"], devices_files=[f])
    assert estimate_quality(q.latency.predicted["lab"]) == (  # type: ignore[union-attr]
        "every device figure used is measured, fitted, derived or a vendor's")
