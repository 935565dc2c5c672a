"""Inline SVG charts for the HTML reports, generated in Python (no JavaScript library).

Every label is HTML-escaped here (control and bidi characters as visible escapes): callers pass
raw model strings. Coordinates are floats
(drawing only); the figures printed in labels come from the exact integer formatting helpers.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from edgeprof.render.format import exact, human
from edgeprof.render.html_assets import esc as escape  # markup, control and bidi characters

__all__ = [
    "Bar", "RooflinePoint", "ScatterPoint", "bar_chart", "line_chart", "roofline_chart", "scatter_chart", "shorten",
]

_PALETTE = ("#3465a4", "#f57900", "#4e9a06", "#75507b", "#c4a000", "#cc0000", "#06989a", "#8f5902", "#555753")


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis in the middle (node names end in
    the op, so both ends matter)."""
    if len(text) <= limit:
        return text
    keep = max(1, limit - 1)
    head = keep // 2
    return text[:head] + "\u2026" + text[len(text) - (keep - head):]


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    note: str = ""  # shown after the value, e.g. "12.3%"
    text: str = ""  # the value as shown, instead of human(value, unit) (e.g. a time)


def bar_chart(bars: Sequence[Bar], unit: str, title: str, label_chars: int = 44) -> str:
    """A horizontal bar chart, one row per bar, longest bar = the largest value."""
    row_h, label_w, bar_w, value_w = 18, 330, 420, 190
    width = label_w + bar_w + value_w
    height = row_h * len(bars) + 8
    top = max((b.value for b in bars), default=0)
    parts = [
        f'<svg class="chart bar-chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, bar in enumerate(bars):
        y = 4 + i * row_h
        length = 0.0 if top <= 0 else bar_w * bar.value / top
        value_text = (bar.text or human(bar.value, unit)) + (f" ({bar.note})" if bar.note else "")
        parts.append(
            f'<g class="bar"><title>{escape(bar.label)}: {escape(bar.text or exact(bar.value) + " " + unit)}</title>'
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(shorten(bar.label, label_chars))}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{length:.2f}" height="{row_h - 4}" '
            f'fill="{_PALETTE[0] if i % 2 == 0 else "#5c85c4"}"/>'
            f'<text x="{label_w + length + 4:.2f}" y="{y + 13}">{escape(value_text)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _ticks(top: int, count: int = 4) -> list[int]:
    """``count`` + 1 evenly spaced integer ticks from 0 to ``top``."""
    if top <= 0:
        return [0]
    return [top * i // count for i in range(count + 1)]


def line_chart(
    values: Sequence[int],
    title: str,
    unit: str,
    *,
    peak_index: int | None = None,
    peak_label: str = "",
    upper: Sequence[int] | None = None,
) -> str:
    """A step-indexed line chart of ``values`` (e.g. live bytes after each op), with an
    optional lighter ``upper`` line (bytes in use while each op runs) and the peak marked."""
    width, height = 900, 270
    left, right, top_pad, bottom = 90, 20, 26, 34
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    n = len(values)
    top = max([*values, *(upper or [])], default=0)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: int) -> float:
        return top_pad + plot_h - (plot_h * v / top if top > 0 else 0.0)

    parts = [
        f'<svg class="chart line-chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" stroke="#888"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" stroke="#888"/>',
    ]
    for tick in _ticks(top):
        parts.append(
            f'<text x="{left - 6}" y="{y(tick) + 4:.2f}" text-anchor="end" class="tick">{escape(human(tick, unit))}</text>'
            f'<line x1="{left}" y1="{y(tick):.2f}" x2="{left + plot_w}" y2="{y(tick):.2f}" stroke="#ddd"/>'
        )
    parts.append(
        f'<text x="{left + plot_w / 2:.2f}" y="{height - 6}" text-anchor="middle" class="tick">'
        f"execution step (0 .. {max(0, n - 1)})</text>"
    )
    if upper is not None and len(upper) == n and n:
        pts = " ".join(f"{x(i):.2f},{y(v):.2f}" for i, v in enumerate(upper))
        parts.append(f'<polyline class="series-upper" points="{pts}" fill="none" stroke="#f5a35c" stroke-width="1.2"/>')
    if n:
        pts = " ".join(f"{x(i):.2f},{y(v):.2f}" for i, v in enumerate(values))
        parts.append(f'<polyline class="series" points="{pts}" fill="none" stroke="#3465a4" stroke-width="1.8"/>')
    if peak_index is not None and 0 <= peak_index < n:
        peak_v = (upper if upper is not None and len(upper) == n else values)[peak_index]
        px, py = x(peak_index), y(peak_v)
        anchor = "end" if px > left + plot_w * 0.6 else "start"
        dx = -8 if anchor == "end" else 8
        parts.append(
            f'<g class="peak"><line x1="{px:.2f}" y1="{top_pad}" x2="{px:.2f}" y2="{top_pad + plot_h}" '
            f'stroke="#cc0000" stroke-dasharray="4 3"/><circle cx="{px:.2f}" cy="{py:.2f}" r="4" fill="#cc0000"/>'
            f'<text x="{px + dx:.2f}" y="{top_pad - 8}" text-anchor="{anchor}" fill="#cc0000">'
            f"peak {escape(human(peak_v, unit))} at {escape(shorten(peak_label, 48))}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class ScatterPoint:
    """One dot. ``mark`` (a sweep's Pareto chart): ``pareto`` (optimal: green, joined by the front's
    steps), ``over`` (breaks a budget: a red ring), ``pareto over`` (both), ``other`` (grey); empty:
    the palette's colour. ``labelled``: the label is drawn beside the dot (else only on hover)."""

    label: str
    x: int
    y: int
    mark: str = ""
    labelled: bool = True


def scatter_chart(
    points: Sequence[ScatterPoint], title: str, x_name: str, x_unit: str, y_name: str, y_unit: str,
    y_show: Callable[[int], str] | None = None,
) -> str:
    """One dot per point, labelled, on linear axes from 0; ``y_show`` formats a y value (default:
    ``human(y, y_unit)``)."""
    show_y = y_show or (lambda v: human(v, y_unit))
    width, height = 780, 380
    left, right, top_pad, bottom = 90, 50, 20, 50
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    # 10% headroom so that the dot of the largest value and its label stay inside the plot
    x_top = max((p.x for p in points), default=0) * 11 // 10
    y_top = max((p.y for p in points), default=0) * 11 // 10

    def sx(v: int) -> float:
        return left + (plot_w * v / x_top if x_top > 0 else 0.0)

    def sy(v: int) -> float:
        return top_pad + plot_h - (plot_h * v / y_top if y_top > 0 else 0.0)

    parts = [
        f'<svg class="chart scatter-chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" stroke="#888"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" stroke="#888"/>',
    ]
    for tick in _ticks(x_top):
        parts.append(f'<text x="{sx(tick):.2f}" y="{top_pad + plot_h + 16}" text-anchor="middle" class="tick">'
                     f"{escape(human(tick, x_unit))}</text>")
    for tick in _ticks(y_top):
        parts.append(f'<text x="{left - 6}" y="{sy(tick) + 4:.2f}" text-anchor="end" class="tick">'
                     f"{escape(show_y(tick))}</text>")
    parts.append(f'<text x="{left + plot_w / 2:.2f}" y="{height - 8}" text-anchor="middle">{escape(x_name)}</text>')
    parts.append(f'<text x="14" y="{top_pad + plot_h / 2:.2f}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {top_pad + plot_h / 2:.2f})">{escape(y_name)}</text>')
    front = sorted((p for p in points if "pareto" in p.mark.split()), key=lambda p: (p.x, p.y))
    if len(front) > 1:  # the front as steps: each optimal point holds until the next one is lower
        steps = [f"{sx(front[0].x):.2f},{sy(front[0].y):.2f}"]
        for a, b in itertools.pairwise(front):
            steps += [f"{sx(b.x):.2f},{sy(a.y):.2f}", f"{sx(b.x):.2f},{sy(b.y):.2f}"]
        parts.append(f'<polyline class="pareto-front" points="{" ".join(steps)}" fill="none" stroke="#4e9a06" '
                     'stroke-width="1.5" stroke-dasharray="4 3"/>')
    for i, p in enumerate(points):
        marks = p.mark.split()
        color = ("#4e9a06" if "pareto" in marks else "#9aa3ad" if marks else _PALETTE[i % len(_PALETTE)])
        ring = ' stroke="#cc0000" stroke-width="2.5"' if "over" in marks else ""
        right_half = sx(p.x) > left + plot_w / 2
        label = (f'<text x="{sx(p.x) + (-9 if right_half else 9):.2f}" y="{sy(p.y) - 9:.2f}" '
                 f'text-anchor="{"end" if right_half else "start"}">{escape(shorten(p.label, 30))}</text>'
                 if p.labelled else "")
        cls = " ".join(["point", *marks])
        parts.append(
            f'<g class="{cls}"><title>{escape(p.label)}: {escape(x_name)} {exact(p.x)}, {escape(y_name)} {escape(show_y(p.y))}'
            f'</title><circle cx="{sx(p.x):.2f}" cy="{sy(p.y):.2f}" r="{6 if p.labelled or "pareto" in marks else 4}" '
            f'fill="{color}"{ring}/>{label}</g>'
        )
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class RooflinePoint:
    """One layer on the roofline: its arithmetic intensity (ops per byte moved) and its
    attainable rate as predicted (ops / its compute-or-memory time, overhead excluded)."""

    label: str
    intensity_op_per_byte: float
    rate_op_per_s: float
    bound: str


def _decades(lo: float, hi: float) -> tuple[int, int]:
    """Whole powers of ten that enclose [lo, hi] (lo, hi > 0)."""
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    return a, max(b, a + 1)


def roofline_chart(points: Sequence[RooflinePoint], peaks_op_per_s: Mapping[str, float],
                   bandwidth_bytes_per_s: float | None, title: str) -> str:
    """Log-log roofline: a horizontal roof per precision's peak, the bandwidth slope
    (rate = intensity x bandwidth) up to the highest roof, and one dot per layer (blue:
    compute-bound, orange: memory-bound)."""
    peaks = {k: v for k, v in peaks_op_per_s.items() if v > 0}
    xs = [p.intensity_op_per_byte for p in points if p.intensity_op_per_byte > 0]
    ys = [p.rate_op_per_s for p in points if p.rate_op_per_s > 0] + list(peaks.values())
    if not xs or not ys:
        return ""
    bw = bandwidth_bytes_per_s if bandwidth_bytes_per_s and bandwidth_bytes_per_s > 0 else None
    top_peak = max(peaks.values(), default=max(ys))
    if bw is not None:
        xs.append(top_peak / bw)  # the ridge point
    x0, x1 = _decades(min(xs), max(xs))
    y0, y1 = _decades(min(ys), max(ys) * 1.5)
    width, height = 780, 420
    left, right, top_pad, bottom = 90, 90, 20, 50
    plot_w, plot_h = width - left - right, height - top_pad - bottom

    def sx(v: float) -> float:
        return left + plot_w * (math.log10(v) - x0) / (x1 - x0)

    def sy(v: float) -> float:
        return top_pad + plot_h - plot_h * (math.log10(v) - y0) / (y1 - y0)

    parts = [
        f'<svg class="chart roofline-chart" role="img" aria-label="{escape(title)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{left + plot_w}" y2="{top_pad + plot_h}" stroke="#888"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + plot_h}" stroke="#888"/>',
    ]
    for e in range(x0, x1 + 1):
        parts.append(f'<text x="{sx(10.0 ** e):.2f}" y="{top_pad + plot_h + 16}" text-anchor="middle" class="tick">'
                     f"1e{e}</text>")
    for e in range(y0, y1 + 1):
        parts.append(f'<text x="{left - 6}" y="{sy(10.0 ** e) + 4:.2f}" text-anchor="end" class="tick">1e{e}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.2f}" y="{height - 8}" text-anchor="middle">'
                 "arithmetic intensity (ops per byte moved)</text>")
    parts.append(f'<text x="14" y="{top_pad + plot_h / 2:.2f}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {top_pad + plot_h / 2:.2f})">ops/s</text>')
    x_lo, x_hi = 10.0 ** x0, 10.0 ** x1
    for name, peak in sorted(peaks.items(), key=lambda kv: kv[1]):
        start = peak / bw if bw is not None else x_lo
        parts.append(f'<g class="roof"><title>{escape(name)} peak {escape(human(round(peak), "op/s"))}</title>'
                     f'<line x1="{sx(max(start, x_lo)):.2f}" y1="{sy(peak):.2f}" x2="{sx(x_hi):.2f}" y2="{sy(peak):.2f}" '
                     f'stroke="#2e3436" stroke-width="2"/><text x="{sx(x_hi) + 4:.2f}" y="{sy(peak) + 4:.2f}" '
                     f'class="tick">{escape(name)} peak</text></g>')
    if bw is not None:
        x_end = min(top_peak / bw, x_hi)
        x_start = max(x_lo, 10.0 ** y0 / bw)
        parts.append(f'<g class="roof"><title>memory bandwidth {escape(human(round(bw), "B/s"))}</title>'
                     f'<line x1="{sx(x_start):.2f}" y1="{sy(x_start * bw):.2f}" x2="{sx(x_end):.2f}" '
                     f'y2="{sy(x_end * bw):.2f}" stroke="#2e3436" stroke-width="2" stroke-dasharray="6 3"/></g>')
    for p in points:
        if p.intensity_op_per_byte <= 0 or p.rate_op_per_s <= 0:
            continue
        color = _PALETTE[0] if p.bound == "compute" else _PALETTE[1]
        parts.append(f'<g class="point"><title>{escape(p.label)}: {p.intensity_op_per_byte:.3g} op/B, '
                     f'{escape(human(round(p.rate_op_per_s), "op/s"))}, {escape(p.bound)}-bound</title>'
                     f'<circle cx="{sx(p.intensity_op_per_byte):.2f}" cy="{sy(p.rate_op_per_s):.2f}" r="4" '
                     f'fill="{color}" fill-opacity="0.75"/></g>')
    parts.append("</svg>")
    return "".join(parts)
