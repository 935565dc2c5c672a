"""Daily use (issue #17): the calibration stored where ``--device host`` finds it, "did you mean"
for mistyped names, progress for a long single run, and the input-shape fixes (``--dim X=0``,
``--seq-len`` on a vision config, where each shape came from)."""

from __future__ import annotations

import io
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import onnx
import pytest
from onnx import TensorProto, helper

from edgeprof import api
from edgeprof.cli import main
from edgeprof.cli_progress import TerminalProgress
from edgeprof.measure.calibrate import Calibration, render_toml, stored_calibration
from tests.render import write_tiny_cnn_onnx

DEMO = str(Path(__file__).resolve().parents[1] / "models" / "demo.onnx")
CAL = Calibration(
    cpu_model="Test CPU", runtime="onnxruntime 1.0", threads=1, date="2026-01-01 00:00 UTC", command="edgeprof calibrate",
    per_inference_overhead_s=1e-5, per_node_overhead_s=1e-6, bandwidth_bytes_per_s=2e10, dram_bandwidth_bytes_per_s=1e10,
    rates_flop_per_s={"default": 2e9, "linear": 1e11, "conv": 5e10, "activation": 1e10, "recurrent": 2e10},
    int8_rates_op_per_s={"linear": 4e11}, notes=(), logical_cores=2,
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---- the calibration is stored where --device host finds it ---------------------------------------


def test_the_config_folder_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEPROF_CONFIG_DIR", str(tmp_path / "cfg"))
    assert stored_calibration() == tmp_path / "cfg" / "host.toml"
    monkeypatch.delenv("EDGEPROF_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    if os.name == "posix" and not str(stored_calibration()).startswith(str(Path.home() / "Library")):
        assert stored_calibration() == tmp_path / "xdg" / "edgeprof" / "host.toml"  # platformdirs on Linux


def test_calibrate_stores_the_device_then_device_host_just_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "new" / "config"
    monkeypatch.setenv("EDGEPROF_CONFIG_DIR", str(config))
    monkeypatch.setattr(api, "calibrate", lambda **kwargs: CAL)  # the real one takes a minute
    code, out, err = run(capsys, "calibrate")
    assert (code, err) == (0, "")
    stored = config / "host.toml"
    assert stored.is_file() and f"wrote {stored}: device 'host' (Test CPU)" in out and "--device host" in out
    code, out, _ = run(capsys, "profile", DEMO, "--device", "host", "--format", "json")
    assert code == 0 and "host" in json.loads(out)["latency"]["predicted"]
    code, out, _ = run(capsys, "devices", "--format", "json")
    assert code == 0 and any(d["id"] == "host" for d in json.loads(out))
    # --devices-file takes the stored file's place: its own host, or none at all
    other = tmp_path / "other.toml"
    other.write_text(render_toml(CAL).replace("Test CPU", "Other CPU"), encoding="utf-8")
    code, out, _ = run(capsys, "profile", DEMO, "--device", "host", "--devices-file", str(other), "--format", "json")
    assert code == 0 and "Other CPU" in json.dumps(json.loads(out)["latency"]["predicted"]["host"])
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    code, _, err = run(capsys, "profile", DEMO, "--device", "host", "--devices-file", str(empty))
    assert code == 2 and "unknown device 'host'" in err


def test_calibrate_with_output_writes_there_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(api, "calibrate", lambda **kwargs: CAL)
    target = tmp_path / "mine.toml"
    code, out, _ = run(capsys, "calibrate", "-o", str(target))
    assert code == 0 and target.is_file() and not stored_calibration().exists()
    assert f"--devices-file {target} --device host" in out


def test_without_a_calibration_host_says_how_to_get_one(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "profile", DEMO, "--device", "host")
    assert code == 2 and "run 'edgeprof calibrate'" in err and err.count("\n") == 1


# ---- did you mean ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("argv", "hint"), [
    (["profile", DEMO, "--device", "jetson-orin-nano"], "did you mean 'orin-nano'"),
    (["profile", DEMO, "--device", "Raspberry Pi 5"], "did you mean 'rpi5'"),
    (["profile", DEMO, "--inptu", "1x3x224x224"], "did you mean '--input'?; see 'edgeprof profile --help'"),
    (["profle", DEMO], "did you mean 'profile'?"),
    (["profile", DEMO, "--format", "jsno"], "did you mean 'json'?"),
    (["compare", DEMO, "--devcie", "rpi5"], "did you mean '--device'?"),
    (["ops", "Convv"], "unknown op 'Convv'; did you mean 'Conv'"),
    (["profile", DEMO, "--input", "imagee=1x3x224x224"], "no input named 'imagee'; did you mean 'image'?"),
    (["profile", DEMO, "--value", "imag=1"], "did you mean 'image'?"),
])
def test_did_you_mean(capsys: pytest.CaptureFixture[str], argv: list[str], hint: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and hint in err and err.count("\n") == 1


def test_nothing_close_gives_no_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "profile", DEMO, "--device", "zzzzzz")
    assert code == 2 and "did you mean" not in err and "known devices:" in err


def test_ops_shows_one_op(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ops", "Conv")
    assert code == 0 and "Registered ops (1)" in out and "Kc" in out
    code, out, _ = run(capsys, "ops", "relu", "--format", "json")  # case forgiven when unambiguous
    assert code == 0 and [e["op"] for e in json.loads(out)] == ["Relu"]


# ---- progress for a long single run ---------------------------------------------------------------


def test_profile_reports_its_steps() -> None:
    steps: list[str] = []
    api.profile(DEMO, progress=steps.append)
    assert steps == ["loading the model", "counting and the memory analysis"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_spinner_shows_a_slow_step_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    stream = _Terminal()
    with TerminalProgress(stream, after_s=0.0) as progress:
        progress("loading [bold]m\x1b]52;x.onnx")  # a path is shown as it is: no markup, no escape sequence
        time.sleep(0.3)
    shown = stream.getvalue()
    assert "loading [bold]m\\x1b]52;x.onnx" in shown and "\x1b]52" not in shown
    quiet = io.StringIO()  # not a terminal: nothing, and no thread left behind
    before = threading.active_count()
    with TerminalProgress(quiet, after_s=0.0) as progress:
        progress("loading")
    assert quiet.getvalue() == "" and threading.active_count() == before
    code, _, err = run(capsys, "profile", DEMO)  # the CLI's spinner: stderr is no terminal here
    assert code == 0 and err == ""


def test_the_cli_passes_a_progress_callback(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[Any] = []
    real = api.profile

    def spy(model: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("progress"))
        return real(model, **kwargs)

    monkeypatch.setattr(api, "profile", spy)
    assert run(capsys, "profile", DEMO)[0] == 0
    assert isinstance(seen[0], TerminalProgress)


# ---- input shapes ---------------------------------------------------------------------------------


def _two_inputs(path: Path) -> Path:
    x = helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["batch", 3, "image_width"])
    past = helper.make_tensor_value_info("past_key", TensorProto.FLOAT, ["batch", "past_len", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, None)
    graph = helper.make_graph([helper.make_node("Relu", ["pixels"], ["y"]), helper.make_node("Relu", ["past_key"], ["z"])],
                              "g", [x, past], [y, z])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_a_zero_dim_is_only_an_empty_past(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = str(_two_inputs(tmp_path / "m.onnx"))
    code, _, err = run(capsys, "profile", model, "--dim", "image_width=0", "--dim", "past_len=2")
    assert code == 2 and "--dim image_width=0" in err and "cannot be 0" in err and err.count("\n") == 1
    code, out, _ = run(capsys, "profile", model, "--dim", "image_width=8", "--dim", "past_len=0", "--format", "json")
    assert code == 0 and [i["shape"] for i in json.loads(out)["inputs"]] == [[1, 3, 8], [1, 0, 4]]


def test_the_inputs_table_says_which_flag_set_a_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = str(write_tiny_cnn_onnx(tmp_path / "tiny.onnx"))
    code, out, _ = run(capsys, "profile", model, "--input", "1x3x8x8")
    assert code == 0 and "(from --input/--dim)" in out and "(from --input)" not in out


def test_seq_len_is_refused_for_a_vision_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("transformers")
    cfg = {"model_type": "vit", "architectures": ["ViTForImageClassification"], "hidden_size": 64,
           "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 128, "image_size": 32,
           "patch_size": 8}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg), encoding="utf-8")
    code, _, err = run(capsys, "profile", str(path), "--seq-len", "128")
    assert code == 2 and "--seq-len" in err and "pixel_values" in err
    code, out, _ = run(capsys, "profile", str(path), "--format", "json")
    assert code == 0 and json.loads(out)["inputs"][0]["source"] == "config"
    code, out, _ = run(capsys, "profile", str(path))
    assert code == 0 and "(from the config)" in out
