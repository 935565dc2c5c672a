"""edgeprof.api, the one orchestrator: its dispatch on the model's format, the measurements it drives
on real ONNX Runtime runs, and one build of a Hugging Face config per profile."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

import edgeprof
from edgeprof import api
from edgeprof.errors import ModelLoadError, UsageError
from tests.measure.test_power import FailingNvml

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "models" / "demo.onnx"


def test_the_format_dispatch_names_every_kind_of_model(tmp_path: Path) -> None:
    import onnx

    assert api._format_of(str(DEMO)) == "onnx"
    assert api._format_of(DEMO) == "onnx"
    assert api._format_of(onnx.load(str(DEMO))) == "onnx"
    assert api._format_of("tests.measure.torch_models:mlp") == "torch-callable"
    assert api._format_of(tmp_path / "m.pt2") == "pt2"
    assert api._format_of(tmp_path / "config.json") == "hf-config"
    assert api._format_of(tmp_path / "m.tflite") == "tflite"
    assert api._format_of(tmp_path / "weights.PTH") == "checkpoint"
    assert api._format_of(42) == "unknown"
    with pytest.raises(ModelLoadError, match=r"refusing to unpickle a \.pth checkpoint"):
        edgeprof.profile(tmp_path / "weights.pth")
    with pytest.raises(UsageError, match="cannot profile an object of type int"):
        edgeprof.load(42)


def test_a_model_without_a_file_cannot_be_measured_and_says_so_in_every_report() -> None:
    import onnx

    prof = edgeprof.profile(onnx.load(str(DEMO)))
    assert prof.model.format == "onnx" and prof.model.path == ""
    out = edgeprof.measure_memory(prof)
    assert out.memory is not None and out.memory.measured is None
    assert out.memory.measurement_error.startswith("measuring a 'onnx' model needs an ONNX file")
    out = edgeprof.measure_latency(prof)
    assert out.latency is not None and out.latency.measured is None
    assert out.latency.measurement_error.startswith("latency measurement of a 'onnx' model is not available")
    assert out.totals == prof.totals


def test_energy_is_refused_for_a_format_only_onnx_runtime_measures(tmp_path: Path) -> None:
    from tests.measure.test_power import rapl_zone

    rapl_zone(tmp_path / "class" / "powercap", "intel-rapl:0", "package-0", 0)
    prof = edgeprof.profile(str(DEMO), memory=False)
    tflite = dataclasses.replace(prof, model=dataclasses.replace(prof.model, format="tflite"))
    out = edgeprof.measure_energy(tflite, sysfs_root=tmp_path, nvml=FailingNvml())
    assert out.energy is not None and out.energy.measured is None
    assert out.energy.sensor_note.startswith("sensor used: Linux powercap RAPL")
    assert out.energy.measurement_error.startswith("energy measurement of a 'tflite' model is not available")


def test_measured_is_the_three_measurements_in_one_call(tmp_path: Path) -> None:
    prof = edgeprof.profile(str(DEMO))
    one = edgeprof.measured(prof, runs=1, max_runs=10, max_time_s=0.5, sysfs_root=tmp_path, nvml=FailingNvml())
    assert one.memory is not None and one.memory.measured is not None and one.memory.measurement_error == ""
    assert one.memory.measured.rss is not None and one.memory.measured.rss.runs == 1
    assert one.latency is not None and one.latency.measured is not None and one.latency.measured.runs <= 10
    assert one.energy is not None and one.energy.sensor_note.startswith("no power sensor found")
    assert one.totals == prof.totals and one.layers == prof.layers
    with pytest.raises(UsageError, match="memory=True"):
        edgeprof.measured(edgeprof.profile(str(DEMO), memory=False))


def test_torch_inputs_default_to_the_one_random_input_maker() -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU())
    prof = edgeprof.profile(model, input_shapes=[(2, 8)])
    run = api._Run(prof, model, None, 60.0)
    (x,) = run.torch_inputs()
    assert x.shape == (2, 8) and x.dtype == torch.float32
    assert float(x.min()) >= 0.0 and float(x.max()) < 1.0  # uniform in [0, 1), as every runtime's inputs
    (again,) = run.torch_inputs()
    assert torch.equal(x, again)  # seeded: the same inputs every time
    odd = dataclasses.replace(prof, inputs=(dataclasses.replace(prof.inputs[0], dtype="complex64"),))
    with pytest.raises(UsageError, match="pass example_inputs"):
        api._Run(odd, model, None, 60.0).torch_inputs()


def test_load_devices_lists_the_catalogue_or_the_named_devices() -> None:
    every = edgeprof.load_devices()
    assert {"rpi5", "stm32h7"} <= {d.id for d in every}
    assert [d.id for d in edgeprof.load_devices(["stm32h7", "rpi5"])] == ["stm32h7", "rpi5"]
    with pytest.raises(UsageError, match="unknown device 'host'"):
        edgeprof.load_devices(["host"])


LLAMA = {
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
    "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 2, "vocab_size": 100,
    "max_position_embeddings": 256,
}


def test_a_hugging_face_config_is_built_once_per_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("transformers")
    from edgeprof.frontends.pytorch import _hf as hf

    path = tmp_path / "config.json"
    path.write_text(json.dumps(LLAMA))
    alone = edgeprof.llm_figures_for(path, 16)  # built and traced on its own, as before
    builds: list[Any] = []
    real = hf.build_model

    def counting(*args: Any, **kwargs: Any) -> Any:
        builds.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(hf, "build_model", counting)
    prof = edgeprof.profile(path, seq_len=16, memory=False)
    assert len(builds) == 1
    assert prof.llm == alone
    assert prof.inputs[0].shape == (1, 16)
    builds.clear()
    loaded = edgeprof.load(path, seq_len=16)  # the IR alone: no LLM figures to trace
    assert len(builds) == 1 and loaded.info.format == "hf-config"
    builds.clear()
    eager = edgeprof.profile(path, seq_len=16, memory=False, attn_implementation="eager")
    assert len(builds) == 1 and eager.llm is not None
