"""Counts and numbers that can grow without bound in an input (#12 items 12, 14, 15).

* ONNX initializers, value_info entries and graph inputs/outputs (all graphs) are refused above
  their limits before any work (1 M initializers took 56 s and 2.5 GB; 100,000 graph inputs
  28 s): one line, exit 2;
* an integer of more than 4,300 digits (Python refuses to convert it) in a dim, a budget, a
  device figure or a config gives one line and exit 2, never exit 3;
* a deeply nested TOML budget or device file (tomllib is recursive) or config.json gives one
  line, never a RecursionError.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from edgeprof.cli import main
from tests.hardening.fuzz_targets import conv_model

HUGE = "1" * 5000  # over Python's 4,300-digit limit for int <-> str
GUARD_S = 60.0


def _one_line(argv: list[str], capsys: pytest.CaptureFixture[str], *words: str) -> str:
    start = time.monotonic()
    code = main(argv)
    out, err = capsys.readouterr()
    assert out == "", out
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("edgeprof: ") and "internal error" not in err, err
    assert "Traceback" not in err and "RecursionError" not in err and len(err) < 1000, err
    assert all(w in err for w in words), err
    assert time.monotonic() - start < GUARD_S
    return err


def _counts_model(kind: str, n: int) -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    inputs, outputs, inits, vis = [x], [y], [], []
    if kind == "initializers":
        inits = [helper.make_tensor(f"w{i}", TensorProto.FLOAT, [1], [1.0]) for i in range(n)]
    elif kind == "value_info":
        vis = [helper.make_tensor_value_info(f"v{i}", TensorProto.FLOAT, [1]) for i in range(n)]
    else:
        inputs += [helper.make_tensor_value_info(f"i{i}", TensorProto.FLOAT, [1]) for i in range(n)]
    g = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", inputs, outputs, inits, value_info=vis)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


@pytest.mark.parametrize(("kind", "n", "words"), [
    ("initializers", 500_001, ("500,001 initializers", "500,000")),
    ("value_info", 500_001, ("500,001 value_info entries", "500,000")),
    ("inputs", 100_000, ("100,002 graph inputs and outputs", "100,000")),
])
def test_counts_past_their_limits_are_refused_before_any_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, n: int, words: tuple[str, ...]) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(_counts_model(kind, n).SerializeToString())
    _one_line(["profile", str(path)], capsys, *words, "EDGEPROF_MAX_NODES")


def test_the_count_limits_follow_the_node_limit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(_counts_model("inputs", 1000).SerializeToString())
    assert main(["profile", str(path), "--no-memory"]) == 0
    capsys.readouterr()
    monkeypatch.setenv("EDGEPROF_MAX_NODES", "100")  # graph inputs and outputs: a fifth, but at least 1,000
    _one_line(["profile", str(path)], capsys, "1,002 graph inputs and outputs", "limit of 1,000")
    monkeypatch.setenv("EDGEPROF_MAX_NODES", "10000")
    path.write_bytes(_counts_model("initializers", 10_001).SerializeToString())
    _one_line(["profile", str(path)], capsys, "10,001 initializers", "limit of 10,000")


@pytest.mark.parametrize("argv", [
    ["profile", "MODEL", "--input", f"1x{HUGE}"],
    ["profile", "MODEL", "--dim", f"batch={HUGE}"],
    ["check", "MODEL", "--max-flops", HUGE],
    ["profile", "MODEL", "--threads", HUGE],
])
def test_an_integer_of_over_4300_digits_on_the_command_line_gives_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(conv_model().SerializeToString())
    argv = [str(model) if a == "MODEL" else a for a in argv]
    if argv[2] == "--threads":
        code = main(argv)
        assert code == 2 and "internal error" not in capsys.readouterr().err
        return
    _one_line(argv, capsys)


@pytest.mark.parametrize(("name", "text", "words"), [
    ("budget.toml", f"[budget]\nmax_flops = {HUGE}\n", ("4,300 digits",)),
    ("budget.toml", f"[budget]\nmax_flops = {'9' * 1200}\n", ("digits edgeprof reads",)),
    ("budget.toml", "[budget]\nmax_flops = " + "[" * 5000 + "]" * 5000 + "\n", ("nested too deeply",)),
    ("budget.toml", "[budget]\nx = " + "{a = " * 5000 + "1" + "}" * 5000 + "\n", ("nested too deeply",)),
    ("device.toml", f"[devices.x]\npeak = {HUGE}\n", ("4,300 digits",)),
    ("device.toml", "a = " + "[" * 5000 + "]" * 5000 + "\n", ("nested too deeply",)),
])
def test_huge_integers_and_deep_nesting_in_toml_files_give_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, words: tuple[str, ...]) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(conv_model().SerializeToString())
    path = tmp_path / name
    path.write_text(text)
    argv = ["check", str(model), "--budget", str(path)] if name == "budget.toml" else \
        ["profile", str(model), "--devices-file", str(path), "--device", "x"]
    _one_line(argv, capsys, *words)


def test_a_device_figure_past_a_float_is_a_usage_error() -> None:
    """An integer figure past 10**308 (TOML reads it exactly) cannot become a float: one line."""
    from edgeprof.devices.catalogue import _figure
    from edgeprof.errors import UsageError

    with pytest.raises(UsageError, match="too large for a device figure"):
        _figure({"value": 10**400, "tag": "measured", "source": "me"}, "devices.x.peak_flop_per_s")


@pytest.mark.parametrize("text", [
    '{"model_type": "llama", "num_hidden_layers": ' + HUGE + "}",
    '{"model_type": "llama", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
])
def test_a_config_with_a_huge_integer_or_deep_nesting_gives_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises((ValueError, RecursionError)):  # json itself refuses: the frontend must say so in one line
        json.loads(text)
    _one_line(["profile", str(path)], capsys)
