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
    "CategoryEnergy",
    "DeviceEnergy",
    "EnergyRange",
    "EnergyReport",
    "LayerEnergy",
    "MeasuredEnergy",
    "UserFigures",
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
    battery_wh: float | None  # the battery of the battery share (None: the device has none and none was given)
    battery_source: str
    inferences_per_j: EnergyRange  # 1 / energy (low end of energy -> most inferences: see docs)
    energy_per_hour_j: EnergyRange  # energy x fps x 3600
    battery_share_per_hour: EnergyRange | None  # energy per hour / (battery_wh x 3600); 1.0 = the whole battery
    note: str = ""  # e.g. the device is predicted slower than the fps asked for


@dataclass(frozen=True)
class DeviceEnergy:
    """The estimated energy of one inference on one device."""

    device_id: str
    device_name: str
    estimated_j: EnergyRange  # the reported range (see method)
    bottom_up_j: EnergyRange  # per-operation + data-movement model alone
    device_power_j: float | None  # the physical estimate: (idle + (active - idle) x utilisation) x latency; None without a power figure
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
    idle_power_w: float | None = None  # the device's idle power (idle_fraction x power_w, see sources)
    utilisation: float | None = None  # the share of the predicted time the compute units are busy
    power_mid_w: float | None = None  # idle + (active - idle) x utilisation
    range_factor: float | None = None  # estimated_j spans mid / range_factor .. mid x range_factor
    precision: str = "as-deployed"  # or the what-if precision the network was re-typed to (a what-if)
    what_if: bool = False


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
