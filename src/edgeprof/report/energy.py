"""Typed energy results: estimated on catalogue devices, measured on this machine (JSON-friendly).

Energies are in joules (``*_j``), powers in watts (``*_w``), times in seconds (``*_s``). An
estimate is always a range (:class:`EnergyRange`: ``low``, ``mid``, ``high``) with its method,
the technology node and the sources behind it; a measured figure exists only when a power sensor
was found and read (``measured`` is ``None`` otherwise and ``sensor_note`` says what was checked).
See ``docs/energy.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "ENERGY_CATEGORY_COLUMNS",
    "ENERGY_COLUMNS",
    "ENERGY_LAYER_COLUMNS",
    "CategoryEnergy",
    "DeviceEnergy",
    "EnergyRange",
    "EnergyReport",
    "LayerEnergy",
    "MeasuredEnergy",
    "UserFigures",
    "device_energy_rows",
    "energy_category_rows",
    "energy_layer_rows",
    "energy_notes",
    "energy_title",
    "joules",
    "measured_energy_rows",
    "top_layers",
]


@dataclass(frozen=True)
class EnergyRange:
    """An energy (J) as a range: ``low`` <= ``mid`` <= ``high`` (see docs/energy.md for each end)."""

    low: float
    mid: float
    high: float


@dataclass(frozen=True)
class LayerEnergy:
    """One layer's estimated energy at the ``mid`` assumptions of the bottom-up model, and its
    share of the device-level figure (device power x the layer's predicted time)."""

    name: str
    op: str
    category: str
    precision: str
    compute_j: float  # arithmetic (MACs as mult + add, other ops as adds), node-scaled
    register_j: float  # register-file accesses (one per operation, at the operation's energy)
    sram_j: float  # on-chip SRAM/cache accesses (64-bit)
    dram_j: float  # off-chip accesses (64-bit): the layer's working set does not fit on chip
    total_j: float  # compute + register + sram + dram
    level: str  # "on-chip" or "off-chip": where the layer's bytes are costed
    device_j: float | None = None  # device power x the layer's predicted time (None: no power figure)


@dataclass(frozen=True)
class CategoryEnergy:
    """The bottom-up (mid) energy of one op category."""

    category: str
    compute_j: float  # arithmetic + register file
    data_j: float  # SRAM + DRAM
    total_j: float
    share: float  # of the bottom-up mid total


@dataclass(frozen=True)
class UserFigures:
    """What the estimate means for a user, for each end of the range."""

    fps: float  # the frame rate assumed for the per-hour figures
    battery_wh: float  # the battery assumed for the battery share
    battery_source: str
    inferences_per_j: EnergyRange  # 1 / energy (low end of energy -> most inferences: see docs)
    energy_per_hour_j: EnergyRange  # energy x fps x 3600
    battery_share_per_hour: EnergyRange  # energy per hour / (battery_wh x 3600); 1.0 = the whole battery
    note: str = ""  # e.g. the device is predicted slower than the fps asked for


@dataclass(frozen=True)
class DeviceEnergy:
    """The estimated energy of one inference on one device."""

    device_id: str
    device_name: str
    estimated_j: EnergyRange  # the reported range (see method)
    bottom_up_j: EnergyRange  # per-operation + data-movement model alone
    device_power_j: float | None  # power_w x predicted latency; None without a power figure
    compute_j: float  # the bottom-up mid, split: arithmetic
    register_j: float
    sram_j: float
    dram_j: float
    process_node_nm: float | None  # None: unknown, 45 nm figures used unscaled
    node_scale: EnergyRange  # the factor applied to the 45 nm per-op and SRAM energies at low/mid/high
    onchip_bytes: int | None  # on-chip SRAM/cache a working set must fit in (None: unknown)
    layers_off_chip: int  # layers whose working set does not fit on chip (mid)
    power_w: float | None
    latency_s: float | None  # the predicted latency the device-level figure uses
    is_lower_bound: bool  # some layers not counted or no rate: every figure is a lower bound
    missing: tuple[str, ...]  # what the estimate could not cost, and what it assumed for lack of a figure
    method: str
    sources: tuple[str, ...]
    user: UserFigures
    by_category: tuple[CategoryEnergy, ...] = ()
    layers: tuple[LayerEnergy, ...] = ()


@dataclass(frozen=True)
class MeasuredEnergy:
    """Energy per inference read from a power sensor over repeated runs, idle baseline subtracted."""

    sensor: str  # e.g. "Linux powercap RAPL (/sys/class/powercap)"
    domains: tuple[str, ...]  # what the sensor covers (package-0, dram, VDD_IN...)
    measured_j: float  # (energy over the runs - idle power x their duration) / runs
    runs: int
    total_j: float  # energy over the timed runs (every domain summed as described in method)
    duration_s: float  # wall time of the timed runs
    idle_power_w: float  # baseline power before the model was loaded
    idle_s: float  # how long the baseline was read
    mean_power_w: float  # total_j / duration_s
    by_domain_j: Mapping[str, float] = field(default_factory=dict)  # energy over the runs per domain
    method: str = ""
    note: str = ""  # a caveat (e.g. a whole-socket sensor measures every process on the machine)


@dataclass(frozen=True)
class EnergyReport:
    """``estimated`` maps a device id to its estimate; ``measured`` is a sensor reading on this
    machine (never present without a sensor: ``sensor_note`` says what was checked)."""

    estimated: Mapping[str, DeviceEnergy] = field(default_factory=dict)
    measured: MeasuredEnergy | None = None
    sensor_note: str = ""
    measurement_error: str = ""


def joules(value: float) -> str:
    """An energy with a readable unit: ``2.36 mJ``, ``45.6 uJ``, ``1.20 J``, ``3.1 kJ``."""
    magnitude = abs(value)
    for scale, unit in ((1e3, "kJ"), (1.0, "J"), (1e-3, "mJ"), (1e-6, "uJ"), (1e-9, "nJ")):
        if magnitude >= scale:
            return f"{value / scale:.3g} {unit}"
    return "0 J" if value == 0 else f"{value * 1e12:.3g} pJ"


def _range(r: EnergyRange, fmt: str = "J") -> str:
    if fmt == "J":
        return f"{joules(r.low)} .. {joules(r.high)} (mid {joules(r.mid)})"
    return f"{r.low:.3g} .. {r.high:.3g} (mid {r.mid:.3g})"


ENERGY_COLUMNS: tuple[tuple[str, bool], ...] = (
    ("low", True), ("mid", True), ("high", True), ("how obtained", False),
)


def energy_title(e: DeviceEnergy) -> str:
    """The heading of one device's energy table."""
    node = f"{e.process_node_nm:g} nm" if e.process_node_nm is not None else "node unknown: 45 nm figures unscaled"
    return f"Energy per inference on {e.device_id} ({e.device_name}; {node})"


def device_energy_rows(e: DeviceEnergy) -> list[tuple[str, list[str]]]:
    """One device's estimate, its two models and the user figures: (label, cells)."""
    from edgeprof.report.latency import seconds

    bound = ">= " if e.is_lower_bound else ""
    r = e.estimated_j
    rows = [("estimated", [bound + joules(r.low), bound + joules(r.mid), bound + joules(r.high),
                           "range of the two models below" + (" (lower bound)" if e.is_lower_bound else "")])]
    b = e.bottom_up_j
    rows.append(("ops + data movement", [joules(b.low), joules(b.mid), joules(b.high),
                                         f"Horowitz 45 nm energies, node-scaled; mid: compute {joules(e.compute_j)}, "
                                         f"registers {joules(e.register_j)}, SRAM {joules(e.sram_j)}, "
                                         f"DRAM {joules(e.dram_j)}"]))
    if e.device_power_j is not None and e.power_w is not None and e.latency_s is not None:
        rows.append(("power x latency", ["-", joules(e.device_power_j), "-",
                                         f"{e.power_w:g} W x predicted {seconds(e.latency_s)}"]))
    u = e.user
    rows.append(("inferences per J", [f"{u.inferences_per_j.low:.3g}", f"{u.inferences_per_j.mid:.3g}",
                                      f"{u.inferences_per_j.high:.3g}", "1 / energy (low: from the high energy)"]))
    rows.append((f"per hour at {u.fps:g} FPS", [joules(u.energy_per_hour_j.low), joules(u.energy_per_hour_j.mid),
                                                     joules(u.energy_per_hour_j.high), f"energy x {u.fps:g} x 3600"]))
    rows.append(("battery per hour", [_share(u.battery_share_per_hour.low), _share(u.battery_share_per_hour.mid),
                                      _share(u.battery_share_per_hour.high), f"of a {u.battery_wh:g} Wh battery"]))
    return rows


def measured_energy_rows(report: EnergyReport) -> list[tuple[str, list[str]]]:
    """The sensor reading on this machine, when one was made: (label, cells)."""
    m = report.measured
    if m is None:
        return []
    return [("measured here", ["-", joules(m.measured_j), "-",
                               f"{m.sensor}, {m.runs} runs, idle {m.idle_power_w:.3g} W subtracted"])]


def _share(x: float) -> str:
    """A fraction as a percentage: ``0.0123`` -> ``'1.23%'``."""
    if x <= 0:
        return "0%"
    return "<0.001%" if x * 100 < 0.001 else f"{x * 100:.3g}%"


def top_layers(e: DeviceEnergy, n: int) -> list[LayerEnergy]:
    """The ``n`` layers with the most bottom-up (mid) energy."""
    return sorted(e.layers, key=lambda x: -x.total_j)[:n]


def energy_notes(report: EnergyReport) -> list[str]:
    """What a reader must know beside the table: lower bounds, what is missing, the sensor."""
    notes: list[str] = []
    for device_id, e in report.estimated.items():
        if e.is_lower_bound:
            notes.append(f"{device_id}: lower bound (some layers not costed; see missing)")
        notes += [f"{device_id}: {m}" for m in e.missing]
        if e.user.note:
            notes.append(f"{device_id}: {e.user.note}")
        notes.append(f"{device_id}: battery: {e.user.battery_source}")
    if report.sensor_note:
        notes.append(report.sensor_note)
    if report.measured is not None and report.measured.note:
        notes.append(f"Measured: {report.measured.note}")
    if report.measurement_error:
        notes.append(f"Energy measurement not made: {report.measurement_error}")
    return notes


ENERGY_LAYER_COLUMNS: tuple[tuple[str, bool], ...] = (
    ("op", False), ("compute + reg", True), ("SRAM", True), ("DRAM", True), ("total (mid)", True),
    ("power x time", True),
)


def energy_layer_rows(e: DeviceEnergy, n: int = 5) -> list[tuple[str, list[str]]]:
    """The ``n`` layers with the most bottom-up (mid) energy: (name, cells)."""
    return [(x.name, [x.op, joules(x.compute_j + x.register_j), joules(x.sram_j), joules(x.dram_j),
                      joules(x.total_j), "-" if x.device_j is None else joules(x.device_j)])
            for x in top_layers(e, n)]


ENERGY_CATEGORY_COLUMNS: tuple[tuple[str, bool], ...] = (
    ("compute + reg", True), ("data movement", True), ("total (mid)", True), ("share", True),
)


def energy_category_rows(e: DeviceEnergy) -> list[tuple[str, list[str]]]:
    """The bottom-up (mid) energy per op category: (category, cells)."""
    return [(c.category, [joules(c.compute_j), joules(c.data_j), joules(c.total_j), f"{c.share:.1%}"])
            for c in e.by_category]
