"""Power sensor readers against fake sysfs trees and a fake NVML library (no hardware needed)."""

from __future__ import annotations

import pathlib
import time
from pathlib import Path
from typing import Any

import pytest

from edgeprof.measure.power import (
    Ina3221Meter,
    NvmlMeter,
    RaplMeter,
    SensorError,
    SensorUnavailable,
    detect_meters,
    meter_from_spec,
    rapl_delta_uj,
)

MAX_RANGE = 262_143_328_850  # a real package zone's max_energy_range_uj


def rapl_zone(root: Path, name: str, kind: str, energy_uj: int, max_range: int = MAX_RANGE) -> Path:
    zone = root / name
    zone.mkdir(parents=True)
    (zone / "name").write_text(kind + "\n")
    (zone / "energy_uj").write_text(f"{energy_uj}\n")
    (zone / "max_energy_range_uj").write_text(f"{max_range}\n")
    return zone


def set_uj(zone: Path, value: int) -> None:
    (zone / "energy_uj").write_text(f"{value}\n")


def test_rapl_delta_without_and_with_a_wrap() -> None:
    assert rapl_delta_uj(1_000, 4_000, 10_000) == 3_000
    assert rapl_delta_uj(9_000, 500, 10_000) == 1_500  # wrapped once: (10,000 - 9,000) + 500


def test_rapl_reads_package_core_and_dram_and_totals_package_plus_dram(tmp_path: Path) -> None:
    root = tmp_path / "powercap"
    pkg = rapl_zone(root, "intel-rapl:0", "package-0", 1_000_000)
    core = rapl_zone(root, "intel-rapl:0:0", "core", 500_000)
    dram = rapl_zone(root, "intel-rapl:0:1", "dram", 200_000)
    (root / "intel-rapl").mkdir()  # the control-type directory: not a zone
    meter = RaplMeter(root)
    assert meter.domains == ("package-0", "core (intel-rapl:0:0)", "dram (intel-rapl:0:1)")
    meter.start()
    set_uj(pkg, 3_500_000)
    set_uj(core, 1_500_000)
    set_uj(dram, 700_000)
    by_domain = meter.stop()
    assert by_domain == pytest.approx({"package-0": 2.5, "core (intel-rapl:0:0)": 1.0, "dram (intel-rapl:0:1)": 0.5})
    assert meter.total(by_domain) == pytest.approx(3.0)  # package + dram; core is inside the package


def test_rapl_counter_wrap_is_handled(tmp_path: Path) -> None:
    root = tmp_path / "powercap"
    pkg = rapl_zone(root, "intel-rapl:0", "package-0", 9_990_000, max_range=10_000_000)
    meter = RaplMeter(root)
    meter.start()
    set_uj(pkg, 40_000)  # wrapped: 10,000 uJ to the top, then 40,000
    assert meter.stop() == pytest.approx({"package-0": 0.05})


def test_rapl_absent_root_and_absent_zones(tmp_path: Path) -> None:
    with pytest.raises(SensorUnavailable, match="absent"):
        RaplMeter(tmp_path / "nothing")
    (tmp_path / "powercap" / "intel-rapl").mkdir(parents=True)
    with pytest.raises(SensorUnavailable, match="no intel-rapl zone"):
        RaplMeter(tmp_path / "powercap")


def test_rapl_without_a_dram_zone_totals_the_packages(tmp_path: Path) -> None:
    root = tmp_path / "powercap"
    a = rapl_zone(root, "intel-rapl:0", "package-0", 0)
    b = rapl_zone(root, "intel-rapl:1", "package-1", 0)
    meter = RaplMeter(root)
    meter.start()
    set_uj(a, 1_000_000)
    set_uj(b, 2_000_000)
    assert meter.total(meter.stop()) == pytest.approx(3.0)


def test_rapl_permission_denied_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "class" / "powercap"
    rapl_zone(root, "intel-rapl:0", "package-0", 0)
    real = pathlib.Path.read_text

    def denied(self: Path, *args: Any, **kwargs: Any) -> str:
        if self.name == "energy_uj":  # as for a non-root user since CVE-2020-8694 (root reads anything)
            raise PermissionError(13, "Permission denied")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "read_text", denied)
    with pytest.raises(SensorError) as info:
        RaplMeter(root)
    message = str(info.value)
    assert "permission denied" in message and "root" in message and "\n" not in message
    meters, checked = detect_meters(tmp_path, nvml=FailingNvml())
    assert meters == []  # present but unreadable: reported, never used
    assert any("permission denied" in line and "not usable" in line for line in checked)


def test_rapl_malformed_counter(tmp_path: Path) -> None:
    root = tmp_path / "powercap"
    zone = rapl_zone(root, "intel-rapl:0", "package-0", 0)
    (zone / "energy_uj").write_text("lots\n")
    with pytest.raises(SensorError, match="integer"):
        RaplMeter(root)


# ---- NVML ---------------------------------------------------------------------------------------


class FakeNvml:
    """The pynvml functions the meter calls; the energy counter (mJ) advances by ``step_mj`` per read."""

    def __init__(self, gpus: int = 1, step_mj: int = 1500, supported: bool = True) -> None:
        self.counters = [10_000 * (i + 1) for i in range(gpus)]
        self.step_mj = step_mj
        self.supported = supported
        self.initialised = False

    def nvmlInit(self) -> None:
        self.initialised = True

    def nvmlDeviceGetCount(self) -> int:
        return len(self.counters)

    def nvmlDeviceGetHandleByIndex(self, i: int) -> int:
        return i

    def nvmlDeviceGetName(self, handle: int) -> bytes:
        return b"Fake GPU"

    def nvmlDeviceGetTotalEnergyConsumption(self, handle: int) -> int:
        if not self.supported:
            raise RuntimeError("NVML_ERROR_NOT_SUPPORTED")
        value = self.counters[handle]
        self.counters[handle] += self.step_mj
        return value


class FailingNvml(FakeNvml):
    def nvmlInit(self) -> None:
        raise RuntimeError("NVML Shared Library Not Found")


def test_nvml_sums_every_gpu_in_joules() -> None:
    lib = FakeNvml(gpus=2, step_mj=1500)
    meter = NvmlMeter(lib)
    assert lib.initialised
    assert meter.domains == ("gpu0: Fake GPU", "gpu1: Fake GPU")
    meter.start()
    by_domain = meter.stop()  # one read after the start read: 1,500 mJ each
    assert by_domain == pytest.approx({"gpu0: Fake GPU": 1.5, "gpu1: Fake GPU": 1.5})
    assert meter.total(by_domain) == pytest.approx(3.0)


def test_nvml_without_driver_or_counter() -> None:
    with pytest.raises(SensorUnavailable, match="no NVIDIA driver"):
        NvmlMeter(FailingNvml())
    with pytest.raises(SensorError, match="Volta"):
        NvmlMeter(FakeNvml(supported=False))
    with pytest.raises(SensorUnavailable, match="no GPU"):
        NvmlMeter(FakeNvml(gpus=0))


# ---- Jetson INA3221 ------------------------------------------------------------------------------


def hwmon_tree(sysfs: Path, rails: dict[int, tuple[str, int, int]]) -> Path:
    d = sysfs / "bus" / "i2c" / "drivers" / "ina3221" / "1-0040" / "hwmon" / "hwmon3"
    d.mkdir(parents=True)
    (d / "name").write_text("ina3221\n")
    for n, (label, mv, ma) in rails.items():
        (d / f"in{n}_label").write_text(label + "\n")
        (d / f"in{n}_input").write_text(f"{mv}\n")
        (d / f"curr{n}_input").write_text(f"{ma}\n")
    return d


def test_ina3221_hwmon_integrates_volts_times_amps(tmp_path: Path) -> None:
    hwmon_tree(tmp_path, {1: ("VDD_IN", 5000, 1000), 2: ("VDD_CPU_GPU_CV", 5000, 400)})  # 5 W and 2 W
    meter = Ina3221Meter(tmp_path, interval_s=0.002)
    assert meter.domains == ("VDD_IN", "VDD_CPU_GPU_CV")
    assert "VDD_IN" in meter.total_rule
    t0 = time.perf_counter()
    meter.start()
    time.sleep(0.03)
    by_domain = meter.stop()
    outer = time.perf_counter() - t0
    assert meter.samples >= 1
    # constant power: energy = power x the sampled span, which lies inside the outer window
    span = by_domain["VDD_IN"] / 5.0
    assert 0 < span <= outer
    assert by_domain["VDD_CPU_GPU_CV"] == pytest.approx(2.0 * span)
    assert meter.total(by_domain) == by_domain["VDD_IN"]  # the module input rail, not the sum


def test_ina3221_disabled_channel_and_sum_without_input_rail(tmp_path: Path) -> None:
    d = hwmon_tree(tmp_path, {1: ("VDD_CPU", 1000, 1000), 2: ("VDD_GPU", 1000, 2000), 3: ("VDD_SOC", 1000, 500)})
    (d / "in3_enable").write_text("0\n")
    meter = Ina3221Meter(tmp_path)
    assert meter.domains == ("VDD_CPU", "VDD_GPU")
    assert "sum of the rails" in meter.total_rule
    assert meter.total({"VDD_CPU": 1.0, "VDD_GPU": 2.0}) == 3.0


def test_ina3221_iio_driver_in_milliwatts(tmp_path: Path) -> None:
    d = tmp_path / "bus" / "i2c" / "drivers" / "ina3221x" / "6-0040" / "iio:device0"
    d.mkdir(parents=True)
    (d / "rail_name_0").write_text("POM_5V_IN\n")
    (d / "in_power0_input").write_text("2500\n")
    meter = Ina3221Meter(tmp_path, interval_s=0.002)
    assert meter.domains == ("POM_5V_IN",)
    meter.start()
    time.sleep(0.01)
    energy = meter.stop()["POM_5V_IN"]
    assert energy > 0
    assert meter.spec() == {"kind": "ina3221", "root": str(tmp_path), "interval_s": 0.002}


def test_ina3221_found_through_class_hwmon(tmp_path: Path) -> None:
    d = tmp_path / "class" / "hwmon" / "hwmon1"
    d.mkdir(parents=True)
    (d / "name").write_text("ina3221\n")
    (d / "in1_input").write_text("5000\n")
    (d / "curr1_input").write_text("100\n")
    other = tmp_path / "class" / "hwmon" / "hwmon0"
    other.mkdir()
    (other / "name").write_text("coretemp\n")
    assert Ina3221Meter(tmp_path).domains == ("hwmon1/in1",)


def test_ina3221_absent(tmp_path: Path) -> None:
    with pytest.raises(SensorUnavailable, match="INA3221"):
        Ina3221Meter(tmp_path)


# ---- detection ----------------------------------------------------------------------------------


def test_nothing_found_lists_every_sensor_checked(tmp_path: Path) -> None:
    meters, checked = detect_meters(tmp_path, nvml=FailingNvml())
    assert meters == []
    assert len(checked) == 3
    assert checked[0].startswith("RAPL:") and "absent" in checked[0]
    assert checked[1].startswith("NVML:")
    assert checked[2].startswith("INA3221:")


def test_found_sensors_in_order(tmp_path: Path) -> None:
    rapl_zone(tmp_path / "class" / "powercap", "intel-rapl:0", "package-0", 0)
    hwmon_tree(tmp_path, {1: ("VDD_IN", 5000, 100)})
    meters, checked = detect_meters(tmp_path, nvml=FakeNvml())
    assert [type(m).__name__ for m in meters] == ["RaplMeter", "NvmlMeter", "Ina3221Meter"]
    assert checked[0] == "RAPL: found (package-0)"


def test_meter_from_spec_round_trips(tmp_path: Path) -> None:
    rapl_zone(tmp_path / "powercap", "intel-rapl:0", "package-0", 0)
    meter = RaplMeter(tmp_path / "powercap")
    again = meter_from_spec(meter.spec())
    assert isinstance(again, RaplMeter) and again.domains == meter.domains
    with pytest.raises(SensorUnavailable, match="unknown sensor"):
        meter_from_spec({"kind": "thermometer"})
