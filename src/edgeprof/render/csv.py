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
import operator
import typing
from dataclasses import fields

from edgeprof.render.tables import csv_columns
from edgeprof.report.json_text import each_as_json
from edgeprof.report.model import LayerCost, Profile

__all__ = ["CSV_COLUMNS", "render_csv"]

CSV_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(LayerCost))
_read_row = operator.attrgetter(*CSV_COLUMNS)
_COMPACT = (",", ":")


def _cell(value: object) -> str | int | float:
    if isinstance(value, tuple):
        return json.dumps(list(value), separators=_COMPACT)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return str(value)


def _cells(values: tuple[object, ...]) -> tuple[str | int | float, ...]:
    """:func:`_cell` of a column's values, without a call per value where all are ints, floats
    or strs (kept as they are) or all are tuples (the shapes)."""
    kinds = set(map(type, values))
    if kinds <= {int, float, str}:
        return typing.cast("tuple[str | int | float, ...]", values)
    if kinds == {tuple}:
        return tuple(each_as_json(values, _COMPACT))
    if kinds == {bool}:
        return tuple(map(str, values))
    return tuple(map(_cell, values))


def render_csv(profile: Profile) -> str:
    listed = {(layer.op, layer.name) for layer in profile.layers if layer.state == "not_counted"}
    orphans = [LayerCost(nc.example, nc.op, "", "not_counted", (), note=f"{nc.reason} ({nc.count} node(s))")
               for nc in profile.not_counted if (nc.op, nc.example) not in listed]
    layers = [*profile.layers, *orphans]
    columns = list(zip(*map(_read_row, layers), strict=True)) or [() for _ in CSV_COLUMNS]
    return csv_columns(CSV_COLUMNS, [_cells(column) for column in columns])
