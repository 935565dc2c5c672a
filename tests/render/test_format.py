"""Number formatting shared by the renderers (render/format.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeprof.render.format import exact, human, percent, select_layers, shape_text
from tests.render import wide_mixed


@pytest.mark.parametrize(
    ("n", "unit", "text"),
    [
        (0, "", "0"),
        (15, "FLOPs", "15 FLOPs"),
        (999, "B", "999 B"),
        (1_000, "B", "1.00 kB"),
        (1_234, "", "1.23 k"),
        (9_994, "", "9.99 k"),
        (9_995, "", "10.0 k"),  # round half up, then three significant digits
        (99_949, "", "99.9 k"),
        (99_950, "", "100 k"),
        (999_499, "", "999 k"),
        (999_500, "", "1.00 M"),  # rolls over to the next prefix
        (549_240, "", "549 k"),
        (4_089_184_256, "MACs", "4.09 GMACs"),
        (2**62, "", "4.61 E"),
        (-1_500, "", "-1.50 k"),
    ],
)
def test_human(n: int, unit: str, text: str) -> None:
    assert human(n, unit) == text


@given(st.integers(min_value=1000, max_value=10**30))
def test_human_has_three_significant_digits(n: int) -> None:
    number = human(n).split()[0]
    assert len(number.replace(".", "")) == 3


def test_exact() -> None:
    assert exact(4_089_184_256) == "4,089,184,256"
    assert exact(7) == "7"


@pytest.mark.parametrize(
    ("part", "whole", "text"),
    [(1, 3, "33.3%"), (2, 3, "66.7%"), (1, 10_000, "<0.1%"), (0, 5, "0%"), (5, 0, "-"), (1, 1, "100.0%"),
     (1, 2000, "0.1%")],
)
def test_percent(part: int, whole: int, text: str) -> None:
    assert percent(part, whole) == text


def test_shape_text() -> None:
    assert shape_text((1, 3, 224, 224)) == "1x3x224x224"
    assert shape_text(("batch", 3)) == "batchx3"
    assert shape_text(()) == "()"


def test_select_layers() -> None:
    profile = wide_mixed()
    default = select_layers(profile, None)
    assert (len(default.layers), default.hidden, default.truncated, default.total) == (25, 5, True, 30)
    everything = select_layers(profile, 0)
    assert everything.layers == profile.layers and not everything.truncated
    roomy = select_layers(profile, 30)
    assert roomy.layers == profile.layers and roomy.hidden == 0
    with pytest.raises(ValueError):
        select_layers(profile, -1)
