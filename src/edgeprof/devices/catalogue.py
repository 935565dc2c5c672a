"""The device catalogue: edge targets with cited figures, loaded from TOML data.

The shipped catalogue is ``catalogue.toml`` beside this module; users add or override
devices with their own TOML file of the same schema. Every figure carries its value, a
tag (vendor / measured / derived / secondary) and its source; the unit is in the field name.
"""

from __future__ import annotations

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

from edgeprof.errors import UsageError

Tag = Literal["vendor", "measured", "derived", "secondary"]
TAGS: tuple[str, ...] = ("vendor", "measured", "derived", "secondary")
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
    anchors: tuple[str, ...] = ()
    origin: str = "built-in"

    def figures(self) -> dict[str, Figure]:
        return {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), Figure)}


_FIGURE_FIELDS = tuple(f.name for f in fields(Device) if f.name.endswith(("_per_s", "_bytes", "_w")))


@dataclass(frozen=True)
class Catalogue:
    devices: Mapping[str, Device] = field(default_factory=dict)

    def get(self, device_id: str) -> Device:
        try:
            return self.devices[device_id]
        except KeyError:
            known = ", ".join(sorted(self.devices))
            raise UsageError(f"unknown device {device_id!r}; known devices: {known}") from None


def load_catalogue(*extra: Path) -> Catalogue:
    """The built-in catalogue, then each ``extra`` TOML file (a device with an existing id replaces it)."""
    text = resources.files("edgeprof.devices").joinpath("catalogue.toml").read_text(encoding="utf-8")
    devices = _parse(text, "built-in")
    for path in extra:
        try:
            user_text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"device file {path}: cannot read it ({exc.strerror or exc})") from None
        devices.update(_parse(user_text, str(path)))
    return Catalogue(devices)


def _parse(text: str, origin: str) -> dict[str, Device]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"device file {origin}: not valid TOML ({exc})") from None
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
    allowed = {"id", "name", "soc", "class", "anchors", *_FIGURE_FIELDS}
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise UsageError(f"{where}: unknown field(s) {', '.join(unknown)}; figures must be one of {', '.join(_FIGURE_FIELDS)}")
    for key in ("id", "name", "class"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise UsageError(f"{where}: field {key!r} (a non-empty string) is required")
    if raw["class"] not in CLASSES:
        raise UsageError(f"{where}: class {raw['class']!r} is not one of {', '.join(CLASSES)}")
    figures = {k: _figure(raw[k], f"{where} ({raw['id']}).{k}") for k in _FIGURE_FIELDS if k in raw}
    anchors = raw.get("anchors", [])
    if not isinstance(anchors, list) or not all(isinstance(a, str) for a in anchors):
        raise UsageError(f"{where}: anchors must be a list of strings")
    return Device(
        id=raw["id"], name=raw["name"], soc=str(raw.get("soc", "")), device_class=raw["class"],
        anchors=tuple(anchors), origin=origin, **figures,
    )


def _figure(raw: Any, where: str) -> Figure:
    if not isinstance(raw, dict) or set(raw) != {"value", "tag", "source"}:
        raise UsageError(f"{where}: a figure is {{value = <number>, tag = <{'|'.join(TAGS)}>, source = <text>}}")
    value, tag, source = raw["value"], raw["tag"], raw["source"]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise UsageError(f"{where}: value must be a positive number")
    if tag not in TAGS:
        raise UsageError(f"{where}: tag {tag!r} is not one of {', '.join(TAGS)}")
    if not isinstance(source, str) or not source.strip():
        raise UsageError(f"{where}: source must say where the number comes from")
    return Figure(float(value), tag, source)
