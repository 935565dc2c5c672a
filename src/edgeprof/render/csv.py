"""The CSV report: one row per layer (every :class:`LayerCost` field), after a header row.

CSV is per layer, so the not-counted ops show as their layer rows (``state`` is
``not_counted`` and ``note`` holds the reason). A not-counted op of the Profile with no layer
row of its own (only a hand-built Profile can have one) gets a row too, named after its
example node, so that it is never dropped. ``output_shape`` is a compact JSON list
(``[1,3,224,224]``; symbolic dims as strings) so that the cell reads back exactly.

Counts are written as numbers; a text cell that starts like a spreadsheet formula (a node named
``=HYPERLINK(...)``) gets a leading ``'`` and control characters are escaped
(:func:`edgeprof.render.tables.csv_cell`): the type of the field decides, not its text."""

from __future__ import annotations

import json
from dataclasses import astuple, fields

from edgeprof.render.tables import csv_table
from edgeprof.report.model import LayerCost, Profile

__all__ = ["CSV_COLUMNS", "render_csv"]

CSV_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(LayerCost))


def _cell(value: object) -> str | int | float:
    if isinstance(value, tuple):
        return json.dumps(list(value), separators=(",", ":"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return str(value)


def render_csv(profile: Profile) -> str:
    rows = [[_cell(v) for v in astuple(layer)] for layer in profile.layers]
    listed = {(layer.op, layer.name) for layer in profile.layers if layer.state == "not_counted"}
    for nc in profile.not_counted:
        if (nc.op, nc.example) in listed:
            continue
        orphan = LayerCost(nc.example, nc.op, "", "not_counted", (), note=f"{nc.reason} ({nc.count} node(s))")
        rows.append([_cell(v) for v in astuple(orphan)])
    return csv_table(CSV_COLUMNS, rows)
