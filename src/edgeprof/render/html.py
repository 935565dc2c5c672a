"""The HTML report: one self-contained file (inline CSS, JS and SVG; no network request).

Sections, each shown only when its data exists: summary cards (each labelled counted /
estimated / measured, with its unit), inputs and notices, FLOPs per layer, share by op
category, the memory timeline with the peak marked, the sortable and filterable per-layer
table, memory figures, decoder-LLM figures, latency and energy (the estimated range per device with its
per-category breakdown; a measured figure only with a sensor) and the not-counted ops ("all ops counted" when
there are none). A later section (e.g. latency) is one more entry in :data:`SECTIONS` and one
more card in :func:`cards`.

Every model-provided string goes through :func:`esc` (HTML) or :func:`json_for_script`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from edgeprof._version import __version__
from edgeprof.render.energy import (
    ENERGY_CATEGORY_COLUMNS,
    ENERGY_COLUMNS,
    device_energy_rows,
    energy_category_rows,
    energy_notes,
    energy_title,
    measured_energy_rows,
    top_layers,
)
from edgeprof.render.format import (
    DEPLOYMENT_HEADERS,
    DEPLOYMENT_TITLE,
    DEVICE_FIT_HEADERS,
    RAM_FIT_HEADERS,
    RAM_FIT_TITLE,
    deployment_note,
    deployment_rows,
    device_fit_rows,
    exact,
    human,
    if_range,
    input_source_label,
    joules,
    layer_label,
    layer_share,
    llm_rows,
    memory_rows,
    percent,
    precision_rows,
    ram_fit_rows,
    seconds,
    shape_text,
)
from edgeprof.render.html_assets import esc, json_for_script, page
from edgeprof.render.html_svg import Bar, RooflinePoint, bar_chart, line_chart, roofline_chart
from edgeprof.render.latency import LATENCY_COLUMNS, latency_notes, latency_rows
from edgeprof.report.latency import PredictedLatency
from edgeprof.report.model import Profile, set_html_display

__all__ = ["DEFAULT_CHART_LAYERS", "SECTIONS", "Card", "cards", "render_html", "summary_html"]

DEFAULT_CHART_LAYERS = 30


@dataclass(frozen=True)
class Card:
    """One summary figure: ``value`` in ``unit``, and how it was obtained (``kind``:
    counted / estimated / measured; ``how``: one line)."""

    label: str
    value: int | None
    unit: str
    kind: str
    how: str = ""
    text: str = ""  # the figure as shown when it is not an exact count (a time, a rate)

    @property
    def shown(self) -> str:
        return self.text if self.value is None else human(self.value, self.unit)

    @property
    def exact_text(self) -> str:
        return "" if self.value is None else f"{exact(self.value)} {self.unit}".rstrip()


def cards(profile: Profile) -> list[Card]:
    """The summary figures of ``profile``, in display order (only those that exist)."""
    t = profile.totals
    kind = profile.provenance.kind
    bound = " (lower bound)" if t.is_lower_bound else ""
    out = [
        Card("FLOPs", t.flops, "FLOPs", kind, "float ops, one forward pass" + bound),
        Card("MACs", t.macs, "MACs", kind, "multiply-accumulates" + bound),
    ]
    if t.int_ops:
        out.append(Card("integer OPs", t.int_ops, "OPs", kind, "integer ops" + bound))
    out += [
        Card("params", t.params, "", kind, "learnable parameters"),
        Card("weight size", t.weight_bytes, "B", kind, "stored tensors"),
    ]
    mem = profile.memory
    if mem is not None:
        lower = " (lower bound)" if mem.predicted.is_lower_bound else ""
        out.append(Card("peak memory", mem.predicted.peak_bytes, "B", mem.predicted.provenance.kind,
                        "weights + peak activations" + lower))
        rss = mem.measured.rss if mem.measured is not None else None
        if rss is not None:
            out.append(Card("measured peak RSS", rss.peak_rss_increase_bytes, "B", "measured",
                            f"{rss.runtime}, {rss.runs} runs"))
    return out + _latency_cards(profile) + _energy_cards(profile)


def _energy_cards(profile: Profile) -> list[Card]:
    energy = profile.energy
    if energy is None:
        return []
    out = []
    for device_id, e in energy.estimated.items():
        bound = ">= " if e.is_lower_bound else ""
        r = e.estimated_j
        out.append(Card(f"energy on {device_id}", None, "J", "estimated",
                        f"range {joules(r.low)} .. {joules(r.high)}; see Energy", bound + joules(r.mid)))
    if energy.measured is not None:
        m = energy.measured
        out.append(Card("energy (measured)", None, "J", "measured", f"{m.sensor}, {m.runs} runs", joules(m.measured_j)))
    return out


def _latency_cards(profile: Profile) -> list[Card]:
    lat = profile.latency
    if lat is None:
        return []
    out = []
    if lat.measured is not None:
        m = lat.measured
        out.append(Card("latency (p50)", None, "s", "measured", f"{m.runtime} here, {m.runs} runs", seconds(m.p50_s)))
    for device_id, p in lat.predicted.items():
        bound = ">= " if p.is_lower_bound else ""
        out.append(Card(f"latency on {device_id}", None, "s", "estimated",
                        f"roofline, {p.device_name}; {p.fps:.4g} FPS", bound + seconds(p.total_s)))
    return out


def _cards_html(profile: Profile) -> str:
    items = []
    for c in cards(profile):
        items.append(
            f'<div class="card" data-figure="{esc(c.label)}"><div class="label">{esc(c.label)}</div>'
            f'<div class="value">{esc(c.shown)}</div>'
            f'<div class="exact">{esc(c.exact_text) or "&nbsp;"}</div>'
            f'<div class="exact">{esc(c.how)}</div>'
            f'<span class="kind kind-{esc(c.kind)}">{esc(c.kind)}</span></div>'
        )
    return '<section id="summary"><h2>Summary</h2><div class="cards">' + "".join(items) + "</div></section>"


def _header(profile: Profile) -> str:
    m = profile.model
    facts = [f"format {esc(m.format or '-')}"]
    if m.path:
        facts.append(f"file <code>{esc(m.path)}</code>")
    if m.file_bytes is not None:
        facts.append(f"{esc(exact(m.file_bytes))} bytes on disk")
    if m.producer:
        facts.append(f"producer {esc(m.producer)}")
    if m.opset:
        facts.append(f"opset {esc(m.opset)}")
    return (
        f"<header><h1>edgeprof report: {esc(m.name or '(unnamed model)')}</h1>"
        f'<p class="sub">{" &middot; ".join(facts)}</p>'
        f'<p class="sub">How counted: {esc(profile.provenance.method)}</p></header>'
    )


def _inputs(profile: Profile) -> str:
    out = ['<section id="inputs"><h2>Inputs</h2><p class="sub">The shapes this report was computed for.</p>']
    if profile.inputs:
        rows = "".join(
            f"<tr><td>{esc(s.name)}</td><td>{esc(shape_text(s.shape))}</td><td>{esc(s.dtype)}</td>"
            f"<td>{esc(input_source_label(s))}</td></tr>"
            for s in profile.inputs
        )
        out.append(f"<table><thead><tr><th>name</th><th>shape</th><th>dtype</th><th>shape from</th></tr></thead>"
                   f"<tbody>{rows}</tbody></table>")
    else:
        out.append("<p>none</p>")
    t = profile.totals
    notes = list(profile.notices)
    if t.is_lower_bound:
        nodes = sum(n.count for n in profile.not_counted)
        notes.append(f"Lower bound: {nodes} node(s) were not counted (see Not counted); the true totals are higher.")
    if t.has_range:
        notes.append(f"Range {if_range(t)}: control flow not known statically; totals, categories and shares are "
                     "at the top (the costlier branch).")
    if notes:
        out.append('<div id="notices"><h2>Notices</h2>')
        out += [f'<div class="notice">{esc(n)}</div>' for n in notes]
        out.append("</div>")
    out.append("</section>")
    return "".join(out)


def _flops_chart(profile: Profile, top: int = DEFAULT_CHART_LAYERS) -> str:
    layers = [x for x in profile.top_layers(len(profile.layers)) if x.flops + x.int_ops > 0 and x.in_totals][:top]
    total = profile.totals.flops + profile.totals.int_ops
    shown = f"the {len(layers)} costliest layers" if len(layers) < len(profile.layers) else "every layer"
    head = f'<section id="flops-chart"><h2>FLOPs per layer</h2><p class="sub">{esc(shown)}, FLOPs + integer OPs.</p>'
    if not layers:
        return head + "<p>No layer has counted ops.</p></section>"
    bars = [Bar(f"{x.name} ({x.op})", x.flops + x.int_ops, percent(x.flops + x.int_ops, total)) for x in layers]
    return head + bar_chart(bars, "FLOPs", "FLOPs per layer") + "</section>"


def _category_chart(profile: Profile) -> str:
    total = profile.totals.flops + profile.totals.int_ops
    head = '<section id="category-chart"><h2>Share by op category</h2><p class="sub">Of all counted FLOPs + integer OPs.</p>'
    cats = [c for c in profile.categories if c.flops + c.int_ops > 0]
    if not cats:
        return head + "<p>No counted ops.</p></section>"
    bars = [Bar(f"{c.category} ({c.nodes} nodes)", c.flops + c.int_ops, percent(c.flops + c.int_ops, total)) for c in cats]
    return head + bar_chart(bars, "FLOPs", "Share by op category") + "</section>"


def _timeline(profile: Profile) -> str:
    mem = profile.memory
    if mem is None or not mem.predicted.timeline:
        return ""
    timeline = mem.predicted.timeline
    live = [p.live_bytes for p in timeline]
    during = [p.op_peak_bytes for p in timeline]
    peak_index = max(range(len(during)), key=lambda i: (during[i], -i))
    point = timeline[peak_index]
    chart = line_chart(live, "Activation memory timeline", "B", peak_index=peak_index,
                       peak_label=f"{point.node} ({point.op})", upper=during)
    return (
        '<section id="memory-timeline"><h2>Memory timeline</h2>'
        '<p class="sub">Activation bytes live after each op (blue) and in use while it runs (orange), in '
        f"execution order; peak {esc(exact(point.op_peak_bytes))} B at step {point.step}, "
        f"<code>{esc(point.node)}</code> ({esc(point.op)}).</p>{chart}</section>"
    )


def _num(n: int) -> str:
    return f'<td class="num" data-v="{n}">{exact(n)}</td>'


def _latency(profile: Profile, top: int = DEFAULT_CHART_LAYERS) -> str:
    lat = profile.latency
    if lat is None:
        return ""
    head = "".join(f"<th>{esc(title)}</th>" for title, _ in LATENCY_COLUMNS)
    rows = "".join(f"<tr><td>{esc(label)}</td>{''.join(f'<td>{esc(c)}</td>' for c in cells)}</tr>"
                   for label, cells in latency_rows(lat))
    out = ['<section id="latency"><h2>Latency</h2>']
    if rows:
        out.append(f"<table><thead><tr><th>figure</th>{head}</tr></thead><tbody>{rows}</tbody></table>")
    out += [f'<div class="notice">{esc(n)}</div>' for n in latency_notes(lat, profile.memory)]
    for device_id, p in lat.predicted.items():
        layers = sorted(p.layers, key=lambda x: -x.time_s)[:top]
        if not layers:
            continue
        bars = [Bar(f"{x.name} ({x.op})", round(x.time_s * 1e9), x.bound, seconds(x.time_s)) for x in layers]
        out.append(f'<h3>Predicted time per layer on {esc(device_id)} ({esc(p.device_name)})</h3>'
                   f'<p class="sub">The {len(bars)} slowest layers (roofline: the larger of compute and memory '
                   "time, plus the per-node overhead); the bound in brackets.</p>")
        out.append(bar_chart(bars, "s", f"Predicted time per layer on {device_id}"))
        out.append(_roofline(profile, p))
    return "".join(out) + "</section>"


def _roofline(profile: Profile, p: PredictedLatency) -> str:
    """The device's roofline with every timed layer placed on it (its ops from the count, its
    predicted compute-or-memory time)."""
    costs = {layer.name: layer for layer in profile.layers}
    points = []
    for x in p.layers:
        cost = costs.get(x.name)
        body_s = x.time_s - x.overhead_s
        if cost is None or x.bound not in ("compute", "memory") or body_s <= 0:
            continue
        ops, moved = cost.flops + cost.int_ops, cost.bytes_read + cost.bytes_written
        if ops > 0 and moved > 0:
            points.append(RooflinePoint(f"{x.name} ({x.op})", ops / moved, ops / body_s, x.bound))
    chart = roofline_chart(points, p.peak_op_per_s, p.bandwidth_bytes_per_s, f"Roofline of {p.device_id}")
    if not chart:
        return ""
    return (f'<h3>Roofline on {esc(p.device_id)} ({esc(p.device_name)})</h3><p class="sub">Each dot is a layer: '
            "its arithmetic intensity (FLOPs + integer OPs per byte read and written) and the rate the prediction "
            "gives it (ops / its compute-or-memory time, per-node overhead excluded). Solid lines: the device's "
            "peak per precision; dashed: the attainable memory bandwidth. Dots sit below the roofs by the "
            f"efficiency the catalogue gives (blue: compute-bound, orange: memory-bound). {len(points)} layers.</p>"
            + chart)


def _energy(profile: Profile, top: int = 10) -> str:
    energy = profile.energy
    if energy is None:
        return ""
    def table(first: str, columns: Sequence[tuple[str, bool]], rows: list[tuple[str, list[str]]], cls: str = "") -> str:
        head = "".join(f'<th class="num">{esc(h)}</th>' if num else f"<th>{esc(h)}</th>" for h, num in columns)
        body = "".join(
            f"<tr><td>{esc(label)}</td>"
            + "".join(f'<td class="num">{esc(c)}</td>' if num else f"<td>{esc(c)}</td>"
                      for c, (_, num) in zip(cells, columns, strict=False))
            + "</tr>" for label, cells in rows)
        return f'<table{cls}><thead><tr><th>{esc(first)}</th>{head}</tr></thead><tbody>{body}</tbody></table>'

    out = ['<section id="energy"><h2>Energy per inference</h2><p class="sub">Estimates are ranges (low .. high) from '
           "two models: per-operation and data-movement energies (Horowitz, 45 nm, scaled to the device's node) and "
           "the device's power x predicted latency; see docs/energy.md.</p>"]
    for device_id, e in energy.estimated.items():
        out.append(f'<h3 class="energy-device" data-device="{esc(device_id)}">{esc(energy_title(e))}</h3>')
        out.append(table("figure", ENERGY_COLUMNS, device_energy_rows(e), ' class="energy-range"'))
        cats = [c for c in e.by_category if c.total_j > 0]
        if cats:
            out.append(f"<h4>By category on {esc(device_id)} (ops + data movement, mid)</h4>")
            out.append(table("category", ENERGY_CATEGORY_COLUMNS, energy_category_rows(e), ' class="energy-categories"'))
            bars = [Bar(c.category, round(c.total_j * 1e12), f"{c.share:.1%}", joules(c.total_j)) for c in cats]
            out.append(bar_chart(bars, "J", f"Energy by category on {device_id}"))
        layers = [x for x in top_layers(e, top) if x.total_j > 0]
        if layers:
            out.append(f"<h4>Top energy consumers on {esc(device_id)} (ops + data movement, mid)</h4>")
            bars = [Bar(f"{x.name} ({x.op})", round(x.total_j * 1e12), x.level, joules(x.total_j)) for x in layers]
            out.append(bar_chart(bars, "J", f"Energy per layer on {device_id}"))
    measured = measured_energy_rows(energy)
    if measured:
        out.append("<h3>Measured on this machine</h3>" + table("figure", ENERGY_COLUMNS, measured))
    out += [f'<div class="notice">{esc(n)}</div>' for n in energy_notes(energy, profile.memory)]
    return "".join(out) + "</section>"


def _deployment(profile: Profile) -> str:
    dep = profile.deployment
    if dep is None:
        return ""
    head = "".join(f"<th>{esc(h)}</th>" for h in DEPLOYMENT_HEADERS)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in deployment_rows(dep))
    return (f'<section id="deployment"><h2>As given and as deployed</h2><p class="sub">{esc(DEPLOYMENT_TITLE)}</p>'
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f'<p class="sub">{esc(deployment_note(dep))}</p></section>')


def _layers(profile: Profile) -> str:
    total = profile.totals.flops + profile.totals.int_ops
    ints = profile.totals.int_ops > 0 or any(x.int_ops for x in profile.layers)
    heads = [("#", True), ("name", False), ("op", False), ("category", False), ("output shape", False),
             ("FLOPs", True)] + ([("int OPs", True)] if ints else []) + [("MACs", True), ("params", True),
                                                                           ("bytes read", True), ("share", True)]
    head_html = "".join(f'<th class="num">{h}</th>' if num else f"<th>{h}</th>" for h, num in heads)
    rows = []
    for i, x in enumerate(profile.layers):
        name = esc(x.name) + (f" <small>{esc(layer_label('', x).strip())}</small>" if x.range_group else "")
        op = esc(x.op) + (f" x{x.calls}" if x.calls != 1 else "")
        cls = ' class="not-counted"' if x.state == "not_counted" else ""
        cells = [_num(i), f"<td>{name}</td>", f"<td>{op}</td>", f"<td>{esc(x.category)}</td>",
                 f"<td>{esc(shape_text(x.output_shape))}</td>"]
        if x.state == "not_counted":
            cells.append('<td class="num" data-v="-1">not counted</td>')
            cells += ['<td class="num" data-v="-1">-</td>'] if ints else []
            cells += ['<td class="num" data-v="-1">-</td>', _num(x.params), _num(x.bytes_read),
                      '<td class="num" data-v="-1">-</td>']
        else:
            cells.append(_num(x.flops))
            cells += [_num(x.int_ops)] if ints else []
            share = x.flops + x.int_ops if x.in_totals else -1
            cells += [_num(x.macs), _num(x.params), _num(x.bytes_read),
                      f'<td class="num" data-v="{share}">{esc(layer_share(x, total))}</td>']
        key = esc(f"{x.name} {x.op} {x.category}")
        rows.append(f'<tr data-key="{key}"{cls}>{"".join(cells)}</tr>')
    return (
        f'<section id="layers"><h2>Layers ({len(profile.layers)})</h2>'
        '<p class="sub">Graph order. Click a header to sort; type to filter by name, op or category.</p>'
        '<input class="filter" id="layer-filter" type="search" placeholder="filter by name or op" '
        'data-table="layer-table" aria-label="filter layers"> <span id="layer-table-count" class="sub"></span>'
        f'<div class="scroll"><table class="sortable" id="layer-table"><thead><tr>{head_html}</tr></thead>'
        f'<tbody>{"".join(rows)}</tbody></table></div></section>'
    )


def _memory(profile: Profile) -> str:
    mem = profile.memory
    if mem is None:
        return ""
    rows = "".join(
        f"<tr><td>{esc(label)}</td>{_num(n)}<td class=\"num\">{esc(human(n, 'B'))}</td><td>{esc(how)}</td></tr>"
        for label, n, how in memory_rows(mem)
    )
    prec = "".join(
        f"<tr><td>{esc(p)}</td><td>{esc(dts)}</td>{_num(w)}{_num(a)}{_num(t)}</tr>"
        for p, dts, w, a, t in precision_rows(mem)
    )
    out = (
        '<section id="memory"><h2>Memory while running</h2>'
        "<table><thead><tr><th>figure</th><th class=\"num\">bytes</th><th class=\"num\">approx</th>"
        f"<th>how obtained</th></tr></thead><tbody>{rows}</tbody></table>"
        "<h3>By precision</h3><table><thead><tr><th>precision</th><th>weights / activations</th>"
        '<th class="num">weight B</th><th class="num">peak activation B</th><th class="num">peak B</th></tr></thead>'
        f"<tbody>{prec}</tbody></table>"
    )
    if mem.predicted.device_fits:
        head = "".join(f"<th>{esc(h)}</th>" for h in DEVICE_FIT_HEADERS)
        body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in device_fit_rows(mem))
        out += (f'<h3>Does it fit? (weights stay in flash, activations in SRAM)</h3><table id="device-fits">'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    if mem.predicted.ram_fits:
        head = "".join(f"<th>{esc(h)}</th>" for h in RAM_FIT_HEADERS)
        body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in ram_fit_rows(mem))
        out += (f'<h3>{esc(RAM_FIT_TITLE)}</h3><table id="ram-fits">'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    if mem.measurement_error:
        out += f'<div class="notice">Measurement not made: {esc(mem.measurement_error)}</div>'
    return out + "</section>"


def _llm(profile: Profile) -> str:
    llm = profile.llm
    if llm is None:
        return ""
    rows = "".join(
        f"<tr><td>{esc(label)}</td>{_num(n)}<td class=\"num\">{esc(human(n, unit))}</td></tr>"
        for label, n, unit in llm_rows(llm)
    )
    return ('<section id="llm"><h2>Decoder LLM figures (counted)</h2><table><thead><tr><th>figure</th>'
            f'<th class="num">exact</th><th class="num">approx</th></tr></thead><tbody>{rows}</tbody></table></section>')


def _not_counted(profile: Profile) -> str:
    head = '<section id="not-counted"><h2>Not counted</h2>'
    if not profile.not_counted:
        return head + '<p class="ok">None: all ops counted.</p></section>'
    rows = "".join(
        f"<tr><td>{esc(n.op)}</td>{_num(n.count)}<td>{esc(n.example)}</td><td>{esc(n.reason)}</td></tr>"
        for n in profile.not_counted
    )
    return (head + '<p class="bad">These ops add nothing to the totals above.</p><table><thead><tr><th>op</th>'
            f'<th class="num">count</th><th>example node</th><th>reason</th></tr></thead><tbody>{rows}</tbody></table>'
            "</section>")


def _data(profile: Profile) -> str:
    return f'<script type="application/json" id="edgeprof-data">{json_for_script(profile.to_dict())}</script>'


SECTIONS: tuple[Callable[[Profile], str], ...] = (
    _header, _cards_html, _inputs, _deployment, _flops_chart, _category_chart, _timeline, _latency, _energy, _layers, _memory,
    _llm, _not_counted,
)


def render_html(
    profile: Profile, sections: Sequence[Callable[[Profile], str]] = SECTIONS, *, top: int | None = None
) -> str:
    """The whole report as one self-contained HTML document. ``top``: the layers in the FLOPs
    chart (None: the 30 costliest; 0: every layer with counted ops)."""
    if top is not None and top < 0:
        raise ValueError("top must be >= 0")
    chart_layers = DEFAULT_CHART_LAYERS if top is None else top or len(profile.layers)
    chosen = [partial(_flops_chart, top=chart_layers) if f is _flops_chart else f for f in sections]
    body = "\n".join(s for s in (f(profile) for f in chosen) if s)
    body += f"\n{_data(profile)}\n<footer>edgeprof {esc(__version__)} &middot; schema {profile.schema_version}</footer>"
    return page(f"edgeprof: {profile.model.name or 'model'}", body)


def summary_html(profile: Profile, top: int = 5) -> str:
    """A compact HTML summary (for Jupyter's ``_repr_html_``): the cards as a table, the top
    layers and the not-counted ops. No script, every model string escaped."""
    rows = "".join(
        f"<tr><td>{esc(c.label)}</td><td style=\"text-align:right\">{esc(c.shown)}</td>"
        f"<td style=\"text-align:right\">{esc(c.exact_text)}</td><td>{esc(c.kind)}</td></tr>"
        for c in cards(profile)
    )
    total = profile.totals.flops + profile.totals.int_ops
    layers = "".join(
        f"<tr><td>{esc(x.name)}</td><td>{esc(x.op)}</td><td style=\"text-align:right\">{esc(exact(x.flops))}</td>"
        f"<td style=\"text-align:right\">{percent(x.flops + x.int_ops, total)}</td></tr>"
        for x in profile.top_layers(top)
    )
    if profile.not_counted:
        listed = ", ".join(f"{n.op} ({n.count})" for n in profile.not_counted)
        nc = f"<p><b>Not counted:</b> {esc(listed)}</p>"
    else:
        nc = "<p>All ops counted.</p>"
    return (
        f'<div class="edgeprof-summary"><b>edgeprof: {esc(profile.model.name or "(unnamed model)")}</b>'
        f"<table><thead><tr><th>figure</th><th>approx</th><th>exact</th><th>how</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f"<table><thead><tr><th>layer</th><th>op</th><th>FLOPs</th><th>share</th></tr></thead>"
        f"<tbody>{layers}</tbody></table>{nc}</div>"
    )


set_html_display(summary_html)
