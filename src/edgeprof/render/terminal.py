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

import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from rich import box
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from edgeprof.ops.registry import Entry
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
    human,
    if_range,
    input_source_label,
    layer_label,
    layer_share,
    llm_rows,
    memory_rows,
    percent,
    precision_rows,
    ram_fit_rows,
    select_layers,
    shape_text,
)
from edgeprof.render.latency import LATENCY_COLUMNS, latency_notes, latency_rows
from edgeprof.report.model import LayerCost, Profile
from edgeprof.report.text import printable, shorten

__all__ = ["CELL_LIMIT", "NAME_LIMIT", "render_ops_terminal", "render_terminal"]

NAME_LIMIT = 160  # a node, module or input name longer than this shows as its head, "..." and its tail
CELL_LIMIT = 2000  # any other cell or line of the report (a reason, a notice)

_HEAD = "bold"
_WARN = "bold yellow"
_BAD = "bold red"
_GOOD = "green"
_DIM = "dim"


class _Sink(io.StringIO):
    """A text buffer that tells rich which encoding the text will be written in, so that rich
    falls back to ASCII table borders when the destination cannot encode box characters."""

    def __init__(self, encoding: str) -> None:
        super().__init__()
        self._encoding = encoding

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding


def _safe(item: RenderableType | None, limit: int = CELL_LIMIT) -> RenderableType | None:
    """``item`` made safe for a terminal: a ``str`` or :class:`Text` with its control and bidi
    characters escaped and shortened to ``limit`` characters (a styled :class:`Text` keeps its
    styles unless it had to change); other renderables are edgeprof's own (they sanitise
    themselves)."""
    if isinstance(item, str):
        return shorten(printable(item), limit)
    if isinstance(item, Text):
        plain = item.plain
        if len(plain) <= limit and printable(plain) == plain:
            return item
        out = Text(style=item.style, justify=item.justify, overflow=item.overflow, no_wrap=item.no_wrap, end=item.end)
        cuts = sorted({s.start for s in item.spans} | {s.end for s in item.spans})
        for part in item.divide(cuts):
            style = " ".join(str(span.style) for span in part.spans)
            out.append(shorten(printable(part.plain), limit), style=style or None)
        return out
    return item


class _SafeTable(Table):
    """A rich table whose every header and cell goes through :func:`_safe`."""

    def add_column(self, header: RenderableType = "", *args: Any, **kwargs: Any) -> None:
        super().add_column(_safe(header) or "", *args, **kwargs)

    def add_row(self, *renderables: RenderableType | None, **kwargs: Any) -> None:
        super().add_row(*(_safe(r) for r in renderables), **kwargs)


_BREAK_AFTER = re.compile(r"[^/.]*[/.]|[^/.]+$")


def wrap_path(name: str, width: int) -> list[str]:
    """Split a node or module name into lines of at most ``width`` characters, breaking after
    a ``/`` or ``.`` where possible (a piece longer than ``width`` is cut where it must be)."""
    width = max(1, width)
    lines: list[str] = []
    line = ""
    for piece in _BREAK_AFTER.findall(name):
        if len(piece) > width:  # cut in one pass (slicing off the front again and again is quadratic)
            if line:
                lines.append(line)
                line = ""
            cut = (len(piece) - 1) // width * width
            lines += [piece[i:i + width] for i in range(0, cut, width)]
            piece = piece[cut:]
        if len(line) + len(piece) > width:
            lines.append(line)
            line = ""
        line += piece
    if line or not lines:
        lines.append(line)
    return lines


class _PathName:
    """A table cell holding a name such as ``/features/features.5/project/Conv``: it wraps at
    the path separators instead of in the middle of a word; control characters are escaped and a
    name over :data:`NAME_LIMIT` characters is shortened to its head and tail."""

    def __init__(self, name: str) -> None:
        self.name = shorten(printable(name), NAME_LIMIT)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        longest = max((len(p) for p in _BREAK_AFTER.findall(self.name)), default=0)
        return Measurement(longest, len(self.name)).clamp(max_width=options.max_width)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        lines = wrap_path(self.name, width)
        if len(lines) > 1 and width >= 12:  # continuation lines indented by two
            rest = wrap_path("".join(lines[1:]), width - 2)
            lines = [lines[0], *("  " + line for line in rest)]
        yield Text("\n".join(lines))


def _console(width: int, color: bool, encoding: str) -> tuple[Console, _Sink]:
    sink = _Sink(encoding)
    console = Console(
        file=sink,
        width=max(20, width),
        force_terminal=color,
        force_jupyter=False,
        force_interactive=False,
        color_system="standard" if color else None,
        no_color=not color,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
        legacy_windows=False,
        _environ={},  # the caller decides width and colour; no COLUMNS/FORCE_COLOR surprises
    )
    return console, sink


def _table() -> Table:
    return _SafeTable(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1),
        collapse_padding=True,
        header_style=_HEAD,
        expand=False,
    )


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
        out.append(_named_table(width, "figure", list(LATENCY_COLUMNS), rows))
    out += [Text(note, style=_WARN if "bound" in note or "not made" in note else "") for note in
            latency_notes(profile.latency, profile.memory)]
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


_GAP = 2  # columns are two spaces apart
_NAME_FLOOR = 20  # a squeezed name column keeps this many columns (numbers fold first)


def _safe_cell(cell: str | Text) -> str | Text:
    safe = _safe(cell)
    return safe if isinstance(safe, (str, Text)) else cell


def _plain(cell: str | Text) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _named_table(
    width: int, first: str, columns: Sequence[tuple[str, bool]], rows: Sequence[tuple[str, Sequence[str | Text]]]
) -> Table:
    """A table whose first column holds names (wrapped at ``/`` and ``.``) and whose other
    ``columns`` (header, is-numeric) keep their natural width: when the table is too wide the
    names give way first, down to 20 columns, and only then do the other columns fold."""
    safe_rows = [(_PathName(name), [_safe_cell(c) for c in cells]) for name, cells in rows]
    natural = [max([len(h)] + [len(_plain(cells[i])) for _, cells in safe_rows]) for i, (h, _) in enumerate(columns)]
    longest = max([len(first)] + [len(name.name) for name, _ in safe_rows])
    room = width - sum(natural) - _GAP * len(columns)
    name_width = max(room, min(longest, _NAME_FLOOR)) if longest > room else None
    table = _table()
    table.add_column(first, justify="left", overflow="fold", width=name_width)
    for header, numeric in columns:
        (_num_col if numeric else _text_col)(table, header)
    for path_name, cells in safe_rows:
        table.add_row(path_name, *cells)
    return table


def _layer_name(layer: LayerCost) -> str:
    return layer_label(layer.name, layer)


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
    rows: list[tuple[str, Sequence[str | Text]]] = []
    for layer in sel.layers:
        cells: list[str | Text] = [_op_label(layer), shape_text(layer.output_shape)]
        if layer.state == "not_counted":
            cells += [Text("not counted", style=_BAD)] + (["-"] if ints else [])
            cells += ["-", exact(layer.params), "-"]
        else:
            cells += [exact(layer.flops)] + ([exact(layer.int_ops)] if ints else [])
            cells += [exact(layer.macs), exact(layer.params), layer_share(layer, total)]
        rows.append((_layer_name(layer), cells))
    out: list[RenderableType] = [Text(title, style=_HEAD), _named_table(width, "name", columns, rows)]
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


_SGR = re.compile(r"(\x1b\[[0-9;]*m)")


def _finish(text: str, color: bool) -> str:
    """Drop the padding rich leaves at the end of lines (plain text only: with colour the
    padding sits inside the escape sequences and is left alone). A last guard: no control
    character is left but line ends and (with colour) rich's own colour sequences."""
    if color:
        parts = _SGR.split(text)  # odd items are colour sequences
        return "".join(p if i % 2 else printable(p, newlines=True) for i, p in enumerate(parts))
    return "\n".join(printable(line.rstrip()) for line in text.split("\n"))


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
