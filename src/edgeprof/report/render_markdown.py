"""The Markdown report (GitHub-flavoured tables), fit for a CI job summary or a pull request.

Sections: header and inputs, notices, summary (exact and human figures with units and how
they were obtained), stored weights, categories, the top layers, optional per-module and
per-operator tables, and the not-counted ops. Every model-provided string is escaped, so a
node named ``a|b`` or ``<script>`` can neither break a table nor inject HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from edgeprof.ops.registry import Entry
from edgeprof.report.format import (
    DEVICE_FIT_HEADERS,
    ViewOptions,
    activation_share,
    device_fit_rows,
    exact,
    human,
    if_range,
    input_source_label,
    llm_rows,
    memory_rows,
    percent,
    precision_rows,
    select_layers,
    shape_text,
)
from edgeprof.report.model import Profile

__all__ = ["md_escape", "render_markdown", "render_ops_markdown"]

_BACKSLASHED = set("\\`*_[]|#~")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def md_escape(text: str) -> str:
    """Escape ``text`` for a Markdown table cell or line: Markdown punctuation gets a backslash,
    ``< > &`` become entities, line breaks become spaces."""
    out = []
    for ch in " ".join(text.splitlines()) if text else "":
        if ch in _BACKSLASHED:
            out.append("\\" + ch)
        elif ch in _ENTITIES:
            out.append(_ENTITIES[ch])
        else:
            out.append(ch)
    return "".join(out)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], right: Sequence[bool]) -> list[str]:
    """A GFM table; cells must already be escaped. ``right`` marks right-aligned columns."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---:" if r else "---" for r in right) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _has_int_ops(profile: Profile) -> bool:
    return profile.totals.int_ops > 0 or any(layer.int_ops for layer in profile.layers)


def _header(profile: Profile) -> list[str]:
    m = profile.model
    path = md_escape(m.path) if m.path else "-"
    if m.file_bytes is not None:
        path += f" ({exact(m.file_bytes)} bytes, {human(m.file_bytes, 'B')})"
    lines = [f"## edgeprof report: {md_escape(m.name or '(unnamed model)')}", ""]
    lines += _table(
        ("model", ""),
        [("format", md_escape(m.format) or "-"), ("path", path), ("producer", md_escape(m.producer) or "-"),
         ("opset", md_escape(m.opset) or "-")],
        (False, False),
    )
    lines += ["", "**Inputs** (the shapes this report was computed for)", ""]
    if profile.inputs:
        lines += _table(
            ("name", "shape", "dtype", "shape from"),
            [(md_escape(s.name), shape_text(s.shape), md_escape(s.dtype), input_source_label(s)) for s in profile.inputs],
            (False, False, False, False),
        )
    else:
        lines.append("none")
    if profile.notices:
        lines += ["", "**Notices**", ""]
        lines += [f"- {md_escape(n)}" for n in profile.notices]
    return lines


def _summary(profile: Profile) -> list[str]:
    t = profile.totals
    kind = profile.provenance.kind
    bound = f"{kind}, **lower bound**" if t.is_lower_bound else kind
    rows = [("FLOPs (float ops)", exact(t.flops), human(t.flops, "FLOPs"), bound),
            ("MACs", exact(t.macs), human(t.macs, "MACs"), bound)]
    if _has_int_ops(profile):
        rows.append(("integer OPs", exact(t.int_ops), human(t.int_ops, "OPs"), bound))
    rows += [
        ("params", exact(t.params), human(t.params), kind),
        ("weight bytes", exact(t.weight_bytes), human(t.weight_bytes, "B"), kind),
        ("bytes read (sum over nodes)", exact(t.bytes_read), human(t.bytes_read, "B"), bound),
        ("bytes written (sum over nodes)", exact(t.bytes_written), human(t.bytes_written, "B"), bound),
    ]
    lines = ["### Summary", "", "One forward pass at the inputs above.", ""]
    lines += _table(("figure", "exact", "approx", "how obtained"), rows, (False, True, True, False))
    lines.append("")
    if t.is_lower_bound:
        nodes = sum(n.count for n in profile.not_counted)
        lines += [
            f"> **Lower bound:** {nodes} node(s) of {len(profile.not_counted)} op type(s) were not counted "
            "(see *Not counted*); the true totals are higher.",
            "",
        ]
    if t.flops_max > t.flops or t.macs_max > t.macs:
        lines += [
            f"Range {if_range(t)}: control flow not known statically (an `If`'s branch, a `Loop` that may "
            "exit early; set the condition or trip count with `--value`).",
            "",
        ]
    f = profile.foldable
    if f.nodes:
        detail = ", ".join(md_escape(d) for d in f.detail) if f.detail else f"{f.nodes} node(s)"
        lines.append(
            f"{exact(f.flops)} FLOPs ({percent(f.flops, t.flops + t.int_ops)}) foldable at deployment: {detail} "
            "(counted above as given)."
        )
    else:
        lines.append("Foldable at deployment: nothing found (no BatchNorm/bias/activation after a kernel).")
    lines += ["", f"How counted: {md_escape(profile.provenance.method)}"]
    return lines


def _weights(profile: Profile) -> list[str]:
    lines = ["### Stored weights by dtype", ""]
    if not profile.weights_by_dtype:
        return [*lines, "none"]
    rows = [(md_escape(g.dtype), exact(g.tensors), exact(g.elements), exact(g.params), exact(g.bytes),
             human(g.bytes, "B")) for g in profile.weights_by_dtype]
    return lines + _table(("dtype", "tensors", "elements", "params", "bytes", "approx"), rows,
                          (False, True, True, True, True, True))


def _categories(profile: Profile) -> list[str]:
    ints = _has_int_ops(profile)
    total = profile.totals.flops + profile.totals.int_ops
    headers = ["category", "FLOPs", "MACs"] + (["int OPs"] if ints else []) + ["nodes", "share"]
    rows = []
    for c in profile.categories:
        row = [md_escape(c.category), exact(c.flops), exact(c.macs)]
        row += [exact(c.int_ops)] if ints else []
        row += [exact(c.nodes), percent(c.flops + c.int_ops, total)]
        rows.append(row)
    act, whole = activation_share(profile)
    lines = ["### Categories", "", "Share of all counted FLOPs + integer OPs.", ""]
    lines += _table(headers, rows, [False] + [True] * (len(headers) - 1)) if rows else ["no counted ops"]
    lines += [
        "",
        f"Activation functions: {percent(act, whole)} of the counted ops. They are often left out of headline "
        "FLOPs as negligible next to conv and linear layers; this share shows whether that holds for this model.",
    ]
    return lines


def _layers(profile: Profile, view: ViewOptions) -> list[str]:
    sel = select_layers(profile, view.top)
    if sel.truncated:
        lines = [f"### Layers: the {len(sel.layers)} costliest of {sel.total}", "", "By FLOPs + integer OPs.", ""]
    else:
        lines = [f"### Layers: all {sel.total}", "", "In graph order.", ""]
    if not sel.total:
        return [*lines, "none"]
    ints = _has_int_ops(profile)
    total = profile.totals.flops + profile.totals.int_ops
    headers = ["name", "op", "output shape", "FLOPs"] + (["int OPs"] if ints else []) + ["MACs", "params", "share"]
    rows = []
    for layer in sel.layers:
        name = md_escape(layer.name)
        if layer.range_group:
            name += f" (branch of {md_escape(layer.range_group)})"
        op = md_escape(layer.op) + (f" x{layer.calls}" if layer.calls != 1 else "")
        row = [name, op, md_escape(shape_text(layer.output_shape))]
        if layer.state == "not_counted":
            row += ["**not counted**"] + (["-"] if ints else []) + ["-", exact(layer.params), "-"]
        else:
            row += [exact(layer.flops)] + ([exact(layer.int_ops)] if ints else [])
            row += [exact(layer.macs), exact(layer.params), percent(layer.flops + layer.int_ops, total)]
        rows.append(row)
    lines += _table(headers, rows, [False, False, False] + [True] * (len(headers) - 3))
    if sel.hidden:
        lines += ["", f"... {sel.hidden} more layers (use `--top 0` for all)"]
    return lines


def _grouped(title: str, key: str, rows: Sequence[tuple[str, int, int, int, int, int]], profile: Profile) -> list[str]:
    ints = _has_int_ops(profile)
    total = profile.totals.flops + profile.totals.int_ops
    count = ("calls" if profile.module_calls else "nodes") if key == "module" else "count"
    headers = [key, count, "FLOPs"] + (["int OPs"] if ints else [])
    headers += ["MACs", "params", "share"]
    body = []
    for name, n, flops, int_ops, macs, params in rows:
        row = [md_escape(name), exact(n), exact(flops)] + ([exact(int_ops)] if ints else [])
        row += [exact(macs), exact(params), percent(flops + int_ops, total)]
        body.append(row)
    return [f"### {title}", "", *_table(headers, body, [False] + [True] * (len(headers) - 1))]


def _memory(profile: Profile) -> list[str]:
    mem = profile.memory
    if mem is None:
        return []
    rows = [(md_escape(label), exact(n), human(n, "B"), md_escape(how)) for label, n, how in memory_rows(mem)]
    lines = ["### Memory while running", ""]
    lines += _table(("figure", "bytes", "approx", "how obtained"), rows, (False, True, True, False))
    prec = [(p, dts, exact(w), exact(a), exact(t)) for p, dts, w, a, t in precision_rows(mem)]
    lines += ["", *_table(("precision", "weights / activations", "weight B", "peak activation B", "peak B"), prec,
                          (False, False, True, True, True))]
    if mem.device_fits:
        fits = [tuple(md_escape(c) for c in row) for row in device_fit_rows(mem)]
        lines += ["", "Does it fit? (weights stay in flash, activations in SRAM)", "",
                  *_table(DEVICE_FIT_HEADERS, fits, (False,) * len(DEVICE_FIT_HEADERS))]
    if mem.unsized_values:
        lines += ["", f"{len(mem.unsized_values)} tensor(s) could not be sized: the activation peak is a lower bound."]
    if mem.measurement_error:
        lines += ["", f"Measurement not made: {md_escape(mem.measurement_error)}"]
    return lines


def _llm(profile: Profile) -> list[str]:
    llm = profile.llm
    if llm is None:
        return []
    rows = [(md_escape(label), exact(n), human(n, unit)) for label, n, unit in llm_rows(llm)]
    lines = ["### Decoder LLM figures (counted)", "", *_table(("figure", "exact", "approx"), rows, (False, True, True))]
    if llm.is_lower_bound:
        lines += ["", "Some ops of the prefill or decode graph were not counted: lower bounds."]
    return lines


def _latency(profile: Profile) -> list[str]:
    from edgeprof.report.latency import LATENCY_COLUMNS, latency_notes, latency_rows

    if profile.latency is None:
        return []
    rows = [(md_escape(label), *(md_escape(c) for c in cells)) for label, cells in latency_rows(profile.latency)]
    lines = ["### Latency", ""]
    if rows:
        lines += _table(("figure", *(h for h, _ in LATENCY_COLUMNS)), rows, (False, *(r for _, r in LATENCY_COLUMNS)))
    for note in latency_notes(profile.latency):
        lines += ["", md_escape(note)]
    return lines


def _energy(profile: Profile) -> list[str]:
    from edgeprof.report.energy import (
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

    if profile.energy is None:
        return []

    def table(first: str, columns: Sequence[tuple[str, bool]], rows: list[tuple[str, list[str]]]) -> list[str]:
        body = [(md_escape(label), *(md_escape(c) for c in cells)) for label, cells in rows]
        return _table((first, *(h for h, _ in columns)), body, (False, *(r for _, r in columns)))

    lines = ["### Energy", "", "Estimates are ranges (low .. high) from two models; see docs/energy.md."]
    for device_id, e in profile.energy.estimated.items():
        lines += ["", f"**{md_escape(energy_title(e))}**", "", *table("figure", ENERGY_COLUMNS, device_energy_rows(e))]
        layer_rows = energy_layer_rows(e)
        if layer_rows:
            lines += ["", f"**Top energy consumers on {md_escape(device_id)}** (ops + data movement, mid)", ""]
            lines += table("layer", ENERGY_LAYER_COLUMNS, layer_rows)
        cat_rows = energy_category_rows(e)
        if cat_rows:
            lines += ["", f"**Energy by category on {md_escape(device_id)}** (ops + data movement, mid)", ""]
            lines += table("category", ENERGY_CATEGORY_COLUMNS, cat_rows)
    measured = measured_energy_rows(profile.energy)
    if measured:
        lines += ["", "**Energy measured on this machine**", "", *table("figure", ENERGY_COLUMNS, measured)]
    for note in energy_notes(profile.energy):
        lines += ["", md_escape(note)]
    return lines


def _not_counted(profile: Profile) -> list[str]:
    if not profile.not_counted:
        return ["### Not counted", "", "None: all ops counted."]
    rows = [(md_escape(n.op), exact(n.count), md_escape(n.example), md_escape(n.reason)) for n in profile.not_counted]
    return ["### Not counted", "", "These ops add nothing to the totals above.", "",
            *_table(("op", "count", "example node", "reason"), rows, (False, True, False, False))]


def render_markdown(profile: Profile, view: ViewOptions | None = None) -> str:
    """The report as Markdown, ending in a newline."""
    view = view or ViewOptions()
    sections = [_header(profile), _summary(profile), _weights(profile), _categories(profile), _layers(profile, view)]
    if view.by_module is not None:
        rows = [
            (r.module, r.calls if r.calls is not None else r.nodes, r.flops, r.int_ops, r.macs, r.params)
            for r in profile.by_module(view.by_module)
        ]
        sections.append(_grouped(f"By module (depth {view.by_module})", "module", rows, profile))
    if view.by_operator:
        rows = [(r.op, r.count, r.flops, r.int_ops, r.macs, r.params) for r in profile.by_operator()]
        sections.append(_grouped("By operator", "op", rows, profile))
    if profile.memory is not None:
        sections.append(_memory(profile))
    if profile.llm is not None:
        sections.append(_llm(profile))
    if profile.latency is not None:
        sections.append(_latency(profile))
    if profile.energy is not None:
        sections.append(_energy(profile))
    sections.append(_not_counted(profile))
    return "\n\n".join("\n".join(s) for s in sections) + "\n"


def render_ops_markdown(entries: Iterable[Entry]) -> str:
    """The op registry as a Markdown table: op, state, category, formula (or reason)."""
    rows = [(md_escape(e.op), e.state, e.category.value, md_escape(e.doc)) for e in entries]
    lines = [f"## Registered ops ({len(rows)})", "", *_table(("op", "state", "category", "formula / reason"), rows,
                                                                (False, False, False, False))]
    return "\n".join(lines) + "\n"
