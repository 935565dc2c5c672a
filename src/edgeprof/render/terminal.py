"""The terminal report, drawn with rich: plain text without a terminal, colour only on request.

Sections: header (model, inputs, notices), summary (every figure exact and in human form,
with its unit and how it was obtained), stored weights by dtype, category shares, the layer
table, optional per-module and per-operator tables, and the not-counted ops (never silently
empty). Model-provided strings are shown as plain text (no rich markup is interpreted), with
their control and bidi characters as visible escapes (every cell, title and line goes through
:func:`_safe`: a node named ``\x1b]52;...`` cannot write the clipboard) and names longer than
:data:`NAME_LIMIT` characters shortened to their head and tail, so that the report stays small
and is drawn in time linear in its input whatever the names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from edgeprof.ops.registry import Entry
from edgeprof.render.console import (
    CELL_LIMIT,
    HEAD,
    NAME_LIMIT,
    Col,
    FittedTable,
    PathName,
    SafeTable,
    finish,
    fit_table,
    make_console,
    new_table,
    safe,
    wrap_path,
)
from edgeprof.render.energy import (
    ENERGY_CATEGORY_COLUMNS,
    ENERGY_COLUMNS,
    ENERGY_LAYER_COLUMNS,
    device_energy_rows,
    energy_category_rows,
    energy_layer_rows,
    energy_notes,
    energy_title,
    measured_energy_rows,
)
from edgeprof.render.format import (
    DEPLOYMENT_HEADERS,
    DEPLOYMENT_TITLE,
    DEVICE_FIT_HEADERS,
    RAM_FIT_HEADERS,
    RAM_FIT_TITLE,
    ViewOptions,
    activation_share,
    deployment_note,
    deployment_rows,
    device_fit_rows,
    exact,
    fit_notes,
    human,
    if_range,
    input_source_label,
    layer_share,
    llm_rows,
    memory_rows,
    percent,
    precision_rows,
    ram_fit_rows,
    select_layers,
    shape_text,
)
from edgeprof.render.latency import (
    DEVICE_SUMMARY_COLUMNS,
    LATENCY_COLUMNS,
    device_summary_rows,
    latency_notes,
    latency_rows,
)
from edgeprof.report.model import LayerCost, Profile

__all__ = ["CELL_LIMIT", "NAME_LIMIT", "render_ops_terminal", "render_terminal", "wrap_path"]

_HEAD = HEAD
_WARN = "bold yellow"
_BAD = "bold red"
_GOOD = "green"
_DIM = "dim"
_safe = safe
_SafeTable = SafeTable
_PathName = PathName
_console = make_console
_table = new_table
_finish = finish


def _num_col(table: Table, header: str) -> None:
    table.add_column(header, justify="right", overflow="fold")


def _text_col(table: Table, header: str, *, ratio: int | None = None) -> None:
    table.add_column(header, justify="left", overflow="fold", ratio=ratio)


def _has_int_ops(profile: Profile) -> bool:
    return profile.totals.int_ops > 0 or any(layer.int_ops for layer in profile.layers)


def _header(profile: Profile) -> list[list[RenderableType]]:
    m = profile.model
    out: list[RenderableType] = [Text.assemble(("edgeprof report: ", _HEAD), (m.name or "(unnamed model)", _HEAD))]
    grid = _SafeTable.grid(padding=(0, 2))
    grid.add_column(style=_DIM, no_wrap=True)
    grid.add_column(overflow="fold")
    path = m.path or "-"
    if m.file_bytes is not None:
        path += f"  ({exact(m.file_bytes)} bytes, {human(m.file_bytes, 'B')})"
    grid.add_row("format", m.format or "-")
    grid.add_row("path", path)
    grid.add_row("producer", m.producer or "-")
    grid.add_row("opset", m.opset or "-")
    sections: list[list[RenderableType]] = [[*out, grid]]
    out = []
    inputs = _table()
    inputs_title = Text("Inputs (the shapes this report was computed for)", style=_HEAD)
    _text_col(inputs, "name")
    _text_col(inputs, "shape")
    _text_col(inputs, "dtype")
    _text_col(inputs, "shape from")
    for spec in profile.inputs:
        inputs.add_row(spec.name, shape_text(spec.shape), spec.dtype, f"({input_source_label(spec)})")
    if profile.inputs:
        out += [inputs_title, inputs]
    else:
        out.append(Text("Inputs: none", style=_HEAD))
    sections.append(out)
    if profile.notices:
        grid = _SafeTable.grid(padding=(0, 1))
        grid.add_column(style=_WARN, no_wrap=True)
        grid.add_column(overflow="fold")
        for notice in profile.notices:
            grid.add_row(" !", notice)  # wrapped lines stay under the notice, not under the mark
        sections.append([Text("Notices", style=_HEAD), grid])
    return sections


def _summary(profile: Profile) -> list[RenderableType]:
    t = profile.totals
    kind = profile.provenance.kind
    bound = f"{kind}, LOWER BOUND" if t.is_lower_bound else kind
    bound_style = _WARN if t.is_lower_bound else ""
    table = _table()
    table_title = Text("Summary (one forward pass at the inputs above)", style=_HEAD)
    _text_col(table, "figure")
    _num_col(table, "exact")
    _num_col(table, "approx")
    _text_col(table, "how obtained")

    def row(label: str, value: int, unit: str, how: str, style: str = "") -> None:
        table.add_row(label, exact(value), human(value, unit), Text(how, style=style))

    row("FLOPs (float ops)", t.flops, "FLOPs", bound, bound_style)
    row("MACs", t.macs, "MACs", bound, bound_style)
    if _has_int_ops(profile):
        row("integer OPs", t.int_ops, "OPs", bound, bound_style)
    row("params", t.params, "", kind)
    row("weight bytes", t.weight_bytes, "B", kind)
    row("bytes read (sum over nodes)", t.bytes_read, "B", bound, bound_style)
    row("bytes written (sum over nodes)", t.bytes_written, "B", bound, bound_style)
    out: list[RenderableType] = [table_title, table]
    if t.is_lower_bound:
        nodes = sum(n.count for n in profile.not_counted)
        out.append(
            Text(
                f"LOWER BOUND: {nodes} node(s) of {len(profile.not_counted)} op type(s) were not counted "
                "(listed under 'Not counted'); the true totals are higher.",
                style=_WARN,
            )
        )
    if t.has_range:
        out.append(Text(f"Range {if_range(t)}: control flow not known statically (an If's branch, a Loop "
                        "that may exit early; set the condition or trip count with --value); totals, categories "
                        "and shares are at the top (the costlier branch)."))
    f = profile.foldable
    if f.nodes:
        detail = ", ".join(f.detail) if f.detail else f"{f.nodes} node(s)"
        out.append(
            Text(
                f"{exact(f.flops)} FLOPs ({percent(f.flops, t.flops + t.int_ops)}) foldable at deployment: {detail} "
                "(counted above as given)."
            )
        )
    else:
        out.append(Text("Foldable at deployment: nothing found (no BatchNorm/bias/activation after a kernel)."))
    out.append(Text(f"How counted: {profile.provenance.method}", style=_DIM))
    return out


def _weights(profile: Profile) -> list[RenderableType]:
    if not profile.weights_by_dtype:
        return [Text("Stored weights: none", style=_HEAD)]
    table = _table()
    table_title = Text("Stored weights by dtype", style=_HEAD)
    _text_col(table, "dtype")
    _num_col(table, "tensors")
    _num_col(table, "elements")
    _num_col(table, "params")
    _num_col(table, "bytes")
    _num_col(table, "approx")
    for g in profile.weights_by_dtype:
        table.add_row(g.dtype, exact(g.tensors), exact(g.elements), exact(g.params), exact(g.bytes), human(g.bytes, "B"))
    return [table_title, table]


def _memory(profile: Profile, width: int) -> list[RenderableType]:
    mem = profile.memory
    if mem is None:
        return []
    rows: list[tuple[str, Sequence[str | Text]]] = [
        (label, [exact(n), human(n, "B"), how]) for label, n, how in memory_rows(mem)
    ]
    out: list[RenderableType] = [
        Text("Memory while running", style=_HEAD),
        _named_table(width, "figure", [("bytes", True), ("approx", True), ("how obtained", False)], rows),
    ]
    prec = [(p, [dts, exact(w), exact(a), exact(t)]) for p, dts, w, a, t in precision_rows(mem)]
    out.append(_named_table(width, "precision", [("weights / activations", False), ("weight B", True),
                                                  ("peak activation B", True), ("peak B", True)], prec))
    if mem.predicted.device_fits:
        out.append(Text("Does it fit? (weights stay in flash, activations in SRAM)", style=_HEAD))
        fits = [(d, list(rest)) for d, *rest in device_fit_rows(mem)]
        out.append(_named_table(width, DEVICE_FIT_HEADERS[0], [(h, False) for h in DEVICE_FIT_HEADERS[1:]], fits))
    if mem.predicted.ram_fits:
        out.append(Text(RAM_FIT_TITLE, style=_HEAD))
        ram = [(d, list(rest)) for d, *rest in ram_fit_rows(mem)]
        out.append(_named_table(width, RAM_FIT_HEADERS[0], [(h, h != "fits") for h in RAM_FIT_HEADERS[1:]], ram))
    if mem.predicted.unsized_values:
        out.append(Text(f"{len(mem.predicted.unsized_values)} tensor(s) could not be sized (e.g. {mem.predicted.unsized_values[0]}): "
                        "the activation peak is a lower bound.", style=_WARN))
    if mem.measurement_error:
        out.append(Text(f"Measurement not made: {mem.measurement_error}", style=_WARN))
    return out


def _llm(profile: Profile, width: int) -> list[RenderableType]:
    llm = profile.llm
    if llm is None:
        return []
    rows: list[tuple[str, Sequence[str | Text]]] = [
        (label, [exact(n), human(n, unit)]) for label, n, unit in llm_rows(llm)
    ]
    out: list[RenderableType] = [
        Text("Decoder LLM figures (counted)", style=_HEAD),
        _named_table(width, "figure", [("exact", True), ("approx", True)], rows),
    ]
    if llm.is_lower_bound:
        out.append(Text("Some ops of the prefill or decode graph were not counted: lower bounds.", style=_WARN))
    return out


def _latency(profile: Profile, width: int) -> list[RenderableType]:
    if profile.latency is None:
        return []
    rows: list[tuple[str, Sequence[str | Text]]] = list(latency_rows(profile.latency))
    out: list[RenderableType] = [Text("Latency", style=_HEAD)]
    if rows:
        out.append(_latency_table(width, rows))
    out += [Text(note, style=_WARN if "bound" in note or "not made" in note else "") for note in
            latency_notes(profile.latency, profile.memory)]
    return out


def _latency_table(width: int, rows: Sequence[tuple[str, Sequence[str | Text]]]) -> Table:
    """The latency rows; the compute / memory / overhead column only when a prediction fills it."""
    columns = list(LATENCY_COLUMNS)
    if all(cells[2] == "-" for _, cells in rows):
        columns.pop(2)
        rows = [(label, [c for i, c in enumerate(cells) if i != 2]) for label, cells in rows]
    return _named_table(width, "figure", columns, rows)


def _compact_notes(profile: Profile) -> list[str]:
    """The warnings of the compact device view: a device the model does not fit, a lower bound
    (with its first reason), a failed measurement."""
    lat, energy = profile.latency, profile.energy
    predicted = dict(lat.predicted) if lat is not None else {}
    estimated = dict(energy.estimated) if energy is not None else {}
    notes = fit_notes(profile.memory, set(predicted) | set(estimated)) if profile.memory is not None else []
    for device_id in [*predicted, *(d for d in estimated if d not in predicted)]:
        p, e = predicted.get(device_id), estimated.get(device_id)
        missing = [*(p.missing if p is not None else ()), *(e.missing if e is not None else ())]
        if (p is not None and p.is_lower_bound) or (e is not None and e.is_lower_bound):
            why = f": {missing[0]}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "") if missing else ""
            notes.append(f"{device_id}: lower bound{why}")
    if lat is not None and lat.measurement_error:
        notes.append(f"Measurement not made: {lat.measurement_error}")
    if energy is not None and energy.measurement_error:
        notes.append(f"Energy measurement not made: {energy.measurement_error}")
    if energy is not None and energy.sensor_note:
        notes.append(energy.sensor_note)
    return notes



def _devices_compact(profile: Profile, width: int) -> list[RenderableType]:
    """One row per device (runtime, latency, FPS, bound, energy, fits), the measured figures,
    and only the notes that warn (fits, lower bounds, what-ifs, missing rates, failed runs)."""
    rows: list[tuple[str, Sequence[str | Text]]] = [
        (d, [Text(c, style=_BAD) if c == "NO" else c for c in cells])
        for d, cells in device_summary_rows(profile.latency, profile.energy, profile.memory)]
    out: list[RenderableType] = [Text("On devices (predicted latency, estimated energy per inference)", style=_HEAD),
                                 _named_table(width, "device", list(DEVICE_SUMMARY_COLUMNS), rows)]
    lat = profile.latency
    measured: list[tuple[str, Sequence[str | Text]]] = [r for r in latency_rows(lat) if r[0].startswith("measured")] \
        if lat is not None else []
    if measured:
        out += [Text("Latency measured on this machine", style=_HEAD), _latency_table(width, measured)]
    if profile.energy is not None:
        energy_measured: list[tuple[str, Sequence[str | Text]]] = list(measured_energy_rows(profile.energy))
        if energy_measured:
            out += [Text("Energy measured on this machine", style=_HEAD),
                    _named_table(width, "figure", list(ENERGY_COLUMNS), energy_measured)]
    for note in _compact_notes(profile):
        out.append(Text(note, style=_WARN))
    out.append(Text("--details: per-device latency breakdown, runtime partitions, energy ranges, top layers and "
                    "categories", style=_DIM))
    return out


def _energy(profile: Profile, width: int) -> list[RenderableType]:
    if profile.energy is None:
        return []
    out: list[RenderableType] = []
    for device_id, e in profile.energy.estimated.items():
        rows: list[tuple[str, Sequence[str | Text]]] = list(device_energy_rows(e))
        out += [Text(energy_title(e), style=_HEAD), _named_table(width, "figure", list(ENERGY_COLUMNS), rows)]
        layer_rows: list[tuple[str, Sequence[str | Text]]] = list(energy_layer_rows(e))
        if layer_rows:
            out.append(Text(f"Top energy consumers on {device_id} (ops + data movement, mid)", style=_HEAD))
            out.append(_named_table(width, "layer", list(ENERGY_LAYER_COLUMNS), layer_rows))
        cat_rows: list[tuple[str, Sequence[str | Text]]] = list(energy_category_rows(e))
        if cat_rows:
            out.append(Text(f"Energy by category on {device_id} (ops + data movement, mid)", style=_HEAD))
            out.append(_named_table(width, "category", list(ENERGY_CATEGORY_COLUMNS), cat_rows))
    measured: list[tuple[str, Sequence[str | Text]]] = list(measured_energy_rows(profile.energy))
    if measured:
        out += [Text("Energy measured on this machine", style=_HEAD),
                _named_table(width, "figure", list(ENERGY_COLUMNS), measured)]
    if not out:
        out.append(Text("Energy", style=_HEAD))
    out += [Text(note, style=_WARN if "bound" in note or "not made" in note or "no power sensor" in note else "")
            for note in energy_notes(profile.energy, profile.memory)]
    out.append(Text("Estimates are ranges (low .. high) from two models; see docs/energy.md.", style=_DIM))
    return out


def _deployment(profile: Profile, width: int) -> list[RenderableType]:
    dep = profile.deployment
    if dep is None:
        return []
    rows = [(figure, list(rest)) for figure, *rest in deployment_rows(dep)]
    return [Text(DEPLOYMENT_TITLE, style=_HEAD),
            _named_table(width, DEPLOYMENT_HEADERS[0], [(h, True) for h in DEPLOYMENT_HEADERS[1:]], rows),
            Text(deployment_note(dep))]


def _categories(profile: Profile) -> list[RenderableType]:
    ints = _has_int_ops(profile)
    table = _table()
    table_title = Text("Categories (share of all counted FLOPs + integer OPs)", style=_HEAD)
    _text_col(table, "category")
    _num_col(table, "FLOPs")
    _num_col(table, "MACs")
    if ints:
        _num_col(table, "int OPs")
    _num_col(table, "nodes")
    _num_col(table, "share")
    total = profile.totals.flops + profile.totals.int_ops
    for c in profile.categories:
        cells = [c.category, exact(c.flops), exact(c.macs)]
        if ints:
            cells.append(exact(c.int_ops))
        cells += [exact(c.nodes), percent(c.flops + c.int_ops, total)]
        table.add_row(*cells)
    act, whole = activation_share(profile)
    remark = Text(
        f"Activation functions: {percent(act, whole)} of the counted ops. They are often left out of "
        "headline FLOPs as negligible next to conv and linear layers; this share shows whether that holds "
        "for this model."
    )
    if not profile.categories:
        return [Text("Categories: no counted ops", style=_HEAD), remark]
    return [table_title, table, remark]




def _safe_cell(cell: str | Text) -> str | Text:
    safe = _safe(cell)
    return safe if isinstance(safe, (str, Text)) else cell


def _plain(cell: str | Text) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _named_table(
    width: int, first: str, columns: Sequence[tuple[str, bool]],
    rows: Sequence[tuple[str | PathName, Sequence[str | Text]]],
) -> Table:
    """A table whose first column holds names (shortened in the middle, on one line) and whose
    other ``columns`` (header, is-numeric) keep their natural width (headers wrap at spaces)
    while long text (a "how obtained") wraps: the names give way first, down to 12 columns
    (:func:`edgeprof.render.console.fit_table`)."""
    return _fitted(width, first, columns, rows).table


def _fitted(
    width: int, first: str, columns: Sequence[tuple[str, bool]],
    rows: Sequence[tuple[str | PathName, Sequence[str | Text]]],
    drop: dict[str, int] | None = None, all_columns: bool = False,
) -> FittedTable:
    """:func:`_named_table` with columns that may be left out (``drop``: header -> rank) when the
    table does not fit even with its names shortened."""
    safe_rows = [[name if isinstance(name, PathName) else PathName(name), *(_safe_cell(c) for c in cells)]
                 for name, cells in rows]
    cols = [Col(first, "name")]
    for i, (header, numeric) in enumerate(columns):
        longest = max([len(header), *(len(_plain(c)) for r in safe_rows if isinstance(c := r[i + 1], (str, Text)))])
        kind = "num" if numeric else "wrap" if longest > 24 else "text"
        cols.append(Col(header, kind, (drop or {}).get(header, 0)))
    return fit_table(cols, safe_rows, width, all_columns=all_columns)


def _dropped_note(fitted: FittedTable) -> list[RenderableType]:
    return [Text(fitted.note(), style=_DIM)] if fitted.dropped else []


# At a narrow width the layer tables leave out these columns first (rank: higher goes first).
_LAYER_DROPS = {"output shape": 3, "params": 2, "share": 1}


def _layer_name(layer: LayerCost) -> PathName:
    if not layer.range_group:
        return PathName(layer.name)
    if not layer.in_totals:
        return PathName(layer.name, f" (other branch of {layer.range_group}: not in the totals)", " (other branch)")
    return PathName(layer.name, f" (branch of {layer.range_group})", " (branch)")


def _op_label(layer: LayerCost) -> str:
    return f"{layer.op} x{layer.calls}" if layer.calls != 1 else layer.op


def _layers(profile: Profile, view: ViewOptions, width: int) -> list[RenderableType]:
    sel = select_layers(profile, view.top)
    ints = _has_int_ops(profile)
    if sel.truncated:
        title = f"Layers: the {len(sel.layers)} costliest of {sel.total} (by FLOPs + integer OPs)"
    else:
        title = f"Layers: all {sel.total}, in graph order"
    if not sel.total:
        return [Text("Layers: none", style=_HEAD)]
    columns = [("op", False), ("output shape", False), ("FLOPs", True)]
    columns += [("int OPs", True)] if ints else []
    columns += [("MACs", True), ("params", True), ("share", True)]
    total = profile.totals.flops + profile.totals.int_ops
    rows: list[tuple[str | PathName, Sequence[str | Text]]] = []
    for layer in sel.layers:
        cells: list[str | Text] = [_op_label(layer), shape_text(layer.output_shape)]
        if layer.state == "not_counted":
            cells += [Text("not counted", style=_BAD)] + (["-"] if ints else [])
            cells += ["-", exact(layer.params), "-"]
        else:
            cells += [exact(layer.flops)] + ([exact(layer.int_ops)] if ints else [])
            cells += [exact(layer.macs), exact(layer.params), layer_share(layer, total)]
        rows.append((_layer_name(layer), cells))
    fitted = _fitted(width, "name", columns, rows, _LAYER_DROPS, view.all_columns)
    out: list[RenderableType] = [Text(title, style=_HEAD), fitted.table, *_dropped_note(fitted)]
    if sel.hidden:
        out.append(Text(f"... {sel.hidden} more layers (use --top 0 for all)", style=_DIM))
    return out


def _grouped(
    profile: Profile, title: str, first: str, count_header: str,
    groups: Sequence[tuple[str, int, int, int, int, int]], width: int,
) -> list[RenderableType]:
    """The per-module and per-operator tables: name, count, FLOPs, [int OPs], MACs, params, share."""
    ints = _has_int_ops(profile)
    columns = [(count_header, True), ("FLOPs", True)] + ([("int OPs", True)] if ints else [])
    columns += [("MACs", True), ("params", True), ("share", True)]
    total = profile.totals.flops + profile.totals.int_ops
    rows: list[tuple[str, Sequence[str | Text]]] = []
    for name, n, flops, int_ops, macs, params in groups:
        cells = [exact(n), exact(flops)] + ([exact(int_ops)] if ints else [])
        cells += [exact(macs), exact(params), percent(flops + int_ops, total)]
        rows.append((name, cells))
    return [Text(title, style=_HEAD), _named_table(width, first, columns, rows)]


def _by_module(profile: Profile, depth: int, width: int) -> list[RenderableType]:
    # PyTorch models know how often each module ran; other formats count the module's nodes.
    header = "calls" if profile.module_calls else "nodes"
    groups = [
        (r.module, r.calls if r.calls is not None else r.nodes, r.flops, r.int_ops, r.macs, r.params)
        for r in profile.by_module(depth)
    ]
    return _grouped(profile, f"By module (depth {depth})", "module", header, groups, width)


def _by_operator(profile: Profile, width: int) -> list[RenderableType]:
    groups = [(r.op, r.count, r.flops, r.int_ops, r.macs, r.params) for r in profile.by_operator()]
    return _grouped(profile, "By operator", "op", "count", groups, width)


def _not_counted(profile: Profile) -> list[RenderableType]:
    if not profile.not_counted:
        return [Text.assemble(("Not counted: ", _HEAD), ("none - all ops counted", _GOOD))]
    table = _table()
    table_title = Text("Not counted (these ops add nothing to the totals above)", style=_BAD)
    _text_col(table, "op")
    _num_col(table, "count")
    _text_col(table, "example node")
    _text_col(table, "reason", ratio=1)
    for nc in profile.not_counted:
        table.add_row(nc.op, exact(nc.count), _PathName(nc.example), nc.reason)
    return [table_title, table]


def _print(console: Console, sections: Iterable[Sequence[RenderableType]]) -> None:
    first = True
    for section in sections:
        if not first:
            console.print()
        first = False
        for item in section:
            console.print(_safe(item))


def render_terminal(
    profile: Profile,
    view: ViewOptions | None = None,
    *,
    width: int = 100,
    color: bool = False,
    encoding: str = "utf-8",
) -> str:
    """The report as text ``width`` columns wide (ANSI colours only when ``color``)."""
    view = view or ViewOptions()
    console, sink = _console(width, color, encoding)
    sections: list[Sequence[RenderableType]] = [
        *_header(profile),
        _summary(profile),
        _deployment(profile, console.width),
        _weights(profile),
        _categories(profile),
        _layers(profile, view, console.width),
    ]
    if view.by_module is not None:
        sections.append(_by_module(profile, view.by_module, console.width))
    if view.by_operator:
        sections.append(_by_operator(profile, console.width))
    if profile.memory is not None:
        sections.append(_memory(profile, console.width))
    if profile.llm is not None:
        sections.append(_llm(profile, console.width))
    devices = bool(profile.latency is not None and profile.latency.predicted) or bool(
        profile.energy is not None and profile.energy.estimated)
    if devices and not view.details:
        sections.append(_devices_compact(profile, console.width))
    else:
        if profile.latency is not None:
            sections.append(_latency(profile, console.width))
        if profile.energy is not None:
            sections.append(_energy(profile, console.width))
    sections.append(_not_counted(profile))
    _print(console, [sec for sec in sections if sec])
    return _finish(sink.getvalue(), color)


def render_ops_terminal(entries: Iterable[Entry], *, width: int = 100, color: bool = False, encoding: str = "utf-8") -> str:
    """The op registry as a table: op, state, category, formula (or the reason for a zero)."""
    console, sink = _console(width, color, encoding)
    rows = list(entries)
    table = _table()
    table_title = Text(f"Registered ops ({len(rows)})", style=_HEAD)
    _text_col(table, "op")
    _text_col(table, "state")
    _text_col(table, "category")
    _text_col(table, "formula / reason", ratio=1)
    for e in rows:
        table.add_row(e.op, e.state, e.category.value, e.doc)
    console.print(table_title)
    console.print(table)
    return _finish(sink.getvalue(), color)
