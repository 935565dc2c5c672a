"""Summary statistics of repeated timings.

Percentiles use linear interpolation between closest ranks (Hyndman & Fan type 7, numpy's
default): for sorted samples ``x[0..n-1]`` and ``p`` in [0, 1], ``h = (n - 1) * p`` and
``q(p) = x[floor h] + (h - floor h) * (x[floor h + 1] - x[floor h])``. The standard deviation
is the sample one (divisor ``n - 1``; 0 for one sample). The stability criterion is the
relative half-width of the normal-approximation 95 % confidence interval of the mean,
``1.96 * std / sqrt(n) / mean``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Z95", "TimingStats", "percentile", "relative_ci_half_width", "summarise"]

Z95 = 1.96


@dataclass(frozen=True)
class TimingStats:
    """Statistics of ``runs`` timings in seconds."""

    runs: int
    min_s: float
    max_s: float
    mean_s: float
    std_s: float
    p50_s: float
    p90_s: float
    p99_s: float
    ci95_half_width_rel: float  # of the mean; see the module docstring


def percentile(sorted_samples: Sequence[float], p: float) -> float:
    """The ``p``-quantile (``p`` in [0, 1]) of already sorted samples, type-7 interpolation."""
    if not sorted_samples:
        raise ValueError("percentile of no samples")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be in [0, 1], got {p}")
    h = (len(sorted_samples) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(sorted_samples) - 1)
    return sorted_samples[lo] + (h - lo) * (sorted_samples[hi] - sorted_samples[lo])


def relative_ci_half_width(samples: Sequence[float]) -> float:
    """``1.96 * std / sqrt(n) / mean``: infinite for fewer than two samples or a zero mean."""
    n = len(samples)
    if n < 2:
        return math.inf
    mean = math.fsum(samples) / n
    if mean <= 0:
        return math.inf
    return Z95 * _std(samples, mean) / math.sqrt(n) / mean


def _std(samples: Sequence[float], mean: float) -> float:
    n = len(samples)
    if n < 2:
        return 0.0
    return math.sqrt(math.fsum((x - mean) ** 2 for x in samples) / (n - 1))


def summarise(samples: Sequence[float]) -> TimingStats:
    """min, max, mean, sample std, p50/p90/p99 and the relative CI half-width of ``samples``."""
    if not samples:
        raise ValueError("no timings to summarise")
    xs = sorted(float(x) for x in samples)
    n = len(xs)
    mean = math.fsum(xs) / n
    return TimingStats(
        runs=n,
        min_s=xs[0],
        max_s=xs[-1],
        mean_s=mean,
        std_s=_std(xs, mean),
        p50_s=percentile(xs, 0.50),
        p90_s=percentile(xs, 0.90),
        p99_s=percentile(xs, 0.99),
        ci95_half_width_rel=relative_ci_half_width(xs),
    )
