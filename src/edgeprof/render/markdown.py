"""The Markdown report (GitHub-flavoured tables), fit for a CI job summary or a pull request.

Sections: header and inputs, notices, summary (exact and human figures with units and how
they were obtained), stored weights, categories, the top layers, optional per-module and
per-operator tables, and the not-counted ops. Every model-provided string is escaped, so a
node named ``a|b`` or ``<script>`` can neither break a table nor inject HTML.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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
from edgeprof.render.tables import Md, md_escape, md_table
from edgeprof.report.model import Profile
from edgeprof.report.text import printable

__all__ = ["render_markdown", "render_ops_markdown"]

def _has_int_ops(profile: Profile) -> bool:
    return profile.totals.int_ops > 0 or any(layer.int_ops for layer in profile.layers)


def _header(profile: Profile) -> list[str]:
    m = profile.model
    path = m.path or "-"
    if m.file_bytes is not None:
        path += f" ({exact(m.file_bytes)} bytes, {human(m.file_bytes, 'B')})"
    lines = [f"## edgeprof report: {md_escape(m.name or '(unnamed model)')}", ""]
    lines += md_table(
        ("model", ""),
        [("format", m.format or "-"), ("path", path), ("producer", m.producer or "-"), ("opset", m.opset or "-")],
        (False, False),
    )
    lines += ["", "**Inputs** (the shapes this report was computed for)", ""]
    if profile.inputs:
        lines += md_table(
            ("name", "shape", "dtype", "shape from"),
            [(s.name, shape_text(s.shape), s.dtype, input_source_label(s)) for s in profile.inputs],
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
    bound = Md(f"{kind}, **lower bound**") if t.is_lower_bound else kind
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
    lines += md_table(("figure", "exact", "approx", "how obtained"), rows, (False, True, True, False))
    lines.append("")
    if t.is_lower_bound:
        nodes = sum(n.count for n in profile.not_counted)
        lines += [
            f"> **Lower bound:** {nodes} node(s) of {len(profile.not_counted)} op type(s) were not counted "
            "(see *Not counted*); the true totals are higher.",
            "",
        ]
    if t.has_range:
        lines += [
            f"Range {if_range(t)}: control flow not known statically (an `If`'s branch, a `Loop` that may "
            "exit early; set the condition or trip count with `--value`); totals, categories and shares are at "
            "the top (the costlier branch).",
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


def _deployment(profile: Profile) -> list[str]:
    dep = profile.deployment
    if dep is None:
        return []
    return [f"### {DEPLOYMENT_TITLE}", "",
            *md_table(DEPLOYMENT_HEADERS, deployment_rows(dep), (False, True, True, True)), "",
            md_escape(deployment_note(dep))]


def _weights(profile: Profile) -> list[str]:
    lines = ["### Stored weights by dtype", ""]
    if not profile.weights_by_dtype:
        return [*lines, "none"]
    rows = [(g.dtype, exact(g.tensors), exact(g.elements), exact(g.params), exact(g.bytes),
             human(g.bytes, "B")) for g in profile.weights_by_dtype]
    return lines + md_table(("dtype", "tensors", "elements", "params", "bytes", "approx"), rows,
                          (False, True, True, True, True, True))


def _categories(profile: Profile) -> list[str]:
    ints = _has_int_ops(profile)
    total = profile.totals.flops + profile.totals.int_ops
    headers = ["category", "FLOPs", "MACs"] + (["int OPs"] if ints else []) + ["nodes", "share"]
    rows = []
    for c in profile.categories:
        row = [c.category, exact(c.flops), exact(c.macs)]
        row += [exact(c.int_ops)] if ints else []
        row += [exact(c.nodes), Md(percent(c.flops + c.int_ops, total))]
        rows.append(row)
    act, whole = activation_share(profile)
    lines = ["### Categories", "", "Share of all counted FLOPs + integer OPs.", ""]
    lines += md_table(headers, rows, [False] + [True] * (len(headers) - 1)) if rows else ["no counted ops"]
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
        name = layer_label(layer.name, layer)
        op = layer.op + (f" x{layer.calls}" if layer.calls != 1 else "")
        row = [name, op, shape_text(layer.output_shape)]
        if layer.state == "not_counted":
            row += [Md("**not counted**")] + (["-"] if ints else []) + ["-", exact(layer.params), "-"]
        else:
            row += [exact(layer.flops)] + ([exact(layer.int_ops)] if ints else [])
            row += [exact(layer.macs), exact(layer.params), Md(layer_share(layer, total))]
        rows.append(row)
    lines += md_table(headers, rows, [False, False, False] + [True] * (len(headers) - 3))
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
        row = [name, exact(n), exact(flops)] + ([exact(int_ops)] if ints else [])
        row += [exact(macs), exact(params), Md(percent(flops + int_ops, total))]
        body.append(row)
    return [f"### {title}", "", *md_table(headers, body, [False] + [True] * (len(headers) - 1))]


def _memory(profile: Profile) -> list[str]:
    mem = profile.memory
    if mem is None:
        return []
    rows = [(label, exact(n), human(n, "B"), how) for label, n, how in memory_rows(mem)]
    lines = ["### Memory while running", ""]
    lines += md_table(("figure", "bytes", "approx", "how obtained"), rows, (False, True, True, False))
    prec = [(p, dts, exact(w), exact(a), exact(t)) for p, dts, w, a, t in precision_rows(mem)]
    lines += ["", *md_table(("precision", "weights / activations", "weight B", "peak activation B", "peak B"), prec,
                          (False, False, True, True, True))]
    if mem.predicted.device_fits:
        lines += ["", "Does it fit? (weights stay in flash, activations in SRAM)", "",
                  *md_table(DEVICE_FIT_HEADERS, device_fit_rows(mem), (False,) * len(DEVICE_FIT_HEADERS))]
    if mem.predicted.ram_fits:
        lines += ["", RAM_FIT_TITLE, "",
                  *md_table(RAM_FIT_HEADERS, ram_fit_rows(mem), tuple(h != "device" and h != "fits" for h in RAM_FIT_HEADERS))]
    if mem.predicted.unsized_values:
        lines += ["", f"{len(mem.predicted.unsized_values)} tensor(s) could not be sized: the activation peak is a lower bound."]
    if mem.measurement_error:
        lines += ["", f"Measurement not made: {md_escape(mem.measurement_error)}"]
    return lines


def _llm(profile: Profile) -> list[str]:
    llm = profile.llm
    if llm is None:
        return []
    rows = [(label, exact(n), human(n, unit)) for label, n, unit in llm_rows(llm)]
    lines = ["### Decoder LLM figures (counted)", "", *md_table(("figure", "exact", "approx"), rows, (False, True, True))]
    if llm.is_lower_bound:
        lines += ["", "Some ops of the prefill or decode graph were not counted: lower bounds."]
    return lines


def _latency(profile: Profile) -> list[str]:
    if profile.latency is None:
        return []
    rows = [(label, *cells) for label, cells in latency_rows(profile.latency)]
    lines = ["### Latency", ""]
    if rows:
        lines += md_table(("figure", *(h for h, _ in LATENCY_COLUMNS)), rows, (False, *(r for _, r in LATENCY_COLUMNS)))
    for note in latency_notes(profile.latency, profile.memory):
        lines += ["", md_escape(note)]
    return lines


def _energy(profile: Profile) -> list[str]:
    if profile.energy is None:
        return []

    def table(first: str, columns: Sequence[tuple[str, bool]], rows: list[tuple[str, list[str]]]) -> list[str]:
        body = [(label, *cells) for label, cells in rows]
        return md_table((first, *(h for h, _ in columns)), body, (False, *(r for _, r in columns)))

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
    for note in energy_notes(profile.energy, profile.memory):
        lines += ["", md_escape(note)]
    return lines


def _not_counted(profile: Profile) -> list[str]:
    if not profile.not_counted:
        return ["### Not counted", "", "None: all ops counted."]
    rows = [(n.op, exact(n.count), n.example, n.reason) for n in profile.not_counted]
    return ["### Not counted", "", "These ops add nothing to the totals above.", "",
            *md_table(("op", "count", "example node", "reason"), rows, (False, True, False, False))]


def render_markdown(profile: Profile, view: ViewOptions | None = None) -> str:
    """The report as Markdown, ending in a newline."""
    view = view or ViewOptions()
    sections = [_header(profile), _summary(profile), _deployment(profile), _weights(profile), _categories(profile),
                _layers(profile, view)]
    sections = [sec for sec in sections if sec]
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
    return printable("\n\n".join("\n".join(s) for s in sections), newlines=True) + "\n"


def render_ops_markdown(entries: Iterable[Entry]) -> str:
    """The op registry as a Markdown table: op, state, category, formula (or reason)."""
    rows = [(e.op, Md(e.state), Md(e.category.value), e.doc) for e in entries]
    lines = [f"## Registered ops ({len(rows)})", "", *md_table(("op", "state", "category", "formula / reason"), rows,
                                                                (False, False, False, False))]
    return "\n".join(lines) + "\n"
