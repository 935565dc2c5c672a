"""``edgeprof compare`` rendered: one row per model, the best (lowest) value in each column
marked, as a text table, Markdown, JSON or an HTML page with a scatter plot.

Columns are declared in :data:`COLUMNS`; a column whose figure no model has is left out (so
latency, FPS and energy columns appear once profiles carry them). A model that could not be
profiled keeps its row, with the one-line reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from edgeprof.render.console import Col, PathName, fit_table, natural_width, print_all
from edgeprof.render.format import exact, human, joules, seconds
from edgeprof.render.html_assets import esc, json_for_script, page
from edgeprof.render.html_svg import ScatterPoint, scatter_chart
from edgeprof.render.tables import Md, md_escape, md_table
from edgeprof.report.compare import CompareEntry
from edgeprof.report.model import Profile
from edgeprof.report.text import printable

__all__ = ["COLUMNS", "Column", "best_values", "columns_for", "render_compare"]


Number = int | float


@dataclass(frozen=True)
class Column:
    """A compared figure: exact counts are ints; times and rates are floats shown by ``show``."""

    key: str
    title: str
    unit: str
    value: Callable[[Profile], Number | None]
    lower_is_better: bool = True
    show: Callable[[float], str] | None = None
    drop: int = 0  # the terminal table leaves out a column with a higher rank first when it does not fit


def _peak(p: Profile) -> int | None:
    return p.memory.predicted.peak_bytes if p.memory is not None else None


COLUMNS: tuple[Column, ...] = (
    Column("flops", "FLOPs", "FLOPs", lambda p: p.totals.flops),
    Column("macs", "MACs", "MACs", lambda p: p.totals.macs, drop=4),
    Column("params", "params", "", lambda p: p.totals.params, drop=3),
    Column("weight_bytes", "weight size", "B", lambda p: p.totals.weight_bytes),
    Column("peak_bytes", "peak memory", "B", _peak, drop=1),
)


def _latency_columns(profiles: Sequence[Profile]) -> list[Column]:
    """Measured latency, then predicted latency and FPS for each device some profile has."""
    def fps(v: float) -> str:
        return f"{v:.4g} FPS"

    out: list[Column] = []
    if any(p.latency is not None and p.latency.measured is not None for p in profiles):
        out.append(Column("measured_latency_s", "latency (measured p50)", "s",
                          lambda p: p.latency.measured.p50_s if p.latency and p.latency.measured else None,
                          show=seconds, drop=2))
    devices: list[str] = []
    for p in profiles:
        devices += [d for d in (p.latency.predicted if p.latency else {}) if d not in devices]
    for d in devices:
        out.append(Column(f"latency_s:{d}", f"latency on {d}", "s", _predicted(d, "total_s"), show=seconds))
        out.append(Column(f"fps:{d}", f"FPS on {d}", "FPS", _predicted(d, "fps"), lower_is_better=False, show=fps,
                          drop=5))
    return out


def _energy_columns(profiles: Sequence[Profile]) -> list[Column]:
    """The estimated energy per inference (mid of the range) on each device some profile has."""
    devices: list[str] = []
    for p in profiles:
        devices += [d for d in (p.energy.estimated if p.energy else {}) if d not in devices]

    def mid(device: str) -> Callable[[Profile], Number | None]:
        def value(p: Profile) -> Number | None:
            if p.energy is None or device not in p.energy.estimated:
                return None
            return p.energy.estimated[device].estimated_j.mid

        return value

    return [Column(f"energy_j:{d}", f"energy on {d} (mid)", "J", mid(d), show=joules, drop=2) for d in devices]


def _predicted(device: str, figure: str) -> Callable[[Profile], Number | None]:
    """Reads ``figure`` (``total_s`` or ``fps``) of the prediction for ``device``."""

    def value(p: Profile) -> Number | None:
        if p.latency is None or device not in p.latency.predicted:
            return None
        result: float = getattr(p.latency.predicted[device], figure)
        return result

    return value


def columns_for(entries: Sequence[CompareEntry]) -> list[Column]:
    """The columns at least one profiled model has a value for (latency columns when some
    profile has latency)."""
    profiles = [e.profile for e in entries if e.profile is not None]
    every = [*COLUMNS, *_latency_columns(profiles), *_energy_columns(profiles)]
    return [c for c in every if any(c.value(p) is not None for p in profiles)]


def best_values(entries: Sequence[CompareEntry], columns: Sequence[Column]) -> dict[str, Number]:
    """The best value of each column over the models that have it."""
    best: dict[str, Number] = {}
    for c in columns:
        values = [v for e in entries if e.profile is not None and (v := c.value(e.profile)) is not None]
        if values:
            best[c.key] = min(values) if c.lower_is_better else max(values)
    return best


def _name(e: CompareEntry) -> str:
    """A row is named by the path as given (two files may hold models of the same name)."""
    return e.path


def _json(entries: Sequence[CompareEntry], columns: Sequence[Column]) -> str:
    best = best_values(entries, columns)
    rows: list[dict[str, Any]] = []
    for e in entries:
        row: dict[str, Any] = {"path": e.path, "ok": e.profile is not None, "error": e.error}
        if e.profile is not None:
            p = e.profile
            row["is_lower_bound"] = p.totals.is_lower_bound
            row["name"] = p.model.name
            row["values"] = {c.key: c.value(p) for c in columns}
            row["best"] = sorted(c.key for c in columns if c.key in best and c.value(p) == best[c.key])
        rows.append(row)
    out = {"columns": [{"key": c.key, "title": c.title, "unit": c.unit, "lower_is_better": c.lower_is_better}
                       for c in columns], "best": best, "models": rows}
    return json.dumps(out, indent=2) + "\n"


def _cell(value: Number | None, column: Column) -> str:
    """``'19,200 (19.2 kFLOPs)'``; below 1000 the exact figure alone (``'100 FLOPs'``)."""
    unit = column.unit
    if value is None:
        return "-"
    if column.show is not None or isinstance(value, float):
        return column.show(value) if column.show is not None else f"{value:.4g} {unit}"
    if abs(value) < 1000:
        return human(value, unit)
    return f"{exact(value)} ({human(value, unit)})"


def _short_cell(value: Number | None, column: Column) -> str:
    """The human form alone (``'68.8 MFLOPs'``): what a narrow terminal gets."""
    if value is None:
        return "-"
    if column.show is not None or isinstance(value, float):
        return _cell(value, column)
    return human(value, column.unit)


def _text(entries: Sequence[CompareEntry], columns: Sequence[Column], width: int, color: bool, encoding: str,
          all_columns: bool) -> str:
    """The terminal table: exact and human forms when they fit ``width``, else the human form
    alone, then the least useful columns left out (said below the table)."""
    best = best_values(entries, columns)
    cols = [Col("model", "name"), *(Col(c.title, "num", c.drop) for c in columns)]

    def rows(cell: Callable[[Number | None, Column], str]) -> list[list[str | Text | PathName]]:
        out: list[list[str | Text | PathName]] = []
        for e in entries:
            if e.profile is None:
                out.append([e.path, Text("failed", style="bold red"), *["-"] * (len(columns) - 1)])
                continue
            bound = e.profile.totals.is_lower_bound
            cells: list[str | Text | PathName] = [PathName(_name(e), " (lower bound)" if bound else "", " (l.b.)")]
            for c in columns:
                v = c.value(e.profile)
                is_best = v is not None and best.get(c.key) == v
                cells.append(Text(cell(v, c) + " *", style="green") if is_best else cell(v, c) + "  ")
            out.append(cells)
        return out

    full = rows(_cell)
    plain = [[x.plain if isinstance(x, Text) else x.text if isinstance(x, PathName) else x for x in r] for r in full]
    fitted = fit_table(cols, full if all_columns or natural_width(cols, plain) <= width else rows(_short_cell),
                       width, all_columns=all_columns)
    items: list[Text | str | Any] = [fitted.table, "* best in its column (the lowest; the highest FPS)"]
    if fitted.dropped:
        items.append(Text(fitted.note(), style="dim"))
    items += [Text(f"{e.path}: could not be profiled: {_reason(e)}", style="bold red")
              for e in entries if e.profile is None]
    return print_all(items, max(width, natural_width(cols, plain)) if all_columns else width, color, encoding)


def _reason(e: CompareEntry) -> str:
    """The error without the path repeated at its start (the row already names the path)."""
    prefix = f"{e.path}: "
    return e.error[len(prefix):] if e.error.startswith(prefix) else e.error


def _markdown(entries: Sequence[CompareEntry], columns: Sequence[Column]) -> str:
    best = best_values(entries, columns)
    rows: list[list[str]] = []
    for e in entries:
        if e.profile is None:
            rows.append([e.path, f"could not be profiled: {_reason(e)}"])
            continue
        cells: list[str] = [_name(e) + (" (lower bound)" if e.profile.totals.is_lower_bound else "")]
        for c in columns:
            v = c.value(e.profile)
            text = _cell(v, c)
            cells.append(Md(f"**{md_escape(text)}**") if v is not None and best.get(c.key) == v else text)
        rows.append(cells)
    lines = [f"## edgeprof comparison of {len(entries)} models", "",
             *md_table(["model", *[c.title for c in columns]], rows, [False] + [True] * len(columns)),
             "", "**Bold**: the best in its column (the lowest; the highest FPS)."]
    return printable("\n".join(lines), newlines=True) + "\n"


def _latency_scatter(entries: Sequence[CompareEntry], columns: Sequence[Column]) -> str:
    """Latency against FLOPs (the first latency column): FLOPs alone do not predict latency."""
    column = next((c for c in columns if c.unit == "s"), None)
    if column is None:
        return ""
    points = [ScatterPoint(_name(e), e.profile.totals.flops, round(v * 1e9)) for e in entries
              if e.profile is not None and (v := column.value(e.profile)) is not None]
    return ('<section id="latency-scatter"><h2>Latency vs FLOPs</h2><p class="sub">Each dot is a model: counted '
            f"FLOPs against {esc(column.title)}. Models with similar FLOPs can differ widely in latency.</p>"
            + scatter_chart(points, "Latency vs FLOPs", "FLOPs", "FLOPs", column.title, "s",
                            y_show=lambda ns: seconds(ns / 1e9)) + "</section>")


def _html(entries: Sequence[CompareEntry], columns: Sequence[Column]) -> str:
    best = best_values(entries, columns)
    head = "".join(f'<th class="num">{esc(c.title)}</th>' for c in columns)
    rows = []
    for e in entries:
        if e.profile is None:
            rows.append(f'<tr class="not-counted"><td>{esc(e.path)}</td>'
                        f'<td colspan="{len(columns)}" data-v="-1">could not be profiled: {esc(_reason(e))}</td></tr>')
            continue
        cells = []
        for c in columns:
            v = c.value(e.profile)
            cls = "num best" if v is not None and best.get(c.key) == v else "num"
            cells.append(f'<td class="{cls}" data-v="{-1 if v is None else v}">{esc(_cell(v, c))}</td>')
        bound = " <small>(lower bound)</small>" if e.profile.totals.is_lower_bound else ""
        rows.append(f'<tr data-key="{esc(e.path)}"><td>{esc(_name(e))}{bound}</td>{"".join(cells)}</tr>')
    points = [ScatterPoint(_name(e), e.profile.totals.macs, peak) for e in entries
              if e.profile is not None and (peak := _peak(e.profile)) is not None]
    chart = ""
    if points:
        chart = ('<section id="scatter"><h2>MACs vs peak memory</h2><p class="sub">Each dot is a model: compute '
                 "(counted MACs) against the predicted peak memory (weights + peak activations).</p>"
                 + scatter_chart(points, "MACs vs peak memory", "MACs", "MACs", "peak memory", "B") + "</section>")
    chart += _latency_scatter(entries, columns)
    data = {"models": [{"path": e.path, "error": e.error, "profile": e.profile.to_dict() if e.profile else None}
                       for e in entries]}
    body = (
        f"<header><h1>edgeprof comparison of {len(entries)} models</h1>"
        '<p class="sub">Bold green: the best in its column (the lowest; the highest FPS). Click a header to sort.'
        "</p></header>"
        f'<section id="comparison"><table class="sortable" id="compare-table"><thead><tr><th>model</th>{head}</tr>'
        f'</thead><tbody>{"".join(rows)}</tbody></table></section>{chart}'
        f'<script type="application/json" id="edgeprof-data">{json_for_script(data)}</script>'
    )
    return page("edgeprof comparison", body)


def render_compare(entries: Sequence[CompareEntry], fmt: str, *, width: int = 100, color: bool = False,
                   encoding: str = "utf-8", all_columns: bool = False) -> str:
    """``fmt``: ``table`` (``width`` columns wide unless ``all_columns``), ``md``, ``json`` or ``html``."""
    columns = columns_for(entries) or list(COLUMNS)
    if fmt == "json":
        return _json(entries, columns)
    if fmt == "md":
        return _markdown(entries, columns)
    if fmt == "html":
        return _html(entries, columns)
    return _text(entries, columns, width, color, encoding, all_columns)
