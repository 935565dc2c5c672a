"""Measured energy per inference: the arithmetic, "no sensor" stated plainly, and a real ONNX Runtime
run in the measurement subprocess read through a fake RAPL tree that a thread keeps counting."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgeprof import api
from edgeprof.errors import MeasurementError
from edgeprof.measure.energy import per_inference
from edgeprof.measure.power import RaplMeter
from tests.measure.test_power import FailingNvml, rapl_zone

DEMO = Path(__file__).resolve().parents[2] / "models" / "demo.onnx"


def test_per_inference_subtracts_the_idle_baseline() -> None:
    # 12 J over 4 s at an idle 2 W: 12 - 8 = 4 J for 100 runs = 40 mJ each
    assert per_inference(12.0, 2.0, 4.0, 100) == pytest.approx(0.04)
    with pytest.raises(MeasurementError):
        per_inference(1.0, 0.0, 1.0, 0)


def test_no_sensor_is_said_plainly_and_no_figure_is_made_up(tmp_path: Path) -> None:
    prof = api.profile(str(DEMO), memory=False)
    out = api.measure_energy(prof, sysfs_root=tmp_path, nvml=FailingNvml())
    assert out.energy is not None
    assert out.energy.measured is None
    note = out.energy.sensor_note
    assert note.startswith("no power sensor found (checked: RAPL:")
    assert "NVML" in note and "INA3221" in note
    assert out.energy.measurement_error == ""
    assert '"measured_j"' not in out.to_json()


@pytest.fixture()
def counting_rapl(tmp_path: Path) -> Iterator[Path]:
    """A fake powercap tree whose package counter advances at 10 W while the test runs."""
    root = tmp_path / "class" / "powercap"
    zone = rapl_zone(root, "intel-rapl:0", "package-0", 0)
    stop = threading.Event()

    def count() -> None:
        t0 = time.perf_counter()
        while not stop.wait(0.001):
            tmp = zone / "energy_uj.tmp"
            tmp.write_text(f"{int((time.perf_counter() - t0) * 10e6)}\n")
            tmp.replace(zone / "energy_uj")  # atomic: the reader never sees half a number

    thread = threading.Thread(target=count, daemon=True)
    thread.start()
    yield tmp_path
    stop.set()
    thread.join()


def test_measured_in_the_subprocess_with_a_fake_rapl(counting_rapl: Path) -> None:
    prof = api.profile(str(DEMO), memory=False)
    out = api.measure_energy(prof, sysfs_root=counting_rapl, nvml=FailingNvml(), runs_time_s=0.3, idle_s=0.2)
    assert out.energy is not None
    assert out.energy.measurement_error == ""
    m = out.energy.measured
    assert m is not None
    assert m.sensor.startswith("Linux powercap RAPL")
    assert m.domains == ("package-0",)
    assert m.runs > 10  # first inference + warm-up + timed runs
    # a constant 10 W: the idle baseline and the runs both read ~10 W, so the difference is ~0 per
    # inference; the arithmetic holds exactly
    assert m.idle_power_w == pytest.approx(10.0, rel=0.5)
    assert m.measured_j == pytest.approx((m.total_j - m.idle_power_w * m.duration_s) / m.runs)
    assert "sensor used: Linux powercap RAPL" in out.energy.sensor_note


def test_a_model_that_cannot_be_measured_gets_an_error_not_a_figure(counting_rapl: Path) -> None:
    prof = api.profile(str(DEMO), memory=False)
    import dataclasses

    torch_like = dataclasses.replace(prof, model=dataclasses.replace(prof.model, format="torch", path=""))
    out = api.measure_energy(torch_like, sysfs_root=counting_rapl, nvml=FailingNvml())
    assert out.energy is not None and out.energy.measured is None
    assert "not available" in out.energy.measurement_error


def test_the_meter_is_checked_before_the_run(tmp_path: Path) -> None:
    rapl_zone(tmp_path / "powercap", "intel-rapl:0", "package-0", 5)
    assert RaplMeter(tmp_path / "powercap").spec()["kind"] == "rapl"
