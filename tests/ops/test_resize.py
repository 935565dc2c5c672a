"""Closed-form tests of the resampling family: Resize/Upsample by mode, GridSample, AffineGrid."""

from __future__ import annotations

import pytest

from edgeprof.ops.registry import Uncountable
from tests.opcall import cost

SCALES = ((4,), "float32")


def test_nearest_is_index_arithmetic_only() -> None:
    c = cost("Resize", [(1, 3, 4, 4), None, SCALES], [(1, 3, 8, 8)], mode="nearest")
    assert (c.flops, c.macs) == (0, 0)
    assert c.category.value == "resize"
    # reads X (48 floats) and the 4 scales, writes 192 floats
    assert (c.bytes_read, c.bytes_written) == (4 * 52, 4 * 192)
    assert cost("Resize", [(1, 3, 4, 4), None, SCALES], [(1, 3, 8, 8)]).flops == 0  # nearest is the default


@pytest.mark.parametrize("ctm", ["half_pixel", "align_corners", "asymmetric", "pytorch_half_pixel"])
def test_bilinear_is_three_lerps_per_output(ctm: str) -> None:
    # 2 resized axes: 3 lerps of (subtract, multiply, add) = 9 per output; 1·3·8·8 = 192 outputs
    c = cost("Resize", [(1, 3, 4, 4), None, SCALES], [(1, 3, 8, 8)], mode="linear", coordinate_transformation_mode=ctm)
    assert c.flops == 192 * 9


def test_linear_over_one_and_three_axes() -> None:
    assert cost("Resize", [(1, 1, 4), None, ((3,), "float32")], [(1, 1, 8)], mode="linear").flops == 8 * 3
    # trilinear: 7 lerps = 21 per output, 64 outputs
    c = cost("Resize", [(1, 1, 2, 2, 2), None, ((5,), "float32")], [(1, 1, 4, 4, 4)], mode="linear")
    assert c.flops == 64 * 21


def test_cubic_four_taps_per_axis() -> None:
    # bicubic: 4 row sums + 1 column sum of 4 taps, 7 ops each = 35 per output; 16 outputs
    assert cost("Resize", [(1, 1, 2, 2), None, SCALES], [(1, 1, 4, 4)], mode="cubic").flops == 16 * 35
    # one axis: a single 4-tap sum
    assert cost("Resize", [(1, 1, 2, 3), None, SCALES], [(1, 1, 4, 3)], mode="cubic").flops == 12 * 7


def test_downscale_and_antialias() -> None:
    assert cost("Resize", [(1, 1, 8, 8), None, SCALES], [(1, 1, 4, 4)], mode="linear").flops == 16 * 9
    with pytest.raises(Uncountable, match="antialias"):
        cost("Resize", [(1, 1, 8, 8), None, SCALES], [(1, 1, 4, 4)], mode="linear", antialias=1)
    # upscaling with antialias is plain linear; nearest ignores it
    assert cost("Resize", [(1, 1, 4, 4), None, SCALES], [(1, 1, 8, 8)], mode="linear", antialias=1).flops == 64 * 9
    assert cost("Resize", [(1, 1, 8, 8), None, SCALES], [(1, 1, 4, 4)], antialias=1).flops == 0


def test_sizes_input_and_uint8_image() -> None:
    sizes = ((4,), "int64")
    c = cost("Resize", [((1, 3, 4, 4), "uint8"), None, None, sizes], [((1, 3, 8, 8), "uint8")], mode="linear")
    assert (c.flops, c.int_ops) == (0, 192 * 9)


def test_unchanged_size_is_a_copy() -> None:
    assert cost("Resize", [(1, 3, 4, 4), None, SCALES], [(1, 3, 4, 4)], mode="cubic").flops == 0


def test_resize_errors() -> None:
    with pytest.raises(Uncountable, match="mode"):
        cost("Resize", [(1, 1, 4, 4), None, SCALES], [(1, 1, 8, 8)], mode="lanczos")
    with pytest.raises(Uncountable, match="ranks"):
        cost("Resize", [(1, 1, 4, 4), None, SCALES], [(1, 8, 8)], mode="linear")


def test_upsample() -> None:
    scales = ((4,), "float32")
    assert cost("Upsample", [(1, 1, 2, 2), scales], [(1, 1, 4, 4)], mode="linear").flops == 16 * 9
    assert cost("Upsample", [(1, 1, 2, 2), scales], [(1, 1, 4, 4)], mode="bilinear").flops == 16 * 9
    assert cost("Upsample", [(1, 1, 2, 2), scales], [(1, 1, 4, 4)]).flops == 0


# --- GridSample ------------------------------------------------------------------------------

X2, GRID2, Y2 = (1, 3, 5, 5), (1, 4, 4, 2), (1, 3, 4, 4)  # 16 grid points, 48 outputs


@pytest.mark.parametrize(
    ("mode", "padding", "expected"),
    [
        # 16 points · 2 dims · (unnormalise 2 + floor, fraction, 1-fraction 3) + 48 outputs · 9
        ("linear", "zeros", 16 * 2 * 5 + 48 * 9),
        ("bilinear", "zeros", 16 * 2 * 5 + 48 * 9),  # opset 16 spelling
        ("nearest", "zeros", 16 * 2 * 3),  # unnormalise 2 + round 1; no interpolation
        ("linear", "reflection", 16 * 2 * (5 + 7) + 48 * 9),
        ("cubic", "border", 16 * 2 * (2 + 28 + 2) + 48 * 35),  # Keys weights 26 + floor + fraction
        ("bicubic", "border", 16 * 2 * (2 + 28 + 2) + 48 * 35),
    ],
)
def test_grid_sample_2d(mode: str, padding: str, expected: int) -> None:
    c = cost("GridSample", [X2, GRID2], [Y2], mode=mode, padding_mode=padding)
    assert c.flops == expected
    assert c.category.value == "resize"


def test_grid_sample_3d_linear() -> None:
    # 8 points · 3 dims · 5 + 16 outputs · trilinear 21
    c = cost("GridSample", [(1, 2, 3, 3, 3), (1, 2, 2, 2, 3)], [(1, 2, 2, 2, 2)])
    assert c.flops == 8 * 3 * 5 + 16 * 21


def test_grid_sample_errors() -> None:
    with pytest.raises(Uncountable, match="do not fit"):
        cost("GridSample", [X2, (1, 4, 4, 3)], [Y2])
    with pytest.raises(Uncountable, match="padding_mode"):
        cost("GridSample", [X2, GRID2], [Y2], padding_mode="wrap")


# --- AffineGrid ------------------------------------------------------------------------------


def test_affine_grid_2d_and_3d() -> None:
    size4, size5 = ((4,), "int64"), ((5,), "int64")
    # 2-D: each point's 2 coordinates are 2 multiplies + 2 adds: 8 per point, 2·5·6 = 60 points
    assert cost("AffineGrid", [(2, 2, 3), size4], [(2, 5, 6, 2)]).flops == 480
    # 3-D: 3 coordinates of 3 multiplies + 3 adds = 18 per point, 2·3·4 = 24 points
    c = cost("AffineGrid", [(1, 3, 4), size5], [(1, 2, 3, 4, 3)], align_corners=1)
    assert (c.flops, c.macs) == (432, 0)


def test_affine_grid_bad_theta() -> None:
    with pytest.raises(Uncountable, match="theta"):
        cost("AffineGrid", [(2, 2, 2), ((4,), "int64")], [(2, 5, 6, 2)])
