"""Does the model fit the device's RAM (#14 part 5): weights + activation peak + a decoder LLM's KV
cache + the system's share of the device class, against the catalogue's RAM figure; shown beside
the latency, and a failed check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import edgeprof
from edgeprof.devices.catalogue import load_catalogue
from edgeprof.passes.memory import SYSTEM_BYTES, ram_fit
from edgeprof.render.latency import latency_notes
from tests.test_api import LLAMA

DEMO = Path(__file__).resolve().parents[2] / "models" / "demo.onnx"


def _device_file(tmp_path: Path, ram: float) -> Path:
    f = tmp_path / "devices.toml"
    f.write_text('[[device]]\nid = "tiny"\nname = "Tiny board"\nclass = "sbc"\n'
                 'peak_fp32_flop_per_s = { value = 1e10, tag = "measured", source = "m" }\n'
                 'memory_bandwidth_bytes_per_s = { value = 1e9, tag = "measured", source = "m" }\n'
                 f'ram_bytes = {{ value = {ram}, tag = "vendor", source = "m" }}\n')
    return f


def test_the_demo_fits_every_catalogue_device_with_ram() -> None:
    p = edgeprof.predict_latency(edgeprof.profile(DEMO), ["rpi4", "rpi5", "orin-nano", "sd8gen2-npu"])
    assert p.memory is not None
    fits = {f.device_id: f for f in p.memory.predicted.ram_fits}
    assert set(fits) == {"rpi4", "rpi5", "orin-nano", "sd8gen2-npu"}
    rpi5 = fits["rpi5"]
    mem = p.memory.predicted
    assert rpi5.weight_bytes == mem.weight_bytes and rpi5.peak_activation_bytes == mem.peak_activation_bytes
    assert rpi5.system_bytes == int(SYSTEM_BYTES["sbc"].value) and rpi5.kv_cache_bytes == 0
    assert rpi5.needs_bytes == mem.weight_bytes + mem.peak_activation_bytes + rpi5.system_bytes
    assert rpi5.fits and rpi5.ram_bytes == 8_000_000_000
    assert fits["orin-nano"].system_bytes == int(SYSTEM_BYTES["gpu-module"].value)


def test_no_fit_is_said_beside_the_latency(tmp_path: Path) -> None:
    p = edgeprof.profile(DEMO)
    need = p.memory.predicted.peak_bytes + int(SYSTEM_BYTES["sbc"].value)  # type: ignore[union-attr]
    small = edgeprof.predict_latency(p, ["tiny"], devices_files=[_device_file(tmp_path, need - 1)])
    (fit,) = small.memory.predicted.ram_fits  # type: ignore[union-attr]
    assert not fit.fits and fit.margin_bytes == -1
    assert fit.verdict().startswith("does not fit: needs ")
    assert any(n.startswith("tiny: does not fit") for n in latency_notes(small.latency, small.memory))  # type: ignore[arg-type]
    exact = edgeprof.predict_latency(p, ["tiny"], devices_files=[_device_file(tmp_path, need)])
    assert exact.memory.predicted.ram_fits[0].fits  # type: ignore[union-attr]
    round_trip = edgeprof.Profile.from_json(small.to_json())
    assert round_trip.memory.predicted.ram_fits == small.memory.predicted.ram_fits  # type: ignore[union-attr]


def test_a_decoder_llm_counts_its_kv_cache(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA))
    p = edgeprof.profile(path, seq_len=128)
    assert p.llm is not None and p.llm.kv_cache_bytes > 0
    out = edgeprof.predict_latency(p, ["rpi5"])
    (fit,) = out.memory.predicted.ram_fits  # type: ignore[union-attr]
    assert fit.kv_cache_bytes == p.llm.kv_cache_bytes
    assert fit.needs_bytes == fit.weight_bytes + fit.peak_activation_bytes + fit.kv_cache_bytes + fit.system_bytes


def test_ram_fit_needs_a_ram_figure() -> None:
    stm = load_catalogue().get("stm32h7")
    p = edgeprof.profile(DEMO)
    assert stm.ram_bytes is None
    with pytest.raises(edgeprof.UsageError, match="no RAM size"):
        ram_fit(p.memory, stm)  # type: ignore[arg-type]


def test_the_fit_follows_a_precision_what_if(tmp_path: Path) -> None:
    p = edgeprof.profile(DEMO)
    mem = p.memory.predicted  # type: ignore[union-attr]
    for what_if, (weights, acts) in (("int8", ("int8", "int8")), ("w4a16", ("int4", "fp16")), ("fp16", ("fp16", "fp16"))):
        out = edgeprof.predict_latency(p, ["rpi5"], precision=what_if)
        (fit,) = out.memory.predicted.ram_fits  # type: ignore[union-attr]
        assert fit.precision == what_if
        assert fit.weight_bytes == mem.precision(weights).weight_bytes
        assert fit.peak_activation_bytes == mem.precision(acts).peak_activation_bytes
    stored = edgeprof.predict_latency(p, ["rpi5"]).memory.predicted.ram_fits[0]  # type: ignore[union-attr]
    assert stored.precision == "stored" and stored.weight_bytes == mem.weight_bytes
