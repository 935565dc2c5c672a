"""Runtimes and accelerators: which ops and precisions each runs, how it partitions a graph, and
which runtimes each catalogue device offers (``runtimes.toml`` beside this module; data only).

A :class:`Runtime` says what it runs (``ops``: canonical op names, or every op but ``unsupported``;
``precisions``: the ``fp32``/``fp16``/``int8`` classes) and its partition rule:

* ``whole-graph`` (CPU and MCU runtimes): every kernel runs on the processor; an op outside ``ops``
  runs in the runtime's reference kernels on the same cores (said so, not moved);
* ``per-op`` (delegates: QNN, Core ML, TensorRT, OpenVINO, Ethos-U): each kernel the runtime cannot
  run falls back to the host CPU, the others stay on the accelerator;
* ``first-unsupported-to-end`` (the Edge TPU compiler): the first kernel it cannot run and every
  kernel after it run on the host CPU.

A :class:`DeviceRuntimes` entry names a device's runtimes, its default, and for an accelerator the
host CPU (a catalogue device id) whose figures run the fallback kernels. Figures reuse the catalogue's
``{value, tag, source}`` form (:class:`~edgeprof.devices.catalogue.Figure`).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from edgeprof.devices.catalogue import Figure, parse_figure
from edgeprof.errors import UsageError

__all__ = [
    "KINDS", "PARTITION_RULES", "PRECISIONS", "DeviceRuntimes", "Runtime", "RuntimeTable", "load_runtimes",
]

Kind = Literal["cpu", "gpu", "npu", "tpu", "mcu"]
KINDS: tuple[str, ...] = ("cpu", "gpu", "npu", "tpu", "mcu")
Rule = Literal["whole-graph", "per-op", "first-unsupported-to-end"]
PARTITION_RULES: tuple[str, ...] = ("whole-graph", "per-op", "first-unsupported-to-end")
PRECISIONS: tuple[str, ...] = ("fp32", "fp16", "int8")  # narrowest last is not implied: see WIDER
WIDER: Mapping[str, tuple[str, ...]] = {"int8": ("fp16", "fp32"), "fp16": ("fp32",), "fp32": ()}


@dataclass(frozen=True)
class Runtime:
    """One runtime or delegate (see the module docstring)."""

    id: str
    name: str
    kind: Kind
    partition: Rule
    precisions: tuple[str, ...]
    ops: frozenset[str] = frozenset()  # empty with all_ops: every op but `unsupported`
    all_ops: bool = False
    unsupported: frozenset[str] = frozenset()
    fp32_as: str = ""  # "fp16": fp32 kernels run at fp16 by default
    missing_rate: str = ""  # "wider": a precision with no rate on the device runs at the next wider one that has one
    activations_on_chip: bool = False
    # the single activation ops it fuses into a Conv/Gemm/MatMul kernel; empty: every fusion the deploy pass makes
    epilogue_ops: frozenset[str] = frozenset()
    pattern_ops: frozenset[str] = frozenset()  # activation patterns (SiLU, GELU) it runs as one separate kernel
    layout_copies: int = 0  # copies of a Conv's output when its activation runs node by node (layout conversions)
    param_cache_bytes: Figure | None = None
    link_bytes_per_s: Figure | None = None
    switch_overhead_s: Figure | None = None
    tag: str = "assumed"
    source: str = ""

    @property
    def is_cpu(self) -> bool:
        return self.kind in ("cpu", "mcu") and self.partition == "whole-graph"

    def runs_op(self, op: str) -> bool:
        return op not in self.unsupported if self.all_ops else op in self.ops

    def effective_precision(self, precision: str) -> str:
        """The precision class a kernel of class ``precision`` runs at under this runtime (fp32 -> fp16
        where the runtime lowers float32 by default)."""
        return self.fp32_as if precision == "fp32" and self.fp32_as else precision

    def runs_precision(self, precision: str) -> bool:
        return self.effective_precision(precision) in self.precisions


@dataclass(frozen=True)
class DeviceRuntimes:
    """The runtimes a device offers, its default and, for an accelerator, the host CPU device id."""

    device_id: str
    runtimes: tuple[str, ...]
    default: str
    host: str = ""  # "" : the device is its own CPU
    host_source: str = ""
    figures: Mapping[str, Figure] = field(default_factory=dict)  # figures the catalogue device lacks


@dataclass(frozen=True)
class RuntimeTable:
    runtimes: Mapping[str, Runtime]
    devices: Mapping[str, DeviceRuntimes]

    def for_device(self, device_id: str) -> DeviceRuntimes | None:
        return self.devices.get(device_id)

    def choose(self, device_id: str, runtime_id: str | None = None) -> tuple[Runtime, DeviceRuntimes] | None:
        """The runtime to predict ``device_id`` with: ``runtime_id`` (refused with one line when the
        device does not offer it) or the device's default; ``None`` for a device not in the table
        (with no ``runtime_id``: its own figures, the whole graph on it)."""
        entry = self.devices.get(device_id)
        if entry is None:
            if runtime_id is None:
                return None
            if runtime_id not in self.runtimes:
                raise UsageError(f"unknown runtime {runtime_id!r}; known runtimes: {', '.join(sorted(self.runtimes))}")
            rt = self.runtimes[runtime_id]
            if not rt.is_cpu:
                raise UsageError(f"--runtime {runtime_id}: device {device_id!r} has no runtime table entry; only a CPU "
                                 "runtime can run on it")
            return rt, DeviceRuntimes(device_id, (runtime_id,), runtime_id)
        chosen = runtime_id or entry.default
        if chosen not in entry.runtimes:
            raise UsageError(f"device {device_id!r} does not offer runtime {chosen!r}; it offers "
                             f"{', '.join(entry.runtimes)} (default {entry.default})")
        return self.runtimes[chosen], entry


_RUNTIME_KEYS = {"id", "name", "kind", "partition", "ops", "unsupported", "precisions", "fp32_as", "missing_rate",
                 "activations_on_chip", "epilogue_ops", "pattern_ops", "layout_copies",
                 "param_cache_bytes", "link_bytes_per_s", "switch_overhead_s", "tag", "source"}
_DEVICE_KEYS = {"id", "runtimes", "default", "host", "host_source", "figures"}
_FIGURE_KEYS = ("param_cache_bytes", "link_bytes_per_s", "switch_overhead_s")


def load_runtimes(text: str | None = None) -> RuntimeTable:
    """The built-in runtime table (or one parsed from ``text``, same schema)."""
    if text is None:
        text = resources.files("edgeprof.devices").joinpath("runtimes.toml").read_text(encoding="utf-8")
    try:
        data: dict[str, Any] = dict(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"runtimes file: not valid TOML ({exc})") from None
    runtimes: dict[str, Runtime] = {}
    for i, raw in enumerate(data.get("runtime", [])):
        rt = _runtime(raw, f"runtimes.toml: runtime #{i + 1}")
        if rt.id in runtimes:
            raise UsageError(f"runtimes.toml: runtime id {rt.id!r} appears twice")
        runtimes[rt.id] = rt
    devices: dict[str, DeviceRuntimes] = {}
    for i, raw in enumerate(data.get("device", [])):
        entry = _device(raw, f"runtimes.toml: device #{i + 1}", runtimes)
        devices[entry.device_id] = entry
    return RuntimeTable(runtimes, devices)


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        raise UsageError(f"{where}: a list of non-empty strings expected")
    return tuple(raw)


def _count(raw: Any, where: str) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool) or not 0 <= raw <= 16:
        raise UsageError(f"{where}: an integer from 0 to 16 expected")
    return raw


def _runtime(raw: Any, where: str) -> Runtime:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: a runtime must be a table")
    unknown = sorted(set(raw) - _RUNTIME_KEYS)
    if unknown:
        raise UsageError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for key in ("id", "name", "kind", "partition", "source"):
        if not isinstance(raw.get(key), str) or not raw[key]:
            raise UsageError(f"{where}: field {key!r} (a non-empty string) is required")
    where = f"{where} ({raw['id']})"
    if raw["kind"] not in KINDS:
        raise UsageError(f"{where}: kind must be one of {', '.join(KINDS)}")
    if raw["partition"] not in PARTITION_RULES:
        raise UsageError(f"{where}: partition must be one of {', '.join(PARTITION_RULES)}")
    ops = _strings(raw.get("ops", []), f"{where}.ops")
    precisions = _strings(raw.get("precisions", []), f"{where}.precisions")
    bad = sorted(set(precisions) - set(PRECISIONS))
    if bad or not precisions:
        raise UsageError(f"{where}.precisions: one or more of {', '.join(PRECISIONS)}")
    figures = {k: parse_figure(raw[k], f"{where}.{k}") for k in _FIGURE_KEYS if k in raw}
    return Runtime(
        id=raw["id"], name=raw["name"], kind=raw["kind"], partition=raw["partition"], precisions=precisions,
        ops=frozenset(o for o in ops if o != "all"), all_ops="all" in ops,
        unsupported=frozenset(_strings(raw.get("unsupported", []), f"{where}.unsupported")),
        fp32_as=str(raw.get("fp32_as", "")), missing_rate=str(raw.get("missing_rate", "")),
        activations_on_chip=bool(raw.get("activations_on_chip", False)),
        epilogue_ops=frozenset(_strings(raw.get("epilogue_ops", []), f"{where}.epilogue_ops")),
        pattern_ops=frozenset(_strings(raw.get("pattern_ops", []), f"{where}.pattern_ops")),
        layout_copies=_count(raw.get("layout_copies", 0), f"{where}.layout_copies"), tag=str(raw.get("tag", "assumed")),
        source=raw["source"], **figures,
    )


def _device(raw: Any, where: str, runtimes: Mapping[str, Runtime]) -> DeviceRuntimes:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: a device entry must be a table")
    unknown = sorted(set(raw) - _DEVICE_KEYS)
    if unknown:
        raise UsageError(f"{where}: unknown field(s) {', '.join(unknown)}")
    if not isinstance(raw.get("id"), str) or not raw["id"]:
        raise UsageError(f"{where}: field 'id' is required")
    names = _strings(raw.get("runtimes", []), f"{where}.runtimes")
    missing = [r for r in names if r not in runtimes]
    default = raw.get("default", names[0] if names else "")
    if not names or missing or default not in names:
        raise UsageError(f"{where} ({raw['id']}): runtimes must name known runtimes and include the default")
    figures = {str(k): parse_figure(v, f"{where}.figures.{k}") for k, v in dict(raw.get("figures", {})).items()}
    return DeviceRuntimes(raw["id"], names, default, str(raw.get("host", "")), str(raw.get("host_source", "")),
                          figures)
