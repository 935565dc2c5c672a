"""``edgeprof devices``: the device catalogue as a table (text or Markdown) or JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.text import Text

from edgeprof.devices.catalogue import Device, Figure
from edgeprof.render.console import Col, fit_table, natural_width, print_all
from edgeprof.render.tables import md_table
from edgeprof.report.text import printable

__all__ = ["render_devices"]


def render_devices(devices: Sequence[Device], fmt: str, *, width: int = 100, color: bool = False,
                   encoding: str = "utf-8", all_columns: bool = False) -> str:
    """The device catalogue: id, name, class, peak rates, bandwidth, memories, power, each with its
    tag; ``table`` fits ``width`` columns (unless ``all_columns``)."""
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
        return printable("\n".join(table), newlines=True) + "\n" + note
    return _terminal(devices, width, color, encoding, all_columns)


_TAG_LETTER = {"vendor": "v", "measured": "m", "derived": "d", "secondary": "s", "assumed": "a"}


def _short(fig: Figure | None, scale: float) -> str:
    """``154 d``: the figure in the column's unit and its tag's letter."""
    if fig is None:
        return "-"
    value = fig.value / scale
    number = f"{value:,.0f}" if value >= 1000 else f"{value:.3g}"
    return f"{number} {_TAG_LETTER.get(fig.tag, fig.tag)}"


def _terminal(devices: Sequence[Device], width: int, color: bool, encoding: str, all_columns: bool) -> str:
    """The catalogue in the terminal's style: units in the headers, each figure's tag as a letter,
    the name and class left out first when the table does not fit."""
    cols = [Col("id"), Col("name", "name", 3), Col("class", "text", 2), Col("FP32 GFLOP/s", "num"),
            Col("FP16 GFLOP/s", "num"), Col("INT8 GOP/s", "num"), Col("memory GB/s", "num"), Col("RAM GB", "num"),
            Col("SRAM KiB", "num"), Col("flash MiB", "num"), Col("power W", "num", 1)]
    rows = [[d.id, d.name, d.device_class, _short(d.peak_fp32_flop_per_s, 1e9), _short(d.peak_fp16_flop_per_s, 1e9),
             _short(d.peak_int8_op_per_s, 1e9), _short(d.memory_bandwidth_bytes_per_s, 1e9), _short(d.ram_bytes, 1e9),
             _short(d.sram_bytes, 1024), _short(d.flash_bytes, 1 << 20), _short(d.power_w, 1)] for d in devices]
    fitted = fit_table(cols, rows, width, all_columns=all_columns)
    items: list[Any] = [fitted.table]
    if fitted.dropped:
        items.append(Text(fitted.note(), style="dim"))
    items.append("Tags: v vendor claim, m measured, d derived (arithmetic from cited inputs), s secondary (unchecked "
                 "page), a assumed (a guess, reasoning in its source). Sources: edgeprof devices --format json.")
    return print_all(items, max(width, natural_width(cols, rows)) if all_columns else width, color, encoding)
