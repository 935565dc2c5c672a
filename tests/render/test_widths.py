"""Every table command at 80 and 120 columns (issue #17): goldens of ``profile`` (with the compact
per-device summary), ``bench``, ``compare``, ``check``, ``devices``, ``validate`` and ``ops``, and the
invariants behind them: no line wider than the terminal, one table style (a rule under the
header), names shortened in the middle with their tail kept."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import pytest

from edgeprof import api
from edgeprof.budget import Budget, check_budget
from edgeprof.ops.registry import registered_ops
from edgeprof.render.budget import render_check
from edgeprof.render.compare import render_compare
from edgeprof.render.devices import render_devices
from edgeprof.render.format import ViewOptions
from edgeprof.render.latency import render_validation
from edgeprof.render.terminal import render_ops_terminal, render_terminal
from edgeprof.report.compare import CompareEntry
from edgeprof.report.latency import Environment, LatencyReport, MeasuredLatency, ValidationEntry
from edgeprof.report.model import Profile
from tests.render import check_golden, tiny_cnn, wide_mixed

DEMO = str(Path(__file__).resolve().parents[2] / "models" / "demo.onnx")
WIDTHS = (80, 120)
RULE = "─" * 10


@pytest.fixture(scope="module")
def on_devices() -> Profile:
    """The demo model (names such as /features/features.2/expand/expand.0/Conv) on a board and a
    microcontroller it does not fit."""
    profile = api.profile(DEMO)
    profile = api.predict_latency(profile, ["rpi5", "stm32h7"])
    profile = api.estimate_energy(profile, ["rpi5", "stm32h7"])
    return dataclasses.replace(profile, model=dataclasses.replace(profile.model, path="models/demo.onnx"))


def _measured() -> MeasuredLatency:
    env = Environment("Test CPU @ 3 GHz", 8, "Linux", "3.11", "onnxruntime", "1.20", "2.0", 1, (0.1, 0.2, 0.3))
    return MeasuredLatency("onnxruntime 1.20 (CPUExecutionProvider)", 412, 10, 2.41e-3, 2.6e-3, 3.1e-3, 2.3e-3,
                           4.0e-3, 2.45e-3, 1e-4, 0.01, True, 2.4e-3, 0.05, 0.01, 1.0, "ci", ("image",), env, "timed")


def _check(text: str, width: int) -> None:
    assert all(len(line) <= width for line in text.splitlines()), max(text.splitlines(), key=len)


@pytest.mark.parametrize("width", WIDTHS)
def test_profile_with_devices(pytestconfig: pytest.Config, on_devices: Profile, width: int) -> None:
    text = render_terminal(on_devices, width=width)
    _check(text, width)
    assert "On devices" in text and "--details" in text and "Energy per inference on" not in text
    check_golden(pytestconfig, f"width_profile_w{width}.txt", text)


@pytest.mark.parametrize("width", WIDTHS)
def test_profile_details(on_devices: Profile, width: int) -> None:
    text = render_terminal(on_devices, ViewOptions(details=True), width=width)
    _check(text, width)
    assert "Energy per inference on rpi5" in text and "compute / memory" in text and "On devices" not in text


def test_compact_devices_are_far_shorter_than_the_details(on_devices: Profile) -> None:
    compact = render_terminal(on_devices, width=100).count("\n")
    details = render_terminal(on_devices, ViewOptions(details=True), width=100).count("\n")
    assert details - compact > 60


@pytest.mark.parametrize("width", WIDTHS)
def test_bench(pytestconfig: pytest.Config, width: int) -> None:
    profile = api.profile(DEMO, memory=False)
    profile = dataclasses.replace(profile, latency=LatencyReport(measured=_measured()),
                                  model=dataclasses.replace(profile.model, path="models/demo.onnx"))
    text = render_terminal(profile, width=width)
    _check(text, width)
    latency = text[text.index("\nLatency\n"):]
    assert "compute" not in latency and "measured: p90 2.6 ms, p99 3.1 ms" in latency  # no breakdown: no column
    check_golden(pytestconfig, f"width_bench_w{width}.txt", text)


def _entries() -> list[CompareEntry]:
    long = "checkpoints/experiments/2024-05-run-17/exports/mobile_segmenter_int8_final.onnx"
    return [CompareEntry("models/tiny_cnn.onnx", tiny_cnn()), CompareEntry(long, wide_mixed()),
            CompareEntry("broken.onnx", None, "broken.onnx: not an ONNX model")]


@pytest.mark.parametrize("width", WIDTHS)
def test_compare(pytestconfig: pytest.Config, width: int) -> None:
    text = render_compare(_entries(), "table", width=width)
    _check(text, width)
    assert any(line.startswith(RULE) for line in text.splitlines()[1:3])
    assert "int8_final.onnx" in text and "tiny_cnn.onnx (lower bound)" in text  # the tail of a long path stays
    assert "broken.onnx: could not be profiled: not an ONNX model" in text
    check_golden(pytestconfig, f"width_compare_w{width}.txt", text)


def test_compare_all_columns_keeps_everything() -> None:
    text = render_compare(_entries(), "table", width=80, all_columns=True)
    assert "checkpoints/experiments/2024-05-run-17/exports/mobile_segmenter_int8_final.onnx" in text
    assert "19,200 (19.2 kFLOPs)" in text and "Not shown" not in text


@pytest.mark.parametrize("width", WIDTHS)
def test_check(pytestconfig: pytest.Config, width: int) -> None:
    result = check_budget(tiny_cnn(), Budget(max_flops=Fraction(10_000), max_params=Fraction(5_000),
                                             max_size_mb=Fraction(3, 2)))
    text = render_check(result, "table", width=width)
    _check(text, width)
    check_golden(pytestconfig, f"width_check_w{width}.txt", text)


@pytest.mark.parametrize("width", WIDTHS)
def test_devices(pytestconfig: pytest.Config, width: int) -> None:
    devices = api.load_devices(["rpi5", "orin-nano", "sd8gen3", "coral", "stm32h7", "esp32-s3"])
    text = render_devices(devices, "table", width=width)
    _check(text, width)
    assert "154 d" in text  # rpi5's FP32 peak, derived
    check_golden(pytestconfig, f"width_devices_w{width}.txt", text)


def test_devices_all_columns_has_every_column() -> None:
    text = render_devices(api.load_devices(["rpi5"]), "table", width=80, all_columns=True)
    assert "Raspberry Pi 5" in text and "power W" in text


@pytest.mark.parametrize("width", WIDTHS)
def test_validate(pytestconfig: pytest.Config, width: int) -> None:
    entries = [ValidationEntry("models/demo.onnx", "host", 2.1e-3, 2.4e-3, -0.125),
               ValidationEntry("corpus/vision/very/deep/folder/structure/mobilenet_v3_large_quantised.onnx", "host",
                               8.0e-3, 7.2e-3, 0.111),
               ValidationEntry("corpus/odd.onnx", "host", None, None, None,
                               problem="not measured: ONNX Runtime cannot run com.example::Mystery (no kernel)")]
    text = render_validation(entries, "table", width=width)
    _check(text, width)
    assert "median |error|" in text and "quantised.onnx" in text
    check_golden(pytestconfig, f"width_validate_w{width}.txt", text)


@pytest.mark.parametrize("width", WIDTHS)
def test_ops(pytestconfig: pytest.Config, width: int) -> None:
    ops = registered_ops()
    entries = [ops[name] for name in ("Conv", "Relu", "Reshape", "If", "Softmax")]
    text = render_ops_terminal(entries, width=width)
    _check(text, width)
    check_golden(pytestconfig, f"width_ops_w{width}.txt", text)
