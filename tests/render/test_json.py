"""The JSON renderer: Profile.to_dict and nothing else, goldens, round trips, documented schema."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeprof.render.json import render_json, render_ops_json
from edgeprof.report.model import (
    SCHEMA_VERSION,
    CategoryShare,
    Foldable,
    InputSpec,
    LayerCost,
    ModelInfo,
    NotCounted,
    Profile,
    Totals,
    WeightGroup,
)
from tests.render import check_golden, e2e_profile, normalise_tmp, tiny_cnn, wide_mixed

SCHEMA_DOC = Path(__file__).resolve().parents[2] / "docs" / "json-schema.md"


def test_golden_tiny_cnn(pytestconfig: pytest.Config) -> None:
    check_golden(pytestconfig, "tiny_cnn.json", render_json(tiny_cnn()))


def test_golden_wide_mixed(pytestconfig: pytest.Config) -> None:
    check_golden(pytestconfig, "wide_mixed.json", render_json(wide_mixed()))


@pytest.mark.parametrize("make", [tiny_cnn, wide_mixed])
def test_json_is_to_dict_and_nothing_more(make: Any) -> None:
    profile = make()
    text = render_json(profile)
    assert text.endswith("}\n")
    assert json.loads(text) == json.loads(json.dumps(profile.to_dict()))


@pytest.mark.parametrize("make", [tiny_cnn, wide_mixed])
def test_round_trip(make: Any) -> None:
    profile = make()
    assert Profile.from_json(profile.to_json()) == profile
    assert Profile.from_json(render_json(profile)) == profile


def test_key_figures_are_plain_integers_in_json() -> None:
    data = json.loads(render_json(tiny_cnn()))
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["totals"]["flops"] == 19_200
    assert data["totals"]["macs"] == 9_472
    assert data["totals"]["is_lower_bound"] is True
    assert data["not_counted"] == [
        {"op": "com.example::Mystery", "count": 2, "example": "/post/Mystery", "reason": "no formula for this op"}
    ]
    assert data["not_counted_total"] == 2
    assert data["layers"][0]["output_shape"] == [1, 4, 8, 8]


names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
ints = st.integers(min_value=0, max_value=2**70)
shares = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
layers = st.builds(
    LayerCost, name=names, op=names, category=names, state=st.sampled_from(["counted", "zero", "not_counted"]),
    output_shape=st.lists(st.one_of(st.integers(0, 2**40), names), max_size=5).map(tuple),
    flops=ints, int_ops=ints, macs=ints, bytes_read=ints, bytes_written=ints, params=ints, precision=names,
    scope=names, calls=st.integers(1, 1000), range_group=names, note=names,
)
profiles = st.builds(
    Profile,
    model=st.builds(ModelInfo, name=names, format=names, path=names, file_bytes=st.one_of(st.none(), ints),
                    producer=names, opset=names),
    inputs=st.lists(st.builds(InputSpec, name=names, shape=st.lists(st.integers(1, 2**40), max_size=4).map(tuple),
                              dtype=names, source=st.sampled_from(["model", "flag", "default-batch", "example"])),
                    max_size=3).map(tuple),
    totals=st.builds(Totals, flops=ints, int_ops=ints, macs=ints, params=ints, weight_bytes=ints, bytes_read=ints,
                     bytes_written=ints, flops_max=ints, macs_max=ints, is_lower_bound=st.booleans()),
    categories=st.lists(st.builds(CategoryShare, category=names, flops=ints, int_ops=ints, macs=ints, nodes=ints,
                                  share=shares), max_size=3).map(tuple),
    weights_by_dtype=st.lists(st.builds(WeightGroup, dtype=names, tensors=ints, elements=ints, params=ints,
                                        bytes=ints), max_size=2).map(tuple),
    layers=st.lists(layers, max_size=4).map(tuple),
    not_counted=st.lists(st.builds(NotCounted, op=names, count=ints, example=names, reason=names),
                         max_size=2).map(tuple),
    foldable=st.builds(Foldable, flops=ints, nodes=ints, detail=st.lists(names, max_size=2).map(tuple)),
    notices=st.lists(names, max_size=2).map(tuple),
)


@settings(max_examples=60, deadline=None)
@given(profiles)
def test_any_profile_round_trips_through_the_json_renderer(profile: Profile) -> None:
    assert Profile.from_json(render_json(profile)) == profile


def _keys(value: Any, out: set[str]) -> set[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            _keys(v, out)
    elif isinstance(value, list):
        for v in value:
            _keys(v, out)
    return out


def _with_every_memory_field(profile: Profile) -> Profile:
    """``profile`` with both kinds of measurement attached, so that every memory key appears."""
    import dataclasses

    from edgeprof.passes.memory import with_measurement
    from edgeprof.report.memory import MeasuredMemory, MeasuredTensorPeak
    from edgeprof.report.model import Provenance

    assert profile.memory is not None
    how = Provenance("measured", "test")
    mem = with_measurement(profile.memory, MeasuredMemory("ort", 1, 1, 1, 1, 1, ("a",), ("x",), how))
    mem = with_measurement(mem, MeasuredTensorPeak("torch", 1, 1, 1, 1, 1, how))
    from edgeprof.devices.catalogue import load_catalogue
    from edgeprof.passes.memory import with_device_fits

    mem = with_device_fits(mem, [load_catalogue().get("stm32h7")])
    from edgeprof.report.llm import LLMFigures, WeightBytes

    llm = LLMFigures(8, 1, 1, 1, "last", 1, 1, 1, 8, "float32", 1, 1, 1, 1, WeightBytes(4, 2, 1, 1), False)
    return _with_every_latency_field(dataclasses.replace(profile, memory=mem, llm=llm))


def _with_every_latency_field(profile: Profile) -> Profile:
    """``profile`` with a measured latency and a prediction (with LLM figures) on a device keyed ``host``."""
    import dataclasses

    from edgeprof.devices.catalogue import Device, Figure
    from edgeprof.passes.latency import with_predictions
    from edgeprof.report.latency import Environment, MeasuredLatency

    fig = Figure(1e9, "measured", "test")
    host = Device("host", "Host", "", "host", peak_fp32_flop_per_s=fig, memory_bandwidth_bytes_per_s=fig)
    env = Environment("cpu", 2, "Linux", "3.11", "onnxruntime", "1.0", "2.0", 1, (0.1, 0.2, 0.3))
    measured = MeasuredLatency("ort", 10, 3, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, True, 1.0, 1.0, 1.0, 1.0,
                               "stable", ("x",), env, "test")
    out = with_predictions(profile, [host])
    assert out.latency is not None
    out = dataclasses.replace(out, latency=dataclasses.replace(out.latency, measured=measured))
    return _with_every_energy_field(out, dataclasses.replace(host, power_w=fig))


def _with_every_energy_field(profile: Profile, host: Any) -> Profile:
    """``profile`` with an energy estimate on ``host`` and a measured energy (domain key ``dram``)."""
    import dataclasses

    from edgeprof.passes.energy import with_energy
    from edgeprof.report.energy import MeasuredEnergy

    out = with_energy(profile, [host])
    assert out.energy is not None
    measured = MeasuredEnergy("fake RAPL", ("dram",), 0.5, 10, 6.0, 2.0, 0.5, 1.0, 3.0, {"dram": 6.0}, "test", "n")
    return dataclasses.replace(out, energy=dataclasses.replace(out.energy, measured=measured, sensor_note="s"))


def test_every_json_field_is_documented(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = SCHEMA_DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", doc, flags=re.M))
    keys = _keys(json.loads(render_json(tiny_cnn())), set()) | _keys(json.loads(render_json(wide_mixed())), set())
    keys |= _keys(json.loads(render_json(_with_every_memory_field(e2e_profile(tmp_path, monkeypatch)))), set())
    assert keys - documented == set(), "fields missing from docs/json-schema.md"
    assert documented - keys == set(), "docs/json-schema.md documents fields the JSON does not have"
    assert re.search(rf"^\| `schema_version` \| int \| {SCHEMA_VERSION}\b", doc, flags=re.M)


def test_ops_listing_is_json_with_the_four_fields() -> None:
    from edgeprof.ops.registry import registered_ops

    entries = list(registered_ops().values())
    rows = json.loads(render_ops_json(entries))
    assert len(rows) == len(entries)
    assert {tuple(sorted(r)) for r in rows} == {("category", "formula", "op", "state")}
    by_op = {r["op"]: r for r in rows}
    assert by_op["MatMul"]["state"] == "counted"
    assert by_op["MatMul"]["category"] == "linear"
    assert by_op["MatMul"]["formula"].startswith("numel(Y)")


def test_golden_end_to_end_from_onnx(pytestconfig: pytest.Config, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Depends on the ONNX frontend and the Conv/Relu/Flatten/Gemm formulas."""
    profile = e2e_profile(tmp_path, monkeypatch)
    assert Profile.from_json(profile.to_json()) == profile
    check_golden(pytestconfig, "e2e_tiny_cnn.json", normalise_tmp(render_json(profile), tmp_path))


def test_the_hand_built_profile_is_what_the_pipeline_produces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tiny_cnn() was worked out by hand; the ONNX frontend and the passes must agree with it in
    every field but the path. Depends on the ONNX frontend and the Conv/Relu/Flatten/Gemm formulas."""
    import dataclasses

    profile = e2e_profile(tmp_path, monkeypatch)
    by_hand = tiny_cnn()
    as_given = dataclasses.replace(profile, model=dataclasses.replace(profile.model, path=by_hand.model.path))
    assert dataclasses.replace(as_given, memory=None, deployment=None) == by_hand
    # Deployed by hand: Relu is the Conv's only reader, so one kernel (13,824 + 256 FLOPs) reading the input and
    # weights (1,216 B) and writing the Relu's output (1,024 B); Flatten is a view; Gemm and the two custom ops.
    dep = profile.deployment
    assert dep is not None
    assert [(k.nodes, k.flops, k.bytes_read, k.bytes_written) for k in dep.kernels] == [
        (("/features/0/Conv", "/features/1/Relu"), 14_080, 1_216, 1_024), (("/classifier/Gemm",), 5_120, 11_304, 40),
        (("/post/Mystery",), 0, 0, 0), (("/post/Mystery_1",), 0, 0, 0)]
    assert (dep.given_nodes, dep.deployed_kernels, dep.removed) == (6, 4, ("/Flatten",))
    # 13,544 + 2,088 bytes as given; the Conv's output (1,024 written, 1,024 read by Relu) never leaves the kernel
    assert (dep.given_bytes, dep.deployed_bytes) == (15_632, 15_632 - 2_048)
    # Memory by hand: the input (768 B) is held throughout; while Relu runs the Conv output and
    # the Relu output are live too: 768 + 1,024 + 1,024 = 2,816 B. Flatten is a view of Relu's output.
    mem = profile.memory
    assert mem is not None
    assert (mem.predicted.weight_bytes, mem.predicted.peak_activation_bytes, mem.predicted.peak_at) == (10_728, 2_816, "/features/1/Relu")
    assert mem.predicted.peak_bytes == 10_728 + 2_816


@pytest.mark.parametrize("make", [tiny_cnn, wide_mixed])
def test_the_chunks_are_the_text_and_to_json_is_its_layout(make: Any) -> None:
    from edgeprof.render.json import json_chunks

    profile = make()
    text = render_json(profile)
    assert "".join(json_chunks(profile)) == text
    assert profile.to_json() + "\n" == text
    assert profile.to_json(indent=None) == json.dumps(profile.to_dict())  # compact: as json.dumps writes it


def test_each_layer_is_one_line_of_the_report() -> None:
    profile = wide_mixed()
    lines = render_json(profile).splitlines()
    start = lines.index('  "layers": [')
    rows = lines[start + 1:start + 1 + len(profile.layers)]
    assert [json.loads(row.strip().rstrip(",")) for row in rows] == profile.to_dict()["layers"]
    assert lines[start + 1 + len(profile.layers)] == "  ],"
