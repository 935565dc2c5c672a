"""Timing statistics on synthetic samples with closed-form answers."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeprof.measure.stats import percentile, relative_ci_half_width, summarise


def test_one_to_ten() -> None:
    # samples 1..10 s: mean 5.5; sample variance = sum((k-5.5)^2)/9 = 82.5/9
    s = summarise([float(k) for k in (10, 3, 1, 2, 9, 4, 8, 5, 7, 6)])
    assert s.runs == 10
    assert s.min_s == 1.0 and s.max_s == 10.0
    assert s.mean_s == 5.5
    assert s.std_s == pytest.approx(math.sqrt(82.5 / 9))
    assert s.p50_s == pytest.approx(5.5)  # h = 9 * 0.5 = 4.5 -> between 5 and 6
    assert s.p90_s == pytest.approx(9.1)  # h = 8.1 -> 9 + 0.1 * (10 - 9)
    assert s.p99_s == pytest.approx(9.91)  # h = 8.91 -> 9 + 0.91
    assert s.ci95_half_width_rel == pytest.approx(1.96 * math.sqrt(82.5 / 9) / math.sqrt(10) / 5.5)


def test_single_sample() -> None:
    s = summarise([0.25])
    assert (s.min_s, s.p50_s, s.p90_s, s.p99_s, s.mean_s, s.std_s) == (0.25, 0.25, 0.25, 0.25, 0.25, 0.0)
    assert s.ci95_half_width_rel == math.inf


def test_constant_samples_are_stable() -> None:
    assert relative_ci_half_width([2e-3] * 50) == 0.0


def test_two_samples() -> None:
    # 1 and 3: mean 2, std sqrt(2), p90 = 1 + 0.9 * 2 = 2.8
    s = summarise([3.0, 1.0])
    assert s.std_s == pytest.approx(math.sqrt(2))
    assert s.p90_s == pytest.approx(2.8)


def test_errors() -> None:
    with pytest.raises(ValueError):
        summarise([])
    with pytest.raises(ValueError):
        percentile([1.0], 1.5)


@given(st.lists(st.floats(min_value=1e-6, max_value=10.0), min_size=1, max_size=60))
def test_order_of_the_statistics(xs: list[float]) -> None:
    s = summarise(xs)
    assert s.min_s <= s.p50_s <= s.p90_s <= s.p99_s <= s.max_s
    assert s.min_s <= s.mean_s * (1 + 1e-12) and s.mean_s <= s.max_s * (1 + 1e-12)
    assert s.std_s >= 0
