"""Estimated energy of one inference on a catalogue device: a range from two models.

1. **Ops + data movement** (bottom-up, per layer), from Horowitz's 45 nm table (ISSCC 2014):

   * arithmetic: MACs x (mult + add) of the layer's precision, the other ops (FLOPs or integer OPs
     beyond 2 x MACs: adds, compares, divides, exps...) as adds (as multiplies at ``high``);
   * register file: one access per operation at the operation's energy (Eyeriss: an RF access
     costs about 1x a MAC);
   * memory: the layer's bytes (read + written) in 64-bit accesses, on-chip SRAM when its working
     set ((read + written) / calls) fits in the device's on-chip memory, DRAM otherwise;
   * the arithmetic, register and SRAM energies scaled to the device's process node by
     (node / 45 nm)^k, k = 1 at ``mid`` and 0.5 .. 1.5 for the ends; DRAM is not scaled.

2. **The device's power over the predicted latency** (the roofline of
   :mod:`edgeprof.passes.latency`), a physical estimate: the board draws its idle power
   (:data:`IDLE_FRACTION` of its loaded power ``power_w``, per device class, sourced) plus the
   active-minus-idle power in proportion to the utilisation, the share of the predicted time the
   compute units are busy (compute-bound time fully, memory-bound time at
   :data:`MEMORY_ACTIVITY`, dispatch overhead not at all). Instruction overhead, leakage and the
   rest of the board are in it.

The reported figure: ``mid`` = (2) when the device has a power figure; ``low``/``high`` = mid
divided/multiplied by the uncertainty of its two inputs, the latency model's
(:data:`LATENCY_UNCERTAINTY`) and the power figure's (:data:`POWER_UNCERTAINTY` by its tag), so the
range is no wider than what is not known. Without a power figure the range is (1) at its low, mid
and high settings (:data:`SCENARIOS`, docs/energy.md), and (1) is always reported beside
(``bottom_up_j``) as the energy the arithmetic and the data movement alone take.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

from edgeprof.devices.catalogue import Device
from edgeprof.passes.latency import is_float32_class, precision_class
from edgeprof.passes.partition import retype
from edgeprof.report.energy import (
    CategoryEnergy,
    DeviceEnergy,
    EnergyRange,
    EnergyReport,
    LayerEnergy,
    UserFigures,
)
from edgeprof.report.latency import PredictedLatency
from edgeprof.report.model import LayerCost, Profile

__all__ = [
    "BATTERY_SOURCE",
    "DEFAULT_BATTERY_WH",
    "DEFAULT_FPS",
    "DRAM_PJ_PER_64BIT",
    "IDLE_FRACTION",
    "LATENCY_UNCERTAINTY",
    "MEMORY_ACTIVITY",
    "OP_ENERGY_PJ",
    "POWER_UNCERTAINTY",
    "SCENARIOS",
    "SRAM_PJ_PER_64BIT",
    "energy_class",
    "estimate",
    "layer_energy",
    "node_scale",
    "sram_access_pj",
    "user_figures",
    "with_energy",
]

PJ = 1e-12
REFERENCE_NODE_NM = 45.0
# Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm, 0.9 V: (multiply, add) in pJ.
OP_ENERGY_PJ: dict[str, tuple[float, float]] = {
    "fp32": (3.7, 0.9),
    "fp16": (1.1, 0.4),
    "int8": (0.2, 0.03),
    "int32": (3.1, 0.1),
}
# The same source: a 64-bit SRAM/cache read at three sizes, and a 64-bit DRAM access (1.3-2.6 nJ).
SRAM_PJ_PER_64BIT: tuple[tuple[int, float], ...] = ((8 * 1024, 10.0), (32 * 1024, 20.0), (1024 * 1024, 100.0))
DRAM_PJ_PER_64BIT = EnergyRange(1300.0, 1950.0, 2600.0)
REGISTER_ACCESSES_PER_OP = 1.0  # Eyeriss (Chen et al. ISCA 2016; Sze et al. 2017): RF access ~1x a MAC
NODE_EXPONENTS = (0.5, 1.0, 1.5)

DEFAULT_FPS = 30.0
DEFAULT_BATTERY_WH = 15.0
BATTERY_SOURCE = "assumed: a typical phone battery, ~4,000 mAh x 3.85 V = 15.4 Wh, rounded; not a measured device"
BATTERY_CLASSES = frozenset({"phone"})  # device classes that run on a battery of their own
NO_BATTERY = "no battery: the device class runs on mains or USB power; give --battery-wh for a battery-powered build"

# Idle power as a share of the loaded power ``power_w``, per device class: (value, tag, source).
IDLE_FRACTION: dict[str, tuple[float, str, str]] = {
    "sbc": (0.35, "derived", "Raspberry Pi 4: 2.2-3.0 W at idle (chipwired.com, 36 USB-meter readings) against 7.2 W "
            "under HPL (geerlingguy/top500-benchmark): 0.31-0.42"),
    "gpu-module": (0.3, "assumed", "a Jetson module idles at a few watts of its 10-15 W power mode"),
    "phone": (0.1, "assumed", "a phone SoC gates the NPU and big cores when idle: a few hundred mW of several W"),
    "laptop": (0.15, "assumed", "an Apple M-series machine idles at a few watts of its loaded power"),
    "accelerator": (0.25, "assumed", "a USB/M.2 accelerator idles at about a quarter of its rated power"),
    "mcu": (0.3, "assumed", "a microcontroller at its run clock between inferences (no deep sleep)"),
    "host": (0.3, "assumed", "a server core idles at about a third of its loaded power"),
}
MEMORY_ACTIVITY = 0.5  # memory-bound time counts as half busy: cores stall, DRAM works (assumed)
LATENCY_UNCERTAINTY = 1.5  # the latency model's target median factor on held-out published measurements
POWER_UNCERTAINTY: dict[str, float] = {  # +/- share of a power figure, by its tag
    "measured": 0.15, "fitted": 0.2, "vendor": 0.3, "derived": 0.3, "secondary": 0.3, "assumed": 0.5,
}


@dataclass(frozen=True)
class Scenario:
    """One end of the bottom-up range (see docs/energy.md, "low, mid, high")."""

    name: str
    node_exponent_pick: str  # "min", "mid" or "max" of (node / 45)^k over k in NODE_EXPONENTS
    sram: str  # "smallest" (8 KB figure) or "device" (interpolated at the on-chip size) or "largest"
    dram_pj: float
    other_ops_as: str  # "add" or "mult"
    unknown_onchip_fits: bool  # with no on-chip figure: every working set on chip (True) or none


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("low", "min", "smallest", DRAM_PJ_PER_64BIT.low, "add", True),
    Scenario("mid", "mid", "device", DRAM_PJ_PER_64BIT.mid, "add", False),
    Scenario("high", "max", "largest", DRAM_PJ_PER_64BIT.high, "mult", False),
)

METHOD = (
    "mid = (idle power + (loaded - idle power) x utilisation) x predicted latency, utilisation = the busy share of "
    "the predicted time; low .. high = mid / .. x the uncertainty of the latency model and of the power figure. "
    "Beside it, and the range when the device has no power figure: ops + data movement (MACs x (mult + add) and "
    "other ops as adds at the layer's precision, Horowitz 45 nm, one register-file access per op, bytes in 64-bit "
    "accesses to on-chip SRAM when the layer's working set fits on chip else DRAM, scaled by (node / 45 nm)^k)"
)


def energy_class(precision: str) -> str:
    """``fp32``, ``fp16``, ``int8`` or ``int32``: which row of the per-op table a layer uses."""
    cls = precision_class(precision)  # the latency model's classes, with its fp32 class split:
    if cls == "fp32" and not is_float32_class(precision):
        return "int32"  # int16/int32/int64/bool: index and shape arithmetic, wide accumulators
    return cls


def sram_access_pj(size_bytes: float) -> float:
    """A 64-bit read of an SRAM of ``size_bytes`` at 45 nm: Horowitz's 8 KB / 32 KB / 1 MB points,
    interpolated log-log between them; below 8 KB the 8 KB figure, above 1 MB the last slope extended."""
    points = SRAM_PJ_PER_64BIT
    if size_bytes <= points[0][0]:
        return points[0][1]
    for (s0, e0), (s1, e1) in itertools.pairwise(points):
        if size_bytes <= s1:
            return float(e0 * (size_bytes / s0) ** (math.log(e1 / e0) / math.log(s1 / s0)))
    (s0, e0), (s1, e1) = points[-2], points[-1]
    return float(e1 * (size_bytes / s1) ** (math.log(e1 / e0) / math.log(s1 / s0)))


def node_scale(node_nm: float | None) -> EnergyRange:
    """The factor on the 45 nm energies: (node / 45)^k for k = 0.5, 1, 1.5 (low = the smallest
    factor, high = the largest); 1 when the node is unknown."""
    if node_nm is None:
        return EnergyRange(1.0, 1.0, 1.0)
    ratio = node_nm / REFERENCE_NODE_NM
    factors = [ratio**k for k in NODE_EXPONENTS]
    return EnergyRange(min(factors), ratio, max(factors))


def _pick(r: EnergyRange, how: str) -> float:
    return r.low if how == "min" else r.high if how == "max" else r.mid


def onchip_bytes(device: Device) -> int | None:
    """The on-chip memory a working set must fit in: ``onchip_bytes``, else ``sram_bytes``, else unknown."""
    fig = device.onchip_bytes or device.sram_bytes
    return int(fig.value) if fig is not None else None


def layer_energy(layer: LayerCost, device: Device, scenario: Scenario = SCENARIOS[1]) -> LayerEnergy:
    """One layer's bottom-up energy under ``scenario`` (``device_j`` is left ``None``)."""
    ops = layer.flops + layer.int_ops
    mult, add = OP_ENERGY_PJ[energy_class(layer.precision)]
    other = max(0, ops - 2 * layer.macs)
    arithmetic_pj = layer.macs * (mult + add) + other * (mult if scenario.other_ops_as == "mult" else add)
    node = device.process_node_nm.value if device.process_node_nm is not None else None
    factor = _pick(node_scale(node), scenario.node_exponent_pick)
    compute_j = arithmetic_pj * factor * PJ
    register_j = compute_j * REGISTER_ACCESSES_PER_OP
    moved = layer.bytes_read + layer.bytes_written
    words = moved / 8
    size = onchip_bytes(device)
    working_set = moved / max(1, layer.calls)
    on_chip = scenario.unknown_onchip_fits if size is None else working_set <= size
    if scenario.sram == "smallest":
        sram_pj = SRAM_PJ_PER_64BIT[0][1]
    elif scenario.sram == "largest":
        sram_pj = max(SRAM_PJ_PER_64BIT[-1][1], sram_access_pj(size or 0))
    else:
        sram_pj = sram_access_pj(size) if size is not None else SRAM_PJ_PER_64BIT[-1][1]
    sram_j = words * sram_pj * factor * PJ if on_chip else 0.0
    dram_j = 0.0 if on_chip else words * scenario.dram_pj * PJ
    total = compute_j + register_j + sram_j + dram_j
    return LayerEnergy(layer.name, layer.op, layer.category, layer.precision, compute_j, register_j, sram_j, dram_j,
                       total, "on-chip" if on_chip else "off-chip")


def user_figures(energy: EnergyRange, *, fps: float = DEFAULT_FPS, battery_wh: float | None = DEFAULT_BATTERY_WH,
                 battery_source: str = BATTERY_SOURCE, latency_s: float | None = None, device_id: str = "") -> UserFigures:
    """Inferences per joule, energy per hour at ``fps`` and the share of a ``battery_wh`` battery per
    hour (``None``: no battery figure)."""
    def per_j(e: float) -> float:
        return 1.0 / e if e > 0 else 0.0

    per_hour = EnergyRange(energy.low * fps * 3600, energy.mid * fps * 3600, energy.high * fps * 3600)
    note = ""
    if latency_s is not None and latency_s > 0 and 1.0 / latency_s < fps:
        note = (f"predicted {1.0 / latency_s:.3g} FPS on {device_id or 'the device'}, below the {fps:g} FPS assumed: "
                "the per-hour figures assume it keeps up")
    return UserFigures(
        fps=fps, battery_wh=battery_wh, battery_source=battery_source,
        inferences_per_j=EnergyRange(per_j(energy.high), per_j(energy.mid), per_j(energy.low)),
        energy_per_hour_j=per_hour,
        battery_share_per_hour=None if battery_wh is None else EnergyRange(
            per_hour.low / (battery_wh * 3600), per_hour.mid / (battery_wh * 3600), per_hour.high / (battery_wh * 3600)),
        note=note,
    )


def battery_for(device: Device, battery_wh: float | None) -> tuple[float | None, str]:
    """The battery of the battery figures: the user's, else the default of a device class that runs
    on a battery of its own, else none."""
    if battery_wh is not None:
        return battery_wh, "given by the user"
    if device.device_class in BATTERY_CLASSES:
        return DEFAULT_BATTERY_WH, BATTERY_SOURCE
    return None, NO_BATTERY


def utilisation(prediction: PredictedLatency) -> float:
    """The share of the predicted time the compute units are busy: the compute-bound kernels' time
    fully, the memory-bound kernels' time at :data:`MEMORY_ACTIVITY`, the overheads not at all."""
    total = prediction.total_s
    if total <= 0:
        return 0.0
    return min(1.0, (prediction.compute_s + MEMORY_ACTIVITY * prediction.memory_s) / total)


def estimate(profile: Profile, device: Device, prediction: PredictedLatency | None = None, *,
             fps: float = DEFAULT_FPS, battery_wh: float | None = None,
             battery_source: str | None = None, precision: str | None = None,
             runtime: str | None = None) -> DeviceEnergy:
    """The energy of one inference of ``profile`` on ``device`` (see the module docstring);
    ``prediction`` is the latency prediction on the same device (made here when not given, on
    ``runtime``). ``precision``: the what-if re-typing (:func:`edgeprof.passes.partition.retype`) of
    every layer, as the latency prediction does."""
    if prediction is None:
        from edgeprof.passes.latency import predict

        prediction = predict(profile, device, precision=precision, runtime=runtime)
    layers = [x for x in profile.layers if x.in_totals]
    if precision is not None:
        layers = [retype(x, precision, x.params) for x in layers]
    skipped = len(profile.layers) - len(layers)
    not_counted = sum(1 for x in layers if x.state == "not_counted")
    per_scenario = {s.name: [layer_energy(x, device, s) for x in layers] for s in SCENARIOS}
    bottom_up = EnergyRange(*(sum(x.total_j for x in per_scenario[s.name]) for s in SCENARIOS))
    power = device.power_w.value if device.power_w is not None else None
    latency_s = prediction.total_s
    util = utilisation(prediction)
    idle_share, _, _ = IDLE_FRACTION.get(device.device_class, IDLE_FRACTION["host"])
    idle_w = power * idle_share if power is not None else None
    power_mid = idle_w + (power - idle_w) * util if power is not None and idle_w is not None else None
    device_j = power_mid * latency_s if power_mid is not None else None
    times = {x.name: x.time_s for x in prediction.layers}
    mids = [dataclasses.replace(x, device_j=power_mid * times.get(x.name, 0.0) if power_mid is not None else None)
            for x in per_scenario["mid"]]
    factor: float | None = None
    if device_j is not None and device.power_w is not None:
        factor = LATENCY_UNCERTAINTY * (1 + POWER_UNCERTAINTY.get(device.power_w.tag, 0.5))
        estimated = EnergyRange(device_j / factor, device_j, device_j * factor)
    else:
        estimated = bottom_up
    if battery_source is None or battery_wh is None:
        battery_wh, battery_source = battery_for(device, battery_wh)
    size = onchip_bytes(device)
    node = device.process_node_nm.value if device.process_node_nm is not None else None
    missing = _missing(device, size, node, power, not_counted, skipped, prediction)
    return DeviceEnergy(
        device_id=device.id,
        device_name=device.name,
        estimated_j=estimated,
        bottom_up_j=bottom_up,
        device_power_j=device_j,
        compute_j=sum(x.compute_j for x in mids),
        register_j=sum(x.register_j for x in mids),
        sram_j=sum(x.sram_j for x in mids),
        dram_j=sum(x.dram_j for x in mids),
        process_node_nm=node,
        node_scale=node_scale(node),
        onchip_bytes=size,
        layers_off_chip=sum(1 for x in mids if x.level == "off-chip" and x.total_j > 0),
        power_w=power,
        latency_s=latency_s,
        is_lower_bound=bool(not_counted or prediction.is_lower_bound or profile.totals.is_lower_bound),
        missing=tuple(missing),
        method=METHOD,
        sources=tuple(_sources(device)),
        user=user_figures(estimated, fps=fps, battery_wh=battery_wh, battery_source=battery_source,
                          latency_s=latency_s, device_id=device.id),
        by_category=tuple(_by_category(mids)),
        layers=tuple(mids),
        idle_power_w=idle_w,
        utilisation=util if power is not None else None,
        power_mid_w=power_mid,
        range_factor=factor,
        precision=precision or "as-deployed",
        what_if=precision is not None,
    )


def _missing(device: Device, size: int | None, node: float | None, power: float | None, not_counted: int,
             skipped: int, prediction: PredictedLatency) -> list[str]:
    out = []
    if not_counted:
        out.append(f"{not_counted} layer(s) not counted by edgeprof: their energy is missing")
    if skipped:
        out.append(f"{skipped} layer(s) of the cheaper branch of an If not known statically: left out (the costlier "
                   "branch is costed, as in the totals)")
    if node is None:
        out.append(f"no process node for device {device.id}: the 45 nm energies are used unscaled")
    if size is None:
        out.append(f"no on-chip memory figure for device {device.id}: low assumes every working set fits on chip, "
                   "mid and high that none does (DRAM)")
    if power is None:
        out.append(f"no power figure for device {device.id}: no power x latency figure; the range is the ops + "
                   "data-movement model alone, which leaves out instruction overhead, leakage and the rest of the board")
    elif prediction.is_lower_bound:
        out.append("the predicted latency is a lower bound, and so is the energy estimate")
    if power is not None:
        _, tag, _ = IDLE_FRACTION.get(device.device_class, IDLE_FRACTION["host"])
        if tag == "assumed":
            out.append(f"idle power of a {device.device_class} device: an assumed share of its loaded power "
                       "(docs/energy.md)")
    return out


def _by_category(layers: Iterable[LayerEnergy]) -> list[CategoryEnergy]:
    acc: dict[str, list[float]] = {}
    for x in layers:
        row = acc.setdefault(x.category, [0.0, 0.0])
        row[0] += x.compute_j + x.register_j
        row[1] += x.sram_j + x.dram_j
    total = sum(a + b for a, b in acc.values())
    rows = [CategoryEnergy(c, a, b, a + b, (a + b) / total if total > 0 else 0.0) for c, (a, b) in acc.items()]
    return sorted(rows, key=lambda r: (-r.total_j, r.category))


def _sources(device: Device) -> list[str]:
    out = [
        "per-op energy: Horowitz, 'Computing's energy problem', ISSCC 2014 (45 nm, 0.9 V): FP32 mult 3.7 / add 0.9 pJ, "
        "FP16 1.1 / 0.4, INT8 0.2 / 0.03, INT32 3.1 / 0.1",
        "memory: the same source: 64-bit SRAM read 10 / 20 / 100 pJ at 8 KB / 32 KB / 1 MB; DRAM 1.3-2.6 nJ per 64 bits",
        "register file ~1x a MAC: Chen, Emer, Sze, ISCA 2016 (Eyeriss); Sze et al., Proc. IEEE 2017",
        "node scaling (node / 45 nm)^k, k = 0.5 .. 1.5: an assumption (docs/energy.md)",
    ]
    for name in ("power_w", "process_node_nm", "onchip_bytes", "sram_bytes"):
        fig = getattr(device, name)
        if fig is not None:
            out.append(f"{device.id}.{name} = {fig.value:g} [{fig.tag}] {fig.source}")
    share, tag, source = IDLE_FRACTION.get(device.device_class, IDLE_FRACTION["host"])
    out.append(f"idle power = {share:g} x power_w for a {device.device_class} device [{tag}] {source}")
    out.append(f"range: the latency model's uncertainty x{LATENCY_UNCERTAINTY:g} (its held-out target, docs/latency.md) "
               "and the power figure's by its tag (+/- " + ", ".join(f"{t} {u:.0%}" for t, u in POWER_UNCERTAINTY.items())
               + ")")
    out.append(f"predicted latency: latency.predicted.{device.id} (roofline; its sources there)")
    return out


def with_energy(profile: Profile, devices: Iterable[Device], *, fps: float = DEFAULT_FPS,
                battery_wh: float | None = None, battery_source: str | None = None,
                precision: str | None = None, runtime: str | None = None) -> Profile:
    """``profile`` with ``energy.estimated`` set for each device (a latency prediction already in
    ``profile.latency`` is reused when it is of the same what-if ``precision``; measured figures are kept)."""
    current = profile.energy or EnergyReport()
    estimated = dict(current.estimated)
    predicted = profile.latency.predicted if profile.latency is not None else {}
    for device in devices:
        prior = predicted.get(device.id)
        if prior is not None and prior.precision != (precision or "as-deployed"):
            prior = None
        estimated[device.id] = estimate(profile, device, prior, fps=fps, battery_wh=battery_wh,
                                        battery_source=battery_source, precision=precision, runtime=runtime)
    return dataclasses.replace(profile, energy=dataclasses.replace(current, estimated=estimated))
