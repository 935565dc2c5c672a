"""`edgeprof profile --device` energy figures, `--fps`/`--battery-wh`, and `--measure` on a machine
without a power sensor (this VM) or with a fake one (`--sysfs-root`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeprof.cli import main

DEMO = Path(__file__).resolve().parents[1] / "models" / "demo.onnx"


def test_profile_device_puts_energy_in_the_json(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert main(["profile", str(DEMO), "--device", "stm32h7", "--device", "rpi5", "--fps", "10", "--battery-wh", "5",
                 "--no-memory", "--format", "json", "-o", str(out)]) == 0
    energy = json.loads(out.read_text())["energy"]
    assert set(energy["estimated"]) == {"stm32h7", "rpi5"}
    e = energy["estimated"]["rpi5"]
    r = e["estimated_j"]
    assert 0 < r["low"] <= r["mid"] <= r["high"]
    assert e["method"].startswith("mid = (idle power + (loaded - idle power) x utilisation) x predicted latency")
    assert any("Horowitz" in s for s in e["sources"])
    assert any(s.startswith("rpi5.process_node_nm = 16") for s in e["sources"])
    assert e["user"]["fps"] == 10 and e["user"]["battery_wh"] == 5
    assert e["user"]["battery_source"] == "given by the user"
    assert e["user"]["energy_per_hour_j"]["mid"] == pytest.approx(r["mid"] * 10 * 3600)
    assert energy["measured"] is None  # no --measure: never a measured figure


def test_fps_without_a_device_is_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", str(DEMO), "--fps", "30"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "need --device" in err
    assert main(["profile", str(DEMO), "--device", "rpi5", "--fps", "0"]) == 2
    assert "not a positive number" in capsys.readouterr().err


def test_measure_without_a_sensor_says_so_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    code = main(["profile", str(DEMO), "--measure", "--measure-runs", "1", "--device", "rpi5",
                 "--sysfs-root", str(tmp_path / "sys"), "--format", "json", "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    energy = json.loads(out.read_text())["energy"]
    assert energy["measured"] is None
    assert energy["sensor_note"].startswith("no power sensor found (checked: RAPL:")
    assert energy["estimated"]["rpi5"]["estimated_j"]["mid"] > 0
