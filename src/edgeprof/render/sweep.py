"""The output of ``edgeprof sweep`` (table, Markdown, CSV, JSON, HTML with the Pareto chart) and of
``edgeprof db query`` (any columns, in table, Markdown, CSV or JSON).

The rows and their marks come made (``edgeprof.sweeps``); nothing is computed here but the text.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from edgeprof.render.format import human, joules, seconds
from edgeprof.render.html_assets import esc, json_for_script, page
from edgeprof.render.html_svg import ScatterPoint, scatter_chart
from edgeprof.render.tables import csv_table, md_table, text_table
from edgeprof.report.sweep import SweepMark, SweepRow
from edgeprof.report.text import printable

__all__ = ["SWEEP_FORMATS", "render_query", "render_sweep"]

SWEEP_FORMATS = ("table", "md", "csv", "json", "html")
_HEAD = ("model", "device", "precision", "params", "MACs", "peak memory", "latency", "energy", "measured", "pareto",
         "note")
_RIGHT = (False, False, False, True, True, True, True, True, True, False, False)
_X_NAMES = {"params": ("params", ""), "macs": ("MACs", "MACs"), "peak": ("peak memory", "B")}


def _n(value: int | None, unit: str = "") -> str:
    return "-" if value is None else human(value, unit)


def _key(row: SweepRow) -> tuple[str, ...]:
    return row.key


def _note(row: SweepRow, mark: SweepMark | None) -> str:
    if not row.ok:
        return f"failed: {row.error}"
    notes = []
    if mark is not None and mark.breaks:
        notes.append("over budget: " + ", ".join(mark.breaks))
    if row.is_lower_bound or row.latency_is_lower_bound:
        notes.append("lower bound")
    if row.measurement_error:
        notes.append(f"not measured: {row.measurement_error}")
    return "; ".join(notes)


def _cells(row: SweepRow, mark: SweepMark | None) -> list[str]:
    return [
        row.label, row.device or "-", row.precision or "-", _n(row.params), _n(row.macs, "MACs"),
        _n(row.peak_bytes, "B"), "-" if row.latency_s is None else seconds(row.latency_s),
        "-" if row.energy_j is None else joules(row.energy_j),
        "-" if row.measured_latency_s is None else seconds(row.measured_latency_s),
        "yes" if mark is not None and mark.pareto else "", _note(row, mark),
    ]


def _by_row(marks: Sequence[SweepMark]) -> dict[tuple[str, ...], SweepMark]:
    return {_key(m.row): m for m in marks}


def _json(rows: Sequence[SweepRow], marks: Sequence[SweepMark], y_axis: str, x_axis: str) -> str:
    by = _by_row(marks)
    out = []
    for r in rows:
        d = r.to_dict()
        m = by.get(_key(r))
        d["pareto"] = m.pareto if m is not None else None
        d["breaks"] = list(m.breaks) if m is not None else []
        out.append(d)
    return json.dumps({"pareto_axes": {"x": x_axis, "y": y_axis}, "rows": out}, indent=2) + "\n"


def _csv(rows: Sequence[SweepRow], marks: Sequence[SweepMark]) -> str:
    by = _by_row(marks)
    names = ["label", "device", "precision", "status", "error", "flops", "macs", "params", "weight_bytes",
             "peak_bytes", "latency_s", "energy_j", "measured_latency_s", "measured_peak_bytes", "model_hash",
             "options_hash", "edgeprof_version"]
    body: list[list[str | int | float]] = []
    for r in rows:
        m = by.get(_key(r))
        cells: list[str | int | float] = [v if (v := getattr(r, n)) is not None else "" for n in names]
        body.append([*cells, "" if m is None else int(m.pareto), "" if m is None else " ".join(m.breaks)])
    return csv_table([*names, "pareto", "breaks"], body)


def _summary(rows: Sequence[SweepRow]) -> str:
    failed = sum(1 for r in rows if not r.ok)
    return f"{len(rows)} row(s), {len(rows) - failed} ok, {failed} failed"


def _html(rows: Sequence[SweepRow], marks: Sequence[SweepMark], y_axis: str, x_axis: str) -> str:
    by = _by_row(marks)
    head = "".join(f'<th class="{"num" if r else ""}">{esc(h)}</th>' for h, r in zip(_HEAD, _RIGHT, strict=True))
    body = []
    for r in rows:
        m = by.get(_key(r))
        cells = _cells(r, m)
        sort_values: list[Any] = [None, None, None, r.params, r.macs, r.peak_bytes, r.latency_s, r.energy_j,
                                  r.measured_latency_s, None, None]
        tds = []
        for cell, right, v in zip(cells, _RIGHT, sort_values, strict=True):
            cls = ' class="num"' if right else ""
            data = f' data-v="{-1 if v is None else v}"' if right else ""
            tds.append(f"<td{cls}{data}>{esc(cell)}</td>")
        cls = "not-counted" if not r.ok else ("best" if m is not None and m.pareto else "")
        body.append(f'<tr class="{cls}" data-key="{esc(r.label)}">{"".join(tds)}</tr>')
    x_name, x_unit = _X_NAMES[x_axis]
    latency = y_axis == "latency"
    charted = [m for m in marks if m.charted]
    device = next((m.row.device for m in charted), "")
    y_name = f"latency on {device}" if latency else "MACs"
    many = len(charted) > 30
    points = [ScatterPoint(m.row.label, round(m.x), round(m.y * 1e9) if latency else round(m.y),
                           " ".join(["pareto" if m.pareto else "other", *(["over"] if m.breaks else [])]),
                           labelled=m.pareto or not many)
              for m in charted]
    chart = ""
    if points:
        chart = (f'<section id="pareto"><h2>{esc(y_name)} vs {esc(x_name)}</h2><p class="sub">Each dot is a candidate. '
                 "Green: Pareto-optimal (no other candidate is as low on both axes and lower on one), joined by the "
                 "front; grey: dominated; a red ring: breaks the budget.</p>"
                 + scatter_chart(points, f"{y_name} vs {x_name}", x_name, x_unit, y_name, "s" if latency else "MACs",
                                 y_show=(lambda ns: seconds(ns / 1e9)) if latency else None)
                 + "</section>")
    data = json.loads(_json(rows, marks, y_axis, x_axis))
    page_body = (
        f"<header><h1>edgeprof sweep: {len(rows)} result(s)</h1><p class=\"sub\">{esc(_summary(rows))}. "
        "Click a header to sort.</p></header>"
        f"{chart}"
        '<section id="results"><h2>Results</h2><input class="filter" type="search" placeholder="filter models" '
        'data-table="sweep-table"><span id="sweep-table-count"></span>'
        f'<div class="scroll"><table class="sortable" id="sweep-table"><thead><tr>{head}</tr></thead>'
        f'<tbody>{"".join(body)}</tbody></table></div></section>'
        f'<script type="application/json" id="edgeprof-data">{json_for_script(data)}</script>'
    )
    return page("edgeprof sweep", page_body)


def render_sweep(rows: Sequence[SweepRow], fmt: str, *, marks: Sequence[SweepMark] = (), y_axis: str = "latency",
                 x_axis: str = "params") -> str:
    """``rows`` in ``fmt`` (:data:`SWEEP_FORMATS`); ``marks`` (:func:`edgeprof.sweeps.pareto.mark_rows`)
    add the Pareto and budget columns and, in HTML, the chart of ``y_axis`` against ``x_axis``."""
    if fmt == "json":
        return _json(rows, marks, y_axis, x_axis)
    if fmt == "csv":
        return _csv(rows, marks)
    if fmt == "html":
        return _html(rows, marks, y_axis, x_axis)
    by = _by_row(marks)
    table = [_cells(r, by.get(_key(r))) for r in rows]
    if fmt == "md":
        lines = ["## edgeprof sweep", "", *md_table(_HEAD, table, _RIGHT), "", _summary(rows) + "."]
        return printable("\n".join(lines), newlines=True) + "\n"
    return "\n".join([*text_table([list(_HEAD), *table], _RIGHT, rule=True), _summary(rows)]) + "\n"


def _query_cell(value: Any) -> str:
    return "NULL" if value is None else str(value)


def render_query(columns: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str) -> str:
    """The result of ``edgeprof db query``: ``fmt`` is ``table``, ``md``, ``csv`` or ``json`` (a list
    of objects, column name to value)."""
    if fmt == "json":
        return json.dumps([dict(zip(columns, r, strict=True)) for r in rows], indent=2) + "\n"
    if fmt == "csv":
        return csv_table(list(columns), [["" if v is None else v for v in r] for r in rows])
    numeric = [bool(rows) and all(isinstance(r[i], (int, float)) or r[i] is None for r in rows)
               for i in range(len(columns))]
    cells = [[_query_cell(v) for v in r] for r in rows]
    if fmt == "md":
        return printable("\n".join(md_table(list(columns), cells, numeric)), newlines=True) + "\n"
    if not columns:
        return ""
    return "\n".join([*text_table([list(columns), *cells], numeric, rule=True), f"({len(rows)} row(s))"]) + "\n"
