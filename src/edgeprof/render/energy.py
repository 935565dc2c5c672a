"""Energy as table rows shared by the renderers (terminal, Markdown, HTML): each device's
estimate, its top layers and categories, the sensor reading and the notes beside them."""

from __future__ import annotations

from edgeprof.render.format import fit_notes, joules, seconds
from edgeprof.report.energy import DeviceEnergy, EnergyReport, LayerEnergy
from edgeprof.report.memory import MemoryReport

__all__ = [
    "ENERGY_CATEGORY_COLUMNS",
    "ENERGY_COLUMNS",
    "ENERGY_LAYER_COLUMNS",
    "device_energy_rows",
    "energy_category_rows",
    "energy_layer_rows",
    "energy_notes",
    "energy_title",
    "measured_energy_rows",
    "top_layers",
]


ENERGY_COLUMNS: tuple[tuple[str, bool], ...] = (
    ("low", True), ("mid", True), ("high", True), ("how obtained", False),
)


def energy_title(e: DeviceEnergy) -> str:
    """The heading of one device's energy table."""
    node = f"{e.process_node_nm:g} nm" if e.process_node_nm is not None else "node unknown: 45 nm figures unscaled"
    what_if = f"; WHAT-IF at {e.precision}" if e.what_if else ""
    return f"Energy per inference on {e.device_id} ({e.device_name}; {node}{what_if})"


def device_energy_rows(e: DeviceEnergy) -> list[tuple[str, list[str]]]:
    """One device's estimate, its two models and the user figures: (label, cells)."""
    bound = ">= " if e.is_lower_bound else ""
    r = e.estimated_j
    how = ("device power over the predicted latency; range: the uncertainty of both (x"
           f"{e.range_factor:.3g})" if e.range_factor is not None else "ops + data movement alone (no power figure)")
    rows = [("estimated", [bound + joules(r.low), bound + joules(r.mid), bound + joules(r.high),
                           how + (" (lower bound)" if e.is_lower_bound else "")])]
    b = e.bottom_up_j
    rows.append(("ops + data movement", [joules(b.low), joules(b.mid), joules(b.high),
                                         f"Horowitz 45 nm energies, node-scaled; mid: compute {joules(e.compute_j)}, "
                                         f"registers {joules(e.register_j)}, SRAM {joules(e.sram_j)}, "
                                         f"DRAM {joules(e.dram_j)}"]))
    if e.device_power_j is not None and e.power_w is not None and e.latency_s is not None:
        how = f"{e.power_w:g} W x predicted {seconds(e.latency_s)}"
        if e.power_mid_w is not None and e.idle_power_w is not None and e.utilisation is not None:
            how = (f"({e.idle_power_w:.3g} W idle + {e.power_w - e.idle_power_w:.3g} W x {e.utilisation:.0%} busy = "
                   f"{e.power_mid_w:.3g} W) x predicted {seconds(e.latency_s)}")
        rows.append(("power x latency", ["-", joules(e.device_power_j), "-", how]))
    u = e.user
    rows.append(("inferences per J", [f"{u.inferences_per_j.low:.3g}", f"{u.inferences_per_j.mid:.3g}",
                                      f"{u.inferences_per_j.high:.3g}", "1 / energy (low: from the high energy)"]))
    rows.append((f"per hour at {u.fps:g} FPS", [joules(u.energy_per_hour_j.low), joules(u.energy_per_hour_j.mid),
                                                     joules(u.energy_per_hour_j.high), f"energy x {u.fps:g} x 3600"]))
    if u.battery_share_per_hour is not None and u.battery_wh is not None:
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


def energy_notes(report: EnergyReport, memory: MemoryReport | None = None) -> list[str]:
    """What a reader must know beside the table: a device the model does not fit, lower bounds,
    what is missing, the sensor."""
    notes: list[str] = fit_notes(memory, set(report.estimated)) if memory is not None else []
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
