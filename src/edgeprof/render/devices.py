"""``edgeprof devices``: the device catalogue as a table (text or Markdown) or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from edgeprof.devices.catalogue import Device, Figure
from edgeprof.render.tables import md_table, text_table
from edgeprof.report.text import printable

__all__ = ["render_devices"]


def render_devices(devices: Sequence[Device], fmt: str) -> str:
    """The device catalogue: id, name, class, peak rates, bandwidth, memories, power, each with its tag."""
    if fmt == "json":
        out = []
        for d in devices:
            entry: dict[str, Any] = {"id": d.id, "name": d.name, "soc": d.soc, "class": d.device_class,
                                     "origin": d.origin, "anchors": list(d.anchors)}
            entry.update({k: {"value": f.value, "tag": f.tag, "source": f.source} for k, f in d.figures().items()})
            out.append(entry)
        return json.dumps(out, indent=2) + "\n"

    def show(fig: Figure | None, unit: str, scale: float) -> str:
        return "-" if fig is None else f"{fig.value / scale:.3g}{unit} [{fig.tag}]"

    head = ("id", "name", "class", "FP32", "FP16", "INT8", "bandwidth", "RAM", "SRAM", "flash", "power")
    rows = [(d.id, d.name, d.device_class, show(d.peak_fp32_flop_per_s, " GFLOP/s", 1e9),
             show(d.peak_fp16_flop_per_s, " GFLOP/s", 1e9), show(d.peak_int8_op_per_s, " GOP/s", 1e9),
             show(d.memory_bandwidth_bytes_per_s, " GB/s", 1e9), show(d.ram_bytes, " GB", 1e9),
             show(d.sram_bytes, " KiB", 1024), show(d.flash_bytes, " MiB", 1 << 20), show(d.power_w, " W", 1))
            for d in devices]
    note = ("\nTags: vendor claim, measured, derived (arithmetic from cited inputs), secondary (unchecked page), "
            "assumed (a guess, reasoning in its source). Sources: edgeprof devices --format json.\n")
    if fmt == "md":
        table = md_table(head, rows, (False,) * len(head))
    else:
        table = text_table([head, *rows], (False,) * len(head), rule=True)
    return printable("\n".join(table), newlines=True) + "\n" + note
