"""The device catalogue: edge targets with cited figures, loaded from TOML data.

The shipped catalogue is ``catalogue.toml`` beside this module; users add or override
devices with their own TOML file of the same schema. Every figure carries its value, a
tag (vendor / measured / derived / secondary / fitted / assumed) and its source; the unit is in the field name.

Latency prediction also reads, per device: ``efficiency`` (the attainable fraction of the peak rate,
keyed ``"<precision>:<category>"``, ``"<category>"``, ``"<precision>:default"`` or ``"default"``,
looked up in that order; precision is ``fp32``/``fp16``/``int8``), ``bandwidth_efficiency`` (the
attainable fraction of the memory bandwidth), ``per_node_overhead_s`` and
``per_inference_overhead_s``. The energy model reads ``power_w``, ``process_node_nm`` (the
technology node, for scaling the 45 nm per-operation energies) and ``onchip_bytes`` (the on-chip
SRAM/cache a layer's working set can stay in; ``sram_bytes`` when absent). A device that lacks them takes its class's entry of the
``[defaults.<class>]`` tables of the built-in catalogue, tagged ``assumed`` (an honest guess whose
source gives the reasoning); ``edgeprof calibrate`` replaces them by measured figures.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any, Literal

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from edgeprof.errors import UsageError, did_you_mean
from edgeprof.safe_files import MAX_TEXT_BYTES, UnreadableFile, read_regular_file

Tag = Literal["vendor", "measured", "derived", "secondary", "fitted", "assumed"]
TAGS: tuple[str, ...] = ("vendor", "measured", "derived", "secondary", "fitted", "assumed")
DeviceClass = Literal["sbc", "gpu-module", "phone", "laptop", "accelerator", "mcu", "host"]
CLASSES: tuple[str, ...] = ("sbc", "gpu-module", "phone", "laptop", "accelerator", "mcu", "host")


@dataclass(frozen=True)
class Figure:
    """One cited number: its value (in the unit its field name carries), tag and source."""

    value: float
    tag: Tag
    source: str


@dataclass(frozen=True)
class Device:
    """A target device. Figures absent from the sources stay ``None``: never guessed."""

    id: str
    name: str
    soc: str
    device_class: DeviceClass
    peak_fp32_flop_per_s: Figure | None = None
    peak_fp16_flop_per_s: Figure | None = None
    peak_int8_op_per_s: Figure | None = None
    memory_bandwidth_bytes_per_s: Figure | None = None
    ram_bytes: Figure | None = None
    sram_bytes: Figure | None = None
    flash_bytes: Figure | None = None
    power_w: Figure | None = None
    onchip_bytes: Figure | None = None  # on-chip SRAM/cache a layer's working set can stay in (energy model)
    process_node_nm: Figure | None = None  # the technology node (marketing name: N4 is "4")
    bandwidth_efficiency: Figure | None = None  # a fraction in (0, 1]
    per_node_overhead_s: Figure | None = None
    per_inference_overhead_s: Figure | None = None
    efficiency: Mapping[str, Figure] = field(default_factory=dict)  # fractions in (0, 1]; see the module docstring
    anchors: tuple[str, ...] = ()
    origin: str = "built-in"

    def figures(self) -> dict[str, Figure]:
        out = {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), Figure)}
        out.update({f"efficiency.{k}": v for k, v in self.efficiency.items()})
        return out

    def peak_rate(self, precision: str) -> Figure | None:
        """The peak rate for ``fp32``/``fp16``/``int8`` (FLOP/s or integer op/s)."""
        return {"fp32": self.peak_fp32_flop_per_s, "fp16": self.peak_fp16_flop_per_s,
                "int8": self.peak_int8_op_per_s}.get(precision)

    def efficiency_for(self, precision: str, category: str) -> Figure | None:
        """The attainable fraction of the peak for ``precision`` and op ``category`` (most specific key first)."""
        for key in (f"{precision}:{category}", category, f"{precision}:default", "default"):
            if key in self.efficiency:
                return self.efficiency[key]
        return None


_FIGURE_FIELDS = tuple(f.name for f in fields(Device) if f.name.endswith(("_per_s", "_bytes", "_w", "_nm")))
_FRACTION_FIELDS = ("bandwidth_efficiency",)
_OVERHEAD_FIELDS = ("per_node_overhead_s", "per_inference_overhead_s")
_DEFAULT_FIELDS = (*_FRACTION_FIELDS, *_OVERHEAD_FIELDS, "efficiency")


@dataclass(frozen=True)
class Catalogue:
    devices: Mapping[str, Device] = field(default_factory=dict)

    def get(self, device_id: str) -> Device:
        try:
            return self.devices[device_id]
        except KeyError:
            known = ", ".join(sorted(self.devices))
            hint = ("; run 'edgeprof calibrate' (it stores the device where --device host finds it) or pass "
                    "--devices-file FILE" if device_id == "host"
                    else did_you_mean(device_id, self.devices, aliases={d.name: i for i, d in self.devices.items()}))
            raise UsageError(f"unknown device {device_id!r}{hint}; known devices: {known}") from None


def load_catalogue(*extra: Path) -> Catalogue:
    """The built-in catalogue, then each ``extra`` TOML file (a device with an existing id replaces it)."""
    text = resources.files("edgeprof.devices").joinpath("catalogue.toml").read_text(encoding="utf-8")
    data = _toml(text, "built-in")
    defaults = _class_defaults(data.get("defaults", {}))
    devices = _parse(data, "built-in")
    for path in extra:
        try:  # a regular file only (``/dev/zero`` never ends, a FIFO blocks), at most 16 MiB
            user_text = read_regular_file(path, MAX_TEXT_BYTES).decode("utf-8")
        except UnreadableFile as exc:
            raise UsageError(f"device file {path}: cannot read it ({exc})") from None
        except UnicodeDecodeError:
            raise UsageError(f"device file {path}: not UTF-8 text") from None
        devices.update(_parse(_toml(user_text, str(path)), str(path)))
    return Catalogue({k: _with_defaults(d, defaults.get(d.device_class, {})) for k, d in devices.items()})


def _toml(text: str, origin: str) -> dict[str, Any]:
    try:
        return dict(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"device file {origin}: not valid TOML ({exc})") from None
    except ValueError:  # tomllib converts an integer of more than 4,300 digits: Python refuses
        raise UsageError(f"device file {origin}: holds an integer of more than 4,300 digits") from None
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        raise UsageError(f"device file {origin}: not valid TOML (arrays or tables nested too deeply)") from None


def _class_defaults(raw: Any) -> dict[str, dict[str, Any]]:
    """The built-in ``[defaults.<class>]`` tables, parsed like a device's own figures."""
    out: dict[str, dict[str, Any]] = {}
    for cls, table in dict(raw).items():
        where = f"built-in: defaults.{cls}"
        unknown = sorted(set(table) - set(_DEFAULT_FIELDS))
        if cls not in CLASSES or unknown:
            raise UsageError(f"{where}: unknown class or field(s) {', '.join(unknown)}")
        out[cls] = _latency_figures(table, where)
    return out


def _with_defaults(device: Device, defaults: Mapping[str, Any]) -> Device:
    import dataclasses

    changes = {k: v for k, v in defaults.items() if k != "efficiency" and getattr(device, k) is None}
    if not device.efficiency and defaults.get("efficiency"):
        changes["efficiency"] = defaults["efficiency"]
    return dataclasses.replace(device, **changes) if changes else device


def _latency_figures(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in (*_FRACTION_FIELDS, *_OVERHEAD_FIELDS):
        if key in raw:
            fig = _figure(raw[key], f"{where}.{key}")
            if key in _FRACTION_FIELDS and fig.value > 1:
                raise UsageError(f"{where}.{key}: a fraction must be in (0, 1]")
            out[key] = fig
    if "efficiency" in raw:
        table = raw["efficiency"]
        if not isinstance(table, dict) or not table:
            raise UsageError(f"{where}.efficiency: a table of figures keyed by category, precision:category or default")
        eff = {}
        for key, value in table.items():
            fig = _figure(value, f"{where}.efficiency.{key}")
            if fig.value > 1:
                raise UsageError(f"{where}.efficiency.{key}: a fraction must be in (0, 1]")
            eff[str(key)] = fig
        out["efficiency"] = eff
    return out


def _parse(data: Mapping[str, Any], origin: str) -> dict[str, Device]:
    entries = data.get("device", [])
    if not isinstance(entries, list):
        raise UsageError(f"device file {origin}: [[device]] entries expected")
    out: dict[str, Device] = {}
    for i, raw in enumerate(entries):
        dev = _device(raw, f"{origin}: device #{i + 1}", origin)
        if dev.id in out:
            raise UsageError(f"device file {origin}: device id {dev.id!r} appears twice")
        out[dev.id] = dev
    return out


def _device(raw: Any, where: str, origin: str) -> Device:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: a device must be a table")
    allowed = {"id", "name", "soc", "class", "anchors", *_FIGURE_FIELDS, *_DEFAULT_FIELDS}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise UsageError(f"{where}: unknown field(s) {', '.join(unknown)}; figures must be one of {', '.join(_FIGURE_FIELDS)}")
    for key in ("id", "name", "class"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise UsageError(f"{where}: field {key!r} (a non-empty string) is required")
    if raw["class"] not in CLASSES:
        raise UsageError(f"{where}: class {raw['class']!r} is not one of {', '.join(CLASSES)}")
    figures: dict[str, Any] = {k: _figure(raw[k], f"{where} ({raw['id']}).{k}") for k in _FIGURE_FIELDS if k in raw}
    anchors = raw.get("anchors", [])
    if not isinstance(anchors, list) or not all(isinstance(a, str) for a in anchors):
        raise UsageError(f"{where}: anchors must be a list of strings")
    latency: dict[str, Any] = _latency_figures(raw, f"{where} ({raw['id']})")
    return Device(
        id=raw["id"], name=raw["name"], soc=str(raw.get("soc", "")), device_class=raw["class"],
        anchors=tuple(anchors), origin=origin, **figures, **latency,
    )


def parse_figure(raw: Any, where: str) -> Figure:
    """One ``{value, tag, source}`` figure (``where`` names it in the one-line error); shared with
    :mod:`edgeprof.devices.runtimes`."""
    return _figure(raw, where)


def _figure(raw: Any, where: str) -> Figure:
    if not isinstance(raw, dict) or set(raw) != {"value", "tag", "source"}:
        raise UsageError(f"{where}: a figure is {{value = <number>, tag = <{'|'.join(TAGS)}>, source = <text>}}")
    value, tag, source = raw["value"], raw["tag"], raw["source"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise UsageError(f"{where}: value must be a positive number")
    try:
        number = float(value)
    except OverflowError:
        raise UsageError(f"{where}: value is too large for a device figure (over 1.8e308)") from None
    if not (math.isfinite(number) and number > 0):
        raise UsageError(f"{where}: value must be a positive finite number, not {value!r}")
    if tag not in TAGS:
        raise UsageError(f"{where}: tag {tag!r} is not one of {', '.join(TAGS)}")
    if not isinstance(source, str) or not source.strip():
        raise UsageError(f"{where}: source must say where the number comes from")
    return Figure(number, tag, source)
