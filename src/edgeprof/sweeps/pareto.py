"""The Pareto front of a sweep and the rows that break a budget.

A point (x, y), both to minimise, is Pareto-optimal when no other point is as low on both and
lower on one (two equal points are both optimal). The chart puts latency on a device (y) against
params, MACs or peak memory (x); without a device prediction, MACs against params. A budget
(``edgeprof.budget``) is checked on each row's full report: a row breaks it when a limit fails
(``unproven`` is not a break: the figure is a lower bound), a model that does not fit the device
included.
"""

from __future__ import annotations

from collections.abc import Sequence

from edgeprof.budget import Budget, check_budget
from edgeprof.report.sweep import SweepMark, SweepRow

__all__ = ["X_AXES", "mark_rows", "pareto_front"]

X_AXES = ("params", "macs", "peak")


def pareto_front(points: Sequence[tuple[float, float]]) -> list[bool]:
    """Whether each point is Pareto-optimal, both coordinates minimised (O(n log n)). In the order
    (x, y) every point that dominates another comes before it, so a point is optimal when every
    different point before it is higher in y; equal points share their fate."""
    order = sorted(range(len(points)), key=lambda i: points[i])
    optimal = [False] * len(points)
    lowest_y = float("inf")  # the lowest y of the points before the current group
    i = 0
    while i < len(order):
        point = points[order[i]]
        j = i
        while j < len(order) and points[order[j]] == point:
            j += 1
        if point[1] < lowest_y:
            for k in order[i:j]:
                optimal[k] = True
            lowest_y = point[1]
        i = j
    return optimal


def _x(row: SweepRow, axis: str) -> float | None:
    value = {"params": row.params, "macs": row.macs, "peak": row.peak_bytes}[axis]
    return None if value is None else float(value)


def mark_rows(rows: Sequence[SweepRow], *, x: str = "params", device: str | None = None,
              budget: Budget | None = None) -> tuple[str, list[SweepMark]]:
    """The y axis of the chart (``latency`` on ``device``, default the first device with a
    prediction; ``macs`` when no row has one) and one :class:`SweepMark` per successful row: the
    budget limits it breaks (every row) and, for the rows on the chart (that device's, with both
    figures; without latency one row per model), its place and whether it is Pareto-optimal."""
    if x not in X_AXES:
        raise ValueError(f"x must be one of {X_AXES}")
    with_latency = [r for r in rows if r.ok and r.latency_s is not None]
    if device is None and with_latency:
        device = with_latency[0].device
    y_axis = "latency" if with_latency else "macs"
    placed: list[tuple[SweepRow, float | None, float | None, bool]] = []
    seen: set[tuple[str, str, str]] = set()
    for r in (r for r in rows if r.ok):
        xv = _x(r, x)
        yv = r.latency_s if y_axis == "latency" else (None if r.macs is None else float(r.macs))
        charted = xv is not None and yv is not None and (y_axis == "macs" or r.device == device)
        if charted and y_axis == "macs":  # a model predicted on several devices is one point without latency
            charted = (r.model_hash, r.options_hash, r.precision) not in seen
            seen.add((r.model_hash, r.options_hash, r.precision))
        placed.append((r, xv, yv, charted))
    charted_points = [(xv, yv) for _, xv, yv, c in placed if c and xv is not None and yv is not None]
    front = iter(pareto_front(charted_points))
    marks = []
    for row, xv, yv, charted in placed:
        breaks: tuple[str, ...] = ()
        profile = row.profile() if budget is not None else None
        if budget is not None and profile is not None:
            result = check_budget(profile, budget)
            breaks = tuple(dict.fromkeys(c.budget for c in result.checks if c.status == "fail"))
        marks.append(SweepMark(row, xv if xv is not None else 0.0, yv if yv is not None else 0.0,
                               next(front) if charted else False, breaks, charted))
    return y_axis, marks
