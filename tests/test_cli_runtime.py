"""--runtime and --precision through the real command line (#14 parts 2 and 4)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.test_cli import CONSOLE_SCRIPT, run

DEMO = str(Path(__file__).resolve().parents[1] / "models" / "demo.onnx")


def _script(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR", "FORCE_COLOR")}
    return subprocess.run([str(CONSOLE_SCRIPT), *argv], capture_output=True, text=True, env=env, timeout=300,
                          check=False)


def test_precision_and_runtime_in_the_json_of_the_console_script() -> None:
    done = _script("profile", DEMO, "--device", "coral", "--device", "rpi5", "--precision", "int8",
                   "--runtime", "xnnpack", "--format", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    for dev in ("coral", "rpi5"):
        pred = data["latency"]["predicted"][dev]
        assert pred["precision"] == "int8" and pred["what_if"] is True and pred["runtime"] == "xnnpack"
        assert data["energy"]["estimated"][dev]["precision"] == "int8"
    part = data["latency"]["predicted"]["coral"]["partitioning"]
    assert part["default_runtime"] == "edgetpu" and part["device_kernels"] == 0 and part["host_kernels"] > 0


def test_default_runtime_stated_and_fp32_falls_back_on_coral(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "profile", DEMO, "--device", "coral", "--no-color")
    assert code == 0 and re.search(r"coral +edgetpu \(\d+ on host\)", out)  # the compact row per device
    code, out, _ = run(capsys, "profile", DEMO, "--device", "coral", "--no-color", "--details")
    assert code == 0
    assert "runtime edgetpu (default; offers edgetpu, xnnpack)" in out
    assert "precision fp32 not run by edgetpu (it runs int8)" in out
    assert "no rate" not in out
    for fmt in ("md", "html"):
        code, out, _ = run(capsys, "profile", DEMO, "--device", "coral", "--precision", "fp16", "--format", fmt)
        assert code == 0 and "WHAT-IF" in out and "runtime edgetpu" in out


@pytest.mark.parametrize("argv, message", [
    (("--device", "coral", "--runtime", "qnn"), "device 'coral' does not offer runtime 'qnn'; it offers edgetpu, xnnpack"),
    (("--device", "coral", "--precision", "int3"), "argument --precision: invalid choice: 'int3'"),
    (("--precision", "int8",), "--runtime and --precision need --device ID"),
    (("--device", "rpi5", "--runtime", "nosuch"), "does not offer runtime 'nosuch'"),
])
def test_bad_values_give_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...],
                                             message: str) -> None:
    code, out, err = run(capsys, "profile", DEMO, *argv)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1
