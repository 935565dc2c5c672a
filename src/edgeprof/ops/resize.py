"""Op family: resampling (Resize, Upsample, GridSample, AffineGrid).

Resize and Upsample are counted per output element from the interpolation mode; an axis whose
size does not change is copied, not interpolated (d = the number of axes whose size changes):

* ``nearest``: 0 ops: picking the nearest input is index arithmetic;
* ``linear`` (bilinear, trilinear, N-linear): 2^d - 1 one-dimensional lerps of 3 ops
  (a + w·(b - a): subtract, multiply, add): 3·(2^d - 1) per output element (bilinear 9);
* ``cubic``: 4 taps per axis, reduced one axis at a time: (4^d - 1)/3 four-tap weighted sums
  of 7 ops (4 multiplies, 3 adds): 7·(4^d - 1)/3 per output element (bicubic 35).

The source coordinates and tap weights are computed once per output row/column (per axis, not
per element), so neither the coordinate_transformation_mode nor exclude_outside changes the
count, and that per-axis setup is not counted. Antialiased downscaling (``antialias=1`` with a
linear or cubic axis that shrinks) widens the filter per output position and is not counted.

GridSample samples at data-given positions, so its per-position setup *is* counted, once per
grid point and spatial dim (shared by the channels): unnormalise the coordinate (multiply,
add with per-axis constants) = 2, then ``nearest`` round 1, ``linear`` floor, fraction and
1 - fraction 3, ``cubic`` floor, fraction and the four Keys weights 2 + 26; the padding mode
adds ``border`` a clamp 2, ``reflection`` 7 (subtract, abs, divide, floor, fmod as multiply and
subtract, signed add). The interpolation per output element is Resize's.

AffineGrid applies theta to every grid point: each of the r output coordinates is r
multiplies and r adds (theta row · (x, 1)): 2r² per point (2-D 8, 3-D 18). Building the base
grid (one linspace per axis) is per-axis setup, not counted.
"""

from __future__ import annotations

from math import prod

from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, formula

LERP_OPS = 3
"""One 1-D linear interpolation a + w·(b - a): subtract, multiply, add."""
CUBIC_SUM_OPS = 7
"""One 4-tap weighted sum: 4 multiplies, 3 adds."""
GRID_UNNORMALISE_OPS = 2
"""Grid coordinate -> input coordinate: g·a + b with per-axis constants a, b."""
GRID_MODE_OPS = {"nearest": 1, "linear": 3, "cubic": 2 + 26}
"""Per grid point and spatial dim after unnormalising: round; floor, fraction, 1 - fraction;
floor, fraction and the four Keys cubic weights (26, from the Horner forms with constants folded)."""
GRID_PADDING_OPS = {"zeros": 0, "border": 2, "reflection": 7}
"""Per grid point and spatial dim: bounds checks are control flow; a clamp is a min and a max;
a reflection is subtract, abs, divide, floor, fmod (multiply, subtract), signed add."""


def interpolation_ops(mode: str, axes: int) -> int:
    """Ops per output element of an interpolation over ``axes`` axes in ``mode``."""
    if axes == 0 or mode == "nearest":
        return 0
    if mode == "linear":
        return LERP_OPS * ((1 << axes) - 1)
    if mode == "cubic":
        return CUBIC_SUM_OPS * ((1 << (2 * axes)) - 1) // 3
    raise Uncountable(f"unknown interpolation mode {mode!r}")


def _resized_axes(call: OpCall) -> tuple[int, bool]:
    """(axes whose size changes, whether any of them shrinks)."""
    x, y = call.in_shape(0), call.out_shape()
    if len(x) != len(y):
        raise Uncountable(f"{call.op}: input {x} and output {y} have different ranks")
    changed = [(i, o) for i, o in zip(x, y, strict=True) if i != o]
    return len(changed), any(o < i for i, o in changed)


def _resample(call: OpCall, mode: str) -> Arith:
    axes, shrinks = _resized_axes(call)
    if mode != "nearest" and axes and shrinks and call.attr_int("antialias", 0):
        raise Uncountable(f"{call.op}: antialiased downscaling widens the filter per output position")
    return Arith(ops=interpolation_ops(mode, axes) * call.out_numel())


@formula(
    "Resize", category=Category.RESIZE, meta_inputs=(1, 2, 3),
    example=Example(((1, 3, 4, 4), None, ((4,), "float32")), ((1, 3, 8, 8),), {"mode": "linear"}, ops=1728),
)
def resize(call: OpCall) -> Arith:
    """Per output element, d = axes whose size changes: nearest 0; linear 3·(2^d-1); cubic 7·(4^d-1)/3."""
    return _resample(call, call.attr_str("mode", "nearest"))


@formula(
    "Upsample", category=Category.RESIZE, meta_inputs=(1,),
    example=Example(((1, 1, 2, 2), ((4,), "float32")), ((1, 1, 4, 4),), {"mode": "linear"}, ops=144),
)
def upsample(call: OpCall) -> Arith:
    """As Resize: per output element nearest 0, linear (or bilinear) 3·(2^d-1), d = axes whose size changes."""
    mode = call.attr_str("mode", "nearest")
    return _resample(call, "linear" if mode == "bilinear" else mode)


@formula(
    "GridSample", category=Category.RESIZE,
    example=Example(
        ((1, 3, 5, 5), (1, 4, 4, 2)), ((1, 3, 4, 4),), {"mode": "linear", "padding_mode": "zeros"}, ops=592,
    ),
)
def grid_sample(call: OpCall) -> Arith:
    """Per output element: Resize's interpolation over r dims; + per grid point and dim: 2 + mode (1/3/28) + padding (0/2/7)."""
    x, grid, y = call.in_shape(0), call.in_shape(1), call.out_shape()
    r = len(x) - 2
    if r < 1 or len(grid) != r + 2 or grid[-1] != r or len(y) != len(x):
        raise Uncountable(f"GridSample: X {x}, grid {grid} and Y {y} do not fit")
    mode = call.attr_str("mode", "linear")
    mode = {"bilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    padding = call.attr_str("padding_mode", "zeros")
    if mode not in GRID_MODE_OPS:
        raise Uncountable(f"GridSample: unknown mode {mode!r}")
    if padding not in GRID_PADDING_OPS:
        raise Uncountable(f"GridSample: unknown padding_mode {padding!r}")
    points = prod(grid[:-1])
    setup = points * r * (GRID_UNNORMALISE_OPS + GRID_MODE_OPS[mode] + GRID_PADDING_OPS[padding])
    return Arith(ops=setup + interpolation_ops(mode, r) * call.out_numel())


@formula(
    "AffineGrid", category=Category.RESIZE, meta_inputs=(1,),
    example=Example(((2, 2, 3), ((4,), "int64")), ((2, 5, 6, 2),), ops=480),
)
def affine_grid(call: OpCall) -> Arith:
    """2r² per grid point: each of r coordinates is theta's row · (x, 1), r multiplies + r adds (2-D 8, 3-D 18)."""
    theta, grid = call.in_shape(0), call.out_shape()
    if len(theta) != 3 or theta[1] not in (2, 3) or theta[2] != theta[1] + 1:
        raise Uncountable(f"AffineGrid: theta must be (N, 2, 3) or (N, 3, 4), got {theta}")
    r = theta[1]
    if len(grid) != r + 2 or grid[-1] != r:
        raise Uncountable(f"AffineGrid: grid {grid} does not fit theta {theta}")
    points = prod(grid[:-1])
    return Arith(ops=2 * r * r * points)
