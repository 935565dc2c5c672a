"""Power sensors: read energy over a window from whatever this machine has.

Three readers, each an :class:`EnergyMeter` (``start()`` then ``stop()`` -> joules per domain):

* :class:`RaplMeter`: Linux powercap RAPL under ``<sysfs>/class/powercap``: one zone per
  ``intel-rapl:N`` (package) and sub-zone ``intel-rapl:N:M`` (core, uncore, dram), each with
  ``name``, ``energy_uj`` and ``max_energy_range_uj``. The counter wraps at
  ``max_energy_range_uj``: a stop reading below the start reading is one wrap
  (``end + range - start``); more than one wrap in a window cannot be seen (a window must stay
  well under the wrap time, minutes at 100 W). ``energy_uj`` is root-only on most kernels since
  the 2020 RAPL side-channel advisory (CVE-2020-8694): permission denied is reported as such.
  The total is the package zones plus the DRAM zones (core and uncore are inside the package).
* :class:`NvmlMeter`: NVIDIA NVML's ``nvmlDeviceGetTotalEnergyConsumption`` (mJ since the driver
  loaded, Volta and newer), through the ``pynvml`` module or any object with the same functions
  (tests pass a fake one). Every GPU is summed.
* :class:`Ina3221Meter`: the INA3221 power monitors of NVIDIA Jetson modules, through hwmon
  (``<sysfs>/bus/i2c/drivers/ina3221/*/hwmon/hwmon*``: ``inN_label``, ``inN_input`` mV,
  ``currN_input`` mA) or the older iio driver (``<sysfs>/bus/i2c/drivers/ina3221x/*/iio:device*``:
  ``rail_name_N``, ``in_powerN_input`` mW). Instantaneous power is sampled in a thread and
  integrated (trapezoids). The total is the module input rail (``VDD_IN``/``POM_5V_IN``) when
  present, else the sum of the rails.

:func:`detect_meters` tries all three and says what it checked, so that a report can state
"no power sensor found (checked: ...)" instead of a figure.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "EnergyMeter",
    "Ina3221Meter",
    "NvmlMeter",
    "RaplMeter",
    "SensorError",
    "SensorUnavailable",
    "detect_meters",
    "meter_from_spec",
    "rapl_delta_uj",
]


class SensorUnavailable(Exception):
    """The sensor is not on this machine (absent files, no driver, no library): one line."""


class SensorError(Exception):
    """The sensor is there but cannot be read (permission denied, a malformed file): one line."""


class EnergyMeter(Protocol):
    """Energy over a window: ``start()``, run the workload, ``stop()`` -> joules per domain."""

    name: str
    domains: tuple[str, ...]
    total_rule: str  # which domains make the total

    def start(self) -> None: ...

    def stop(self) -> dict[str, float]: ...

    def total(self, by_domain: Mapping[str, float]) -> float: ...

    def spec(self) -> dict[str, Any]: ...


def _read_int(path: Path, what: str) -> int:
    try:
        text = path.read_text(encoding="ascii").strip()
    except PermissionError:
        raise SensorError(
            f"{what}: cannot read {path}: permission denied (RAPL energy counters are root-only on most kernels "
            "since the 2020 RAPL side-channel advisory, CVE-2020-8694; run as root or grant read access to energy_uj)"
        ) from None
    except FileNotFoundError:
        raise SensorUnavailable(f"{what}: {path} is absent") from None
    except OSError as exc:
        raise SensorError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    try:
        return int(text)
    except ValueError:
        raise SensorError(f"{what}: {path} does not hold an integer ({text[:40]!r})") from None


def rapl_delta_uj(start_uj: int, end_uj: int, max_range_uj: int) -> int:
    """Energy between two readings of a RAPL counter that wraps at ``max_range_uj`` (at most one wrap)."""
    if end_uj >= start_uj:
        return end_uj - start_uj
    return end_uj + max_range_uj - start_uj


# ---- RAPL -------------------------------------------------------------------------------------


@dataclass
class _Zone:
    label: str  # "package-0", "dram", "core (intel-rapl:0:0)"
    kind: str  # the zone's name file: package-0, core, uncore, dram, psys
    path: Path
    max_range_uj: int
    top_level: bool


_RAPL_DIR = re.compile(r"^intel-rapl:\d+(:\d+)?$")


@dataclass
class RaplMeter:
    """Linux powercap RAPL zones under ``root`` (default ``/sys/class/powercap``)."""

    root: Path = Path("/sys/class/powercap")
    name: str = field(init=False)
    domains: tuple[str, ...] = field(init=False)
    total_rule: str = "package zones + DRAM zones (core and uncore are inside the package)"
    _zones: list[_Zone] = field(init=False, default_factory=list)
    _start: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        self.name = f"Linux powercap RAPL ({self.root})"
        if not self.root.is_dir():
            raise SensorUnavailable(f"RAPL: {self.root} is absent")
        dirs = sorted(p for p in self.root.iterdir() if _RAPL_DIR.match(p.name) and (p / "energy_uj").exists())
        if not dirs:
            raise SensorUnavailable(f"RAPL: no intel-rapl zone with energy_uj under {self.root}")
        for d in dirs:
            try:
                kind = (d / "name").read_text(encoding="ascii").strip() or d.name
            except OSError:
                kind = d.name
            max_range = _read_int(d / "max_energy_range_uj", "RAPL")
            label = kind if d.name.count(":") == 1 else f"{kind} ({d.name})"
            self._zones.append(_Zone(label, kind, d, max_range, d.name.count(":") == 1))
        self.domains = tuple(z.label for z in self._zones)
        self._read_all()  # permission problems surface now, not after the workload

    def _read_all(self) -> dict[str, int]:
        return {z.label: _read_int(z.path / "energy_uj", "RAPL") for z in self._zones}

    def start(self) -> None:
        self._start = self._read_all()

    def stop(self) -> dict[str, float]:
        end = self._read_all()
        return {z.label: rapl_delta_uj(self._start[z.label], end[z.label], z.max_range_uj) * 1e-6 for z in self._zones}

    def total(self, by_domain: Mapping[str, float]) -> float:
        counted = [z.label for z in self._zones if (z.top_level and z.kind.startswith("package")) or z.kind == "dram"]
        if not counted:  # e.g. only psys: the platform zone is the whole machine
            counted = [z.label for z in self._zones if z.top_level]
        return sum(by_domain[label] for label in counted)

    def spec(self) -> dict[str, Any]:
        return {"kind": "rapl", "root": str(self.root)}


# ---- NVML -------------------------------------------------------------------------------------


@dataclass
class NvmlMeter:
    """NVIDIA GPUs through NVML (``lib``: the ``pynvml`` module or an object with its functions)."""

    lib: Any = None
    name: str = field(init=False, default="NVIDIA NVML total energy counter")
    domains: tuple[str, ...] = field(init=False)
    total_rule: str = "every GPU summed"
    _handles: list[tuple[str, Any]] = field(init=False, default_factory=list)
    _start: dict[str, int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        if self.lib is None:
            import importlib

            try:
                self.lib = importlib.import_module("pynvml")
            except ImportError:
                raise SensorUnavailable("NVML: the pynvml package is not installed") from None
        lib = self.lib
        try:
            lib.nvmlInit()
        except Exception as exc:
            raise SensorUnavailable(f"NVML: no NVIDIA driver ({_first_line(exc)})") from None
        try:
            count = int(lib.nvmlDeviceGetCount())
            for i in range(count):
                handle = lib.nvmlDeviceGetHandleByIndex(i)
                label = f"gpu{i}: {_text(lib.nvmlDeviceGetName(handle))}"
                self._handles.append((label, handle))
        except Exception as exc:
            raise SensorError(f"NVML: cannot list the GPUs ({_first_line(exc)})") from None
        if not self._handles:
            raise SensorUnavailable("NVML: the driver reports no GPU")
        self.domains = tuple(label for label, _ in self._handles)
        self._read_all()

    def _read_all(self) -> dict[str, int]:
        out = {}
        for label, handle in self._handles:
            try:
                out[label] = int(self.lib.nvmlDeviceGetTotalEnergyConsumption(handle))
            except Exception as exc:
                raise SensorError(f"NVML: {label}: no total energy counter ({_first_line(exc)}; Volta or newer "
                                  "GPUs have one)") from None
        return out

    def start(self) -> None:
        self._start = self._read_all()

    def stop(self) -> dict[str, float]:
        end = self._read_all()
        return {label: (end[label] - self._start[label]) * 1e-3 for label in end}  # mJ, 64-bit: no wrap

    def total(self, by_domain: Mapping[str, float]) -> float:
        return sum(by_domain.values())

    def spec(self) -> dict[str, Any]:
        return {"kind": "nvml"}


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


# ---- Jetson INA3221 ---------------------------------------------------------------------------


@dataclass
class _Rail:
    label: str
    read_w: Callable[[], float]


_INPUT_RAILS = ("VDD_IN", "POM_5V_IN")


@dataclass
class Ina3221Meter:
    """Jetson INA3221 rails under ``sysfs`` (default ``/sys``), sampled every ``interval_s`` in a thread."""

    sysfs: Path = Path("/sys")
    interval_s: float = 0.005
    name: str = field(init=False)
    domains: tuple[str, ...] = field(init=False)
    total_rule: str = field(init=False)
    _rails: list[_Rail] = field(init=False, default_factory=list)
    _energy: dict[str, float] = field(init=False, default_factory=dict)
    _stop: threading.Event = field(init=False, default_factory=threading.Event)
    _thread: threading.Thread | None = field(init=False, default=None)
    _error: str = field(init=False, default="")
    samples: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.sysfs = Path(self.sysfs)
        self._rails = _hwmon_rails(self.sysfs) or _iio_rails(self.sysfs)
        if not self._rails:
            raise SensorUnavailable(
                f"INA3221: no ina3221 monitor under {self.sysfs}/bus/i2c/drivers/ina3221*, {self.sysfs}/class/hwmon")
        self.name = f"Jetson INA3221 rails ({self.sysfs})"
        self.domains = tuple(r.label for r in self._rails)
        inputs = [r.label for r in self._rails if r.label.upper() in _INPUT_RAILS]
        self.total_rule = (f"the module input rail {inputs[0]}" if inputs else
                           "the sum of the rails (no module input rail: the carrier board is not covered)")
        for rail in self._rails:
            rail.read_w()  # permission problems surface now

    def _sample(self) -> dict[str, float]:
        return {r.label: r.read_w() for r in self._rails}

    def start(self) -> None:
        self._energy = {r.label: 0.0 for r in self._rails}
        self._stop.clear()
        self._error = ""
        self.samples = 0
        first = (time.perf_counter(), self._sample())
        self._thread = threading.Thread(target=self._loop, args=(first,), daemon=True)
        self._thread.start()

    def _loop(self, first: tuple[float, dict[str, float]]) -> None:
        last_t, last_p = first
        while True:
            stopping = self._stop.wait(self.interval_s)
            try:
                now, power = time.perf_counter(), self._sample()
            except (SensorError, SensorUnavailable) as exc:
                self._error = str(exc)
                return
            for label, p in power.items():
                self._energy[label] += (p + last_p[label]) / 2 * (now - last_t)
            last_t, last_p = now, power
            self.samples += 1
            if stopping:
                return

    def stop(self) -> dict[str, float]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._error:
            raise SensorError(self._error)
        return dict(self._energy)

    def total(self, by_domain: Mapping[str, float]) -> float:
        for label in by_domain:
            if label.upper() in _INPUT_RAILS:
                return by_domain[label]
        return sum(by_domain.values())

    def spec(self) -> dict[str, Any]:
        return {"kind": "ina3221", "root": str(self.sysfs), "interval_s": self.interval_s}


def _hwmon_dirs(sysfs: Path) -> list[Path]:
    found = sorted(sysfs.glob("bus/i2c/drivers/ina3221/*/hwmon/hwmon*"))
    for d in sorted(sysfs.glob("class/hwmon/hwmon*")):
        try:
            if (d / "name").read_text(encoding="ascii").strip() == "ina3221" and d not in found:
                found.append(d)
        except OSError:
            continue
    return found


def _hwmon_rails(sysfs: Path) -> list[_Rail]:
    rails = []
    for d in _hwmon_dirs(sysfs):
        for volt in sorted(d.glob("in[0-9]*_input")):
            n = volt.name[2:-6]
            curr = d / f"curr{n}_input"
            if not curr.exists():
                continue
            label_file = d / f"in{n}_label"
            try:
                label = label_file.read_text(encoding="utf-8").strip() if label_file.exists() else f"{d.name}/in{n}"
            except OSError:
                label = f"{d.name}/in{n}"
            if (d / f"in{n}_enable").exists() and _read_int(d / f"in{n}_enable", "INA3221") == 0:
                continue  # a disabled channel reads zero
            rails.append(_Rail(label, _volt_amp(volt, curr)))
    return rails


def _volt_amp(volt: Path, curr: Path) -> Callable[[], float]:
    return lambda: _read_int(volt, "INA3221") * _read_int(curr, "INA3221") * 1e-6  # mV x mA -> W


def _iio_rails(sysfs: Path) -> list[_Rail]:
    rails = []
    for d in sorted(sysfs.glob("bus/i2c/drivers/ina3221x/*/iio:device*")):
        for power in sorted(d.glob("in_power[0-9]*_input")):
            n = power.name[len("in_power"):-len("_input")]
            name_file = d / f"rail_name_{n}"
            try:
                label = name_file.read_text(encoding="utf-8").strip() if name_file.exists() else f"{d.name}/power{n}"
            except OSError:
                label = f"{d.name}/power{n}"
            rails.append(_Rail(label, _milliwatts(power)))
    return rails


def _milliwatts(path: Path) -> Callable[[], float]:
    return lambda: _read_int(path, "INA3221") * 1e-3


# ---- detection --------------------------------------------------------------------------------


def detect_meters(sysfs: Path = Path("/sys"), *, nvml: Any = None) -> tuple[list[EnergyMeter], list[str]]:
    """Every usable meter of this machine, and one line per sensor checked (what was found or why not).
    A sensor that is present but unreadable (permission denied) is reported, not used."""
    meters: list[EnergyMeter] = []
    checked: list[str] = []
    makers: list[tuple[str, Callable[[], EnergyMeter]]] = [
        ("RAPL", lambda: RaplMeter(Path(sysfs) / "class" / "powercap")),
        ("NVML", lambda: NvmlMeter(nvml)),
        ("INA3221", lambda: Ina3221Meter(Path(sysfs))),
    ]
    for what, make in makers:
        try:
            meter = make()
        except SensorUnavailable as exc:
            checked.append(str(exc))
            continue
        except SensorError as exc:
            checked.append(f"{exc} (present but not usable)")
            continue
        meters.append(meter)
        checked.append(f"{what}: found ({', '.join(meter.domains)})")
    return meters, checked


def meter_from_spec(spec: Mapping[str, Any]) -> EnergyMeter:
    """Rebuild a meter from :meth:`EnergyMeter.spec` (in the measurement subprocess)."""
    kind = spec.get("kind")
    if kind == "rapl":
        return RaplMeter(Path(str(spec["root"])))
    if kind == "nvml":
        return NvmlMeter()
    if kind == "ina3221":
        return Ina3221Meter(Path(str(spec["root"])), float(spec.get("interval_s", 0.005)))
    raise SensorUnavailable(f"unknown sensor kind {kind!r}")
