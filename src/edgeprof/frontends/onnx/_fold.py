"""A small constant evaluator for the shape computations exported models carry.

``Shape -> Gather -> Div -> Concat -> Reshape`` and friends compute shapes at run time from
other shapes. Where ONNX's own inference stops, these rules evaluate such ops with numpy on
small tensors (their values are known: initializers, Constant nodes, ``--value`` inputs, the
shapes of statically shaped values). Every rule follows the ONNX operator spec; an input it
does not understand makes it give up (returns None), never guess.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import reduce
from math import prod
from typing import Any

import numpy as np

from edgeprof.frontends.common import np_dtype_of

FOLD_LIMIT = 1 << 16  # elements: larger results are not kept as values (their shape still is)

Arrays = Sequence[np.ndarray | None]
Attrs = Mapping[str, Any]
Rule = Callable[[Arrays, Attrs], list[np.ndarray] | None]


class NotFoldable(Exception):
    """The rule cannot evaluate this call (an unknown input, a bad attribute, a huge result)."""


def fold(op: str, inputs: Arrays, attrs: Attrs, out_elem: Sequence[int | None] = ()) -> list[np.ndarray] | None:
    """Evaluate ``op`` on known ``inputs`` (None = omitted optional input); None when it cannot.
    ``out_elem`` are the ONNX element types the outputs are known to have (cast to them)."""
    rule = _RULES.get(op)
    if rule is None:
        return None
    try:
        with np.errstate(all="ignore"):
            outs = rule(inputs, attrs)
    except (NotFoldable, ValueError, TypeError, IndexError, OverflowError, ZeroDivisionError, MemoryError):
        return None
    if outs is None:
        return None
    fixed: list[np.ndarray] = []
    for i, arr in enumerate(outs):
        arr = np.asarray(arr)
        want = out_elem[i] if i < len(out_elem) else None
        if want:
            np_want = np_dtype_of(want)
            if np_want is None:
                return None
            if arr.dtype != np_want:
                with np.errstate(all="ignore"):
                    arr = arr.astype(np_want)
        fixed.append(arr)
    return fixed


# ---- helpers ---------------------------------------------------------------------------------


def _need(x: np.ndarray | None) -> np.ndarray:
    if x is None:
        raise NotFoldable("missing input")
    return x


def _arg(inputs: Arrays, i: int) -> np.ndarray | None:
    return inputs[i] if i < len(inputs) else None


def _ints(x: np.ndarray | None) -> list[int]:
    if x is None:
        raise NotFoldable("missing input")
    if x.dtype.kind not in "iub":
        raise NotFoldable("not an integer tensor")
    return [int(v) for v in x.reshape(-1).tolist()]


def _scalar(x: np.ndarray | None) -> Any:
    x = _need(x)
    if x.size != 1:
        raise NotFoldable("not a scalar")
    return x.reshape(-1)[0].item()


def _guard(shape: Sequence[int]) -> tuple[int, ...]:
    shape = tuple(int(d) for d in shape)
    if any(d < 0 for d in shape) or prod(shape) > FOLD_LIMIT:
        raise NotFoldable("result too large")
    return shape


def _axis(axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise NotFoldable("axis out of range")
    return axis + rank if axis < 0 else axis


def _broadcast(*xs: np.ndarray) -> None:
    _guard(np.broadcast_shapes(*(x.shape for x in xs)))


def _axes_of(inputs: Arrays, attrs: Attrs, i: int) -> list[int] | None:
    """Axes from input ``i`` (newer opsets) or the ``axes`` attribute (older ones)."""
    if _arg(inputs, i) is not None:
        return _ints(inputs[i])
    if "axes" in attrs:
        return [int(a) for a in attrs["axes"]]
    return None


# ---- rules -----------------------------------------------------------------------------------


def _identity(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    return [_need(_arg(inputs, 0))]


def _size(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    return [np.array(_need(_arg(inputs, 0)).size, dtype=np.int64)]


def _shape(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    return [shape_of(_need(_arg(inputs, 0)).shape, attrs)]


def shape_of(dims: Sequence[int], attrs: Attrs) -> np.ndarray:
    """``Shape``'s output for ``dims`` (``start``/``end`` attributes, opset 15)."""
    rank = len(dims)
    start = int(attrs.get("start", 0))
    end = attrs.get("end")
    start = min(max(start + rank if start < 0 else start, 0), rank)
    stop = rank if end is None else int(end)
    stop = min(max(stop + rank if stop < 0 else stop, 0), rank)
    return np.array(list(dims)[start:stop], dtype=np.int64)


def _gather(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    data, idx = _need(_arg(inputs, 0)), _need(_arg(inputs, 1))
    axis = _axis(int(attrs.get("axis", 0)), data.ndim)
    n = data.shape[axis]
    ids = np.asarray(_ints(idx), dtype=np.int64).reshape(idx.shape)
    if np.any(ids < -n) or np.any(ids >= n):
        raise NotFoldable("index out of range")
    ids = np.where(ids < 0, ids + n, ids)
    _guard((*data.shape[:axis], *ids.shape, *data.shape[axis + 1 :]))
    return [np.take(data, ids, axis=axis)]


def _gather_elements(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    data, idx = _need(_arg(inputs, 0)), _need(_arg(inputs, 1))
    axis = _axis(int(attrs.get("axis", 0)), data.ndim)
    n = data.shape[axis]
    ids = np.asarray(_ints(idx), dtype=np.int64).reshape(idx.shape)
    ids = np.where(ids < 0, ids + n, ids)
    return [np.take_along_axis(data, ids, axis=axis)]


def _unsqueeze(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    axes = _axes_of(inputs, attrs, 1)
    if axes is None:
        raise NotFoldable("no axes")
    rank = x.ndim + len(axes)
    norm = sorted(_axis(a, rank) for a in axes)
    if len(set(norm)) != len(norm):
        raise NotFoldable("repeated axis")
    shape = list(x.shape)
    for a in norm:
        shape.insert(a, 1)
    return [x.reshape(shape)]


def _squeeze(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    axes = _axes_of(inputs, attrs, 1)
    if axes is None:
        return [np.squeeze(x)]
    norm = tuple(_axis(a, x.ndim) for a in axes)
    if any(x.shape[a] != 1 for a in norm):
        raise NotFoldable("squeezing a dim that is not 1")
    return [np.squeeze(x, axis=norm)]


def _concat(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    xs = [x for x in inputs if x is not None]
    if len(xs) != len(inputs) or not xs:
        raise NotFoldable("missing input")
    axis = _axis(int(attrs.get("axis", 0)), xs[0].ndim)
    dtype = np.result_type(*xs)
    return [np.concatenate([x.astype(dtype) for x in xs], axis=axis)]


def slice_bounds(dim: int, start: int, end: int, step: int) -> range:
    """The indices ONNX ``Slice`` takes along one axis (clamping as the spec says)."""
    if step == 0:
        raise NotFoldable("step 0")
    if start < 0:
        start += dim
    if end < 0:
        end += dim
    if step > 0:
        start = min(max(start, 0), dim)
        end = min(max(end, 0), dim)
    else:
        start = min(max(start, -1), dim - 1)
        end = min(max(end, -1), dim - 1)
    return range(start, end, step)


def slice_params(inputs: Arrays, attrs: Attrs, rank: int) -> list[tuple[int, int, int, int]]:
    """(axis, start, end, step) for each sliced axis, from inputs (opset >= 10) or attributes."""
    if rank == 0:
        raise NotFoldable("a scalar cannot be sliced")
    if _arg(inputs, 1) is not None or _arg(inputs, 2) is not None:
        starts, ends = _ints(_arg(inputs, 1)), _ints(_arg(inputs, 2))
        axes = _ints(inputs[3]) if _arg(inputs, 3) is not None else list(range(len(starts)))
        steps = _ints(inputs[4]) if _arg(inputs, 4) is not None else [1] * len(starts)
    else:
        if "starts" not in attrs or "ends" not in attrs:
            raise NotFoldable("no starts/ends")
        starts = [int(v) for v in attrs["starts"]]
        ends = [int(v) for v in attrs["ends"]]
        axes = [int(v) for v in attrs.get("axes", range(len(starts)))]
        steps = [1] * len(starts)
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise NotFoldable("slice parameters differ in length")
    return [(_axis(a, rank), s, e, st) for a, s, e, st in zip(axes, starts, ends, steps, strict=True)]


def slice_shape(dims: Sequence[int], params: list[tuple[int, int, int, int]]) -> tuple[int, ...]:
    out = list(dims)
    for axis, s, e, st in params:
        out[axis] = len(slice_bounds(dims[axis], s, e, st))
    return tuple(out)


def _slice(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    index: list[Any] = [slice(None)] * x.ndim
    for axis, s, e, st in slice_params(inputs, attrs, x.ndim):
        index[axis] = np.array(list(slice_bounds(x.shape[axis], s, e, st)), dtype=np.int64)
    out = x
    for axis, idx in enumerate(index):
        if isinstance(idx, np.ndarray):
            out = np.take(out, idx, axis=axis)
    return [out]


def _cast(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    target = np_dtype_of(int(attrs.get("to", 0)))
    if target is None:
        raise NotFoldable("cast to a type without numbers")
    return [_cast_to(x, target)]


def _cast_to(x: np.ndarray, target: np.dtype[Any]) -> np.ndarray:
    if x.dtype.kind == "f" and target.kind in "iu":
        if not np.all(np.isfinite(x)):
            raise NotFoldable("casting a non-finite float to int")
        return np.asarray(np.trunc(x)).astype(target)
    return x.astype(target)


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Rule:
    def rule(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
        a, b = _need(_arg(inputs, 0)), _need(_arg(inputs, 1))
        _broadcast(a, b)
        out = fn(a, b)
        if a.dtype == b.dtype and out.dtype != a.dtype and out.dtype.kind != "b":
            out = out.astype(a.dtype)
        return [out]

    return rule


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        if np.any(b == 0):
            raise NotFoldable("integer division by zero")
        q = np.abs(a) // np.abs(b)
        return np.asarray(np.where((a < 0) ^ (b < 0), -q, q)).astype(a.dtype)  # truncation, as C++ does
    return np.asarray(a / b)


def _mod(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    a, b = _need(_arg(inputs, 0)), _need(_arg(inputs, 1))
    _broadcast(a, b)
    if a.dtype.kind in "iu" and np.any(b == 0):
        raise NotFoldable("modulo by zero")
    if int(attrs.get("fmod", 0)) == 1:
        return [np.fmod(a, b)]
    if a.dtype.kind == "f":
        raise NotFoldable("float Mod needs fmod=1")
    return [np.mod(a, b)]


def _unary(fn: Callable[[np.ndarray], np.ndarray], floats_only: bool = False) -> Rule:
    def rule(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
        x = _need(_arg(inputs, 0))
        if floats_only and x.dtype.kind != "f":
            raise NotFoldable("float op on a non-float tensor")
        return [np.asarray(fn(x)).astype(x.dtype)]

    return rule


def _not(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    return [np.logical_not(_need(_arg(inputs, 0)))]


def _where(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    c, a, b = _need(_arg(inputs, 0)), _need(_arg(inputs, 1)), _need(_arg(inputs, 2))
    _broadcast(c, a, b)
    return [np.where(c.astype(bool), a, b).astype(np.result_type(a, b))]


def range_length(start: Any, limit: Any, delta: Any) -> int:
    """Number of elements ``Range(start, limit, delta)`` produces."""
    if delta == 0:
        raise NotFoldable("Range with delta 0")
    if all(isinstance(v, int) for v in (start, limit, delta)):
        return int(max(-((start - limit) // delta), 0))
    return int(max(math.ceil((limit - start) / delta), 0))


def _range(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    start, limit, delta = _scalar(x), _scalar(_arg(inputs, 1)), _scalar(_arg(inputs, 2))
    n = range_length(start, limit, delta)
    _guard((n,))
    return [(start + np.arange(n, dtype=np.float64 if x.dtype.kind == "f" else np.int64) * delta).astype(x.dtype)]


def _constant_of_shape(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    shape = _guard(_ints(_arg(inputs, 0)))
    value = attrs.get("value")
    if value is None:
        return [np.zeros(shape, dtype=np.float32)]
    if not isinstance(value, np.ndarray) or value.size != 1:
        raise NotFoldable("value is not a one-element tensor")
    return [np.full(shape, value.reshape(-1)[0], dtype=value.dtype)]


def _reduce(fn: Callable[..., np.ndarray]) -> Rule:
    def rule(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
        x = _need(_arg(inputs, 0))
        axes = _axes_of(inputs, attrs, 1)
        keep = bool(int(attrs.get("keepdims", 1)))
        if not axes:
            if int(attrs.get("noop_with_empty_axes", 0)) == 1:
                return [x]
            norm: tuple[int, ...] = tuple(range(x.ndim))
        else:
            norm = tuple(_axis(a, x.ndim) for a in axes)
        out = fn(x, axis=norm, keepdims=keep)
        return [np.asarray(out).astype(x.dtype)]

    return rule


def _variadic(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Rule:
    def rule(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
        xs = [_need(x) for x in inputs]
        if not xs:
            raise NotFoldable("no inputs")
        _broadcast(*xs)
        return [np.asarray(reduce(fn, xs)).astype(xs[0].dtype)]

    return rule


def reshape_dims(in_dims: Sequence[int], shape: Sequence[int], allowzero: bool) -> tuple[int, ...]:
    """The output dims of ``Reshape`` (0 copies the input dim unless ``allowzero``; one -1)."""
    out: list[int] = []
    infer = -1
    for i, d in enumerate(shape):
        if d == -1:
            if infer >= 0:
                raise NotFoldable("two -1 dims")
            infer = i
            out.append(1)
        elif d == 0 and not allowzero:
            if i >= len(in_dims):
                raise NotFoldable("0 dim beyond the input's rank")
            out.append(in_dims[i])
        elif d < 0:
            raise NotFoldable("negative dim")
        else:
            out.append(d)
    total = prod(in_dims)
    if infer >= 0:
        rest = prod(out)
        if rest == 0 or total % rest:
            raise NotFoldable("cannot infer the -1 dim")
        out[infer] = total // rest
    if prod(out) != total:
        raise NotFoldable("element count differs")
    return tuple(out)


def _reshape(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    dims = reshape_dims(x.shape, _ints(_arg(inputs, 1)), bool(int(attrs.get("allowzero", 0))))
    return [x.reshape(dims)]


def expand_dims(in_dims: Sequence[int], shape: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(d) for d in np.broadcast_shapes(tuple(in_dims), tuple(shape)))


def _expand(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    dims = _guard(expand_dims(x.shape, _ints(_arg(inputs, 1))))
    return [np.array(np.broadcast_to(x, dims))]


def unsqueeze_dims(in_dims: Sequence[int], axes: Sequence[int]) -> tuple[int, ...]:
    """Unsqueeze's output shape: a 1 inserted at each axis of the output's rank."""
    rank = len(in_dims) + len(axes)
    picked = sorted(_axis(a, rank) for a in axes)
    if len(set(picked)) != len(picked):
        raise NotFoldable("repeated axes")
    rest = iter(in_dims)
    return tuple(1 if i in picked else int(next(rest)) for i in range(rank))


def squeeze_dims(in_dims: Sequence[int], axes: Sequence[int]) -> tuple[int, ...]:
    """Squeeze's output shape: the listed size-1 axes dropped (every size-1 axis when none are listed)."""
    picked = {_axis(a, len(in_dims)) for a in axes} if axes else {i for i, d in enumerate(in_dims) if d == 1}
    if any(in_dims[i] != 1 for i in picked):
        raise NotFoldable("squeezing an axis whose size is not 1")
    return tuple(int(d) for i, d in enumerate(in_dims) if i not in picked)


def tile_dims(in_dims: Sequence[int], repeats: Sequence[int]) -> tuple[int, ...]:
    if len(repeats) != len(in_dims) or any(r < 0 for r in repeats):
        raise NotFoldable("repeats do not match the rank")
    return tuple(d * r for d, r in zip(in_dims, repeats, strict=True))


def _tile(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    reps = _ints(_arg(inputs, 1))
    _guard(tile_dims(x.shape, reps))
    return [np.tile(x, reps)]


def _transpose(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    perm = attrs.get("perm")
    return [np.transpose(x, None if perm is None else [int(p) for p in perm])]


def _flatten(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    axis = int(attrs.get("axis", 1))
    axis = axis + x.ndim if axis < 0 else axis
    if not 0 <= axis <= x.ndim:
        raise NotFoldable("axis out of range")
    return [x.reshape(prod(x.shape[:axis]), prod(x.shape[axis:]))]


def _clip(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    lo = _arg(inputs, 1)
    hi = _arg(inputs, 2)
    lo_v = _scalar(lo) if lo is not None else attrs.get("min")
    hi_v = _scalar(hi) if hi is not None else attrs.get("max")
    out = x
    if lo_v is not None:
        out = np.maximum(out, lo_v)
    if hi_v is not None:
        out = np.minimum(out, hi_v)
    return [np.asarray(out).astype(x.dtype)]


def _split(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    axis = _axis(int(attrs.get("axis", 0)), x.ndim)
    if _arg(inputs, 1) is not None:
        sizes = _ints(inputs[1])
    elif "split" in attrs:
        sizes = [int(s) for s in attrs["split"]]
    else:
        n = int(attrs.get("num_outputs", attrs.get("_outputs", 0)))
        if n <= 0:
            raise NotFoldable("unknown number of outputs")
        each = -(-x.shape[axis] // n)
        sizes = [min(each, max(x.shape[axis] - each * i, 0)) for i in range(n)]
    if sum(sizes) != x.shape[axis]:
        raise NotFoldable("split sizes do not add up")
    cuts = np.cumsum(sizes)[:-1]
    return list(np.split(x, cuts, axis=axis))


def _nonzero(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    return [np.array(np.nonzero(x), dtype=np.int64).reshape(x.ndim, -1)]


def _cumsum(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    axis = _axis(int(_scalar(_arg(inputs, 1))), x.ndim)
    exclusive = int(attrs.get("exclusive", 0)) == 1
    reverse = int(attrs.get("reverse", 0)) == 1
    y = np.flip(x, axis) if reverse else x
    out = np.cumsum(y, axis=axis, dtype=x.dtype)
    if exclusive:
        out = out - y
    return [np.flip(out, axis) if reverse else out]


def _cast_like(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    target = attrs.get("_target_dtype")
    if not isinstance(target, np.dtype):
        raise NotFoldable("unknown target type")
    return [_cast_to(x, target)]


def _pow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.dtype.kind != "f":
        raise NotFoldable("integer Pow")
    return np.asarray(np.power(a, b))


def _erf(x: np.ndarray) -> np.ndarray:
    return np.asarray(np.vectorize(math.erf, otypes=[np.float64])(x))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def _relu(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    return [np.maximum(x, 0).astype(x.dtype)]


def _nan_check(fn: Callable[[np.ndarray], np.ndarray]) -> Rule:
    def rule(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
        x = _need(_arg(inputs, 0))
        if x.dtype.kind != "f":
            return [np.zeros(x.shape, dtype=np.bool_)]
        return [np.asarray(fn(x))]

    return rule


def _mean(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    xs = [_need(x) for x in inputs]
    if not xs or xs[0].dtype.kind != "f":
        raise NotFoldable("Mean of no input or of integers")
    _broadcast(*xs)
    return [np.asarray(reduce(np.add, xs) / len(xs)).astype(xs[0].dtype)]


def _float_reduce(fn: Callable[..., np.ndarray]) -> Rule:
    inner = _reduce(fn)

    def rule(inputs: Arrays, attrs: Attrs) -> list[np.ndarray] | None:
        x = _need(_arg(inputs, 0))
        if x.dtype.kind != "f":
            raise NotFoldable("integer mean or norm")  # ONNX truncates where numpy would not
        return inner(inputs, attrs)

    return rule


def _arg_reduce(fn: Callable[..., np.ndarray]) -> Rule:
    def rule(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
        x = _need(_arg(inputs, 0))
        if x.size == 0:
            raise NotFoldable("empty input")
        axis = _axis(int(attrs.get("axis", 0)), x.ndim)
        if int(attrs.get("select_last_index", 0)):
            flipped = np.flip(x, axis)
            out = x.shape[axis] - 1 - fn(flipped, axis=axis)
        else:
            out = fn(x, axis=axis)
        if int(attrs.get("keepdims", 1)):
            out = np.expand_dims(out, axis)
        return [np.asarray(out, dtype=np.int64)]

    return rule


def _matmul(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    a, b = _need(_arg(inputs, 0)), _need(_arg(inputs, 1))
    if a.ndim == 0 or b.ndim == 0:
        raise NotFoldable("MatMul of a scalar")
    if a.ndim >= 2 and b.ndim >= 2:
        _guard((*np.broadcast_shapes(a.shape[:-2], b.shape[:-2]), a.shape[-2], b.shape[-1]))
    return [np.asarray(np.matmul(a, b))]


def pad_widths(rank: int, pads: Sequence[int], axes: Sequence[int] | None) -> list[tuple[int, int]]:
    """Pad's (before, after) per dim from its ``pads`` input (begins then ends) over ``axes``
    (all dims when None); negative pads crop."""
    picked = [_axis(a, rank) for a in axes] if axes is not None else list(range(rank))
    if len(pads) != 2 * len(picked):
        raise NotFoldable("pads do not fit the axes")
    before, after = [0] * rank, [0] * rank
    for i, a in enumerate(picked):
        before[a], after[a] = int(pads[i]), int(pads[i + len(picked)])
    return list(zip(before, after, strict=True))


def pad_dims(in_dims: Sequence[int], pads: Sequence[int], axes: Sequence[int] | None) -> tuple[int, ...]:
    """Pad's output shape (the spec's shape rule: each dim + its begin and end pads)."""
    dims = tuple(int(d) + b + e for d, (b, e) in zip(in_dims, pad_widths(len(in_dims), pads, axes), strict=True))
    if any(d < 0 for d in dims):
        raise NotFoldable("pads crop a dim below 0")
    return dims


def _pad(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    x = _need(_arg(inputs, 0))
    pads = _ints(_arg(inputs, 1)) if _arg(inputs, 1) is not None else [int(p) for p in attrs.get("pads", [])]
    axes = _ints(_arg(inputs, 3)) if _arg(inputs, 3) is not None else None
    widths = pad_widths(x.ndim, pads, axes)
    if any(b < 0 or e < 0 for b, e in widths):
        raise NotFoldable("negative pads (crops)")
    _guard(pad_dims(x.shape, pads, axes))
    mode = str(attrs.get("mode", "constant"))
    if mode == "constant":
        v = _arg(inputs, 2)
        value = _scalar(v) if v is not None else attrs.get("value", 0)
        return [np.pad(x, widths, mode="constant", constant_values=value)]
    if mode in ("reflect", "edge", "wrap"):
        return [np.pad(x, widths, mode=mode)]  # type: ignore[call-overload]
    raise NotFoldable(f"Pad mode {mode}")


def _scatter_nd(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    data, idx, upd = _need(_arg(inputs, 0)), _need(_arg(inputs, 1)), _need(_arg(inputs, 2))
    if str(attrs.get("reduction", "none")) != "none":
        raise NotFoldable("ScatterND with a reduction")
    ids = np.asarray(_ints(idx), dtype=np.int64).reshape(idx.shape)
    if ids.ndim == 0:
        raise NotFoldable("scalar indices")
    out = data.copy()
    k = int(ids.shape[ids.ndim - 1])
    flat_ids = ids.reshape(-1, k)
    flat_upd = upd.reshape(flat_ids.shape[0], *data.shape[k:])
    for i, index in enumerate(flat_ids):
        out[tuple(int(j) for j in index)] = flat_upd[i]
    return [out]


def _scatter_elements(inputs: Arrays, attrs: Attrs) -> list[np.ndarray]:
    data, idx, upd = _need(_arg(inputs, 0)), _need(_arg(inputs, 1)), _need(_arg(inputs, 2))
    if str(attrs.get("reduction", "none")) != "none":
        raise NotFoldable("ScatterElements with a reduction")
    axis = _axis(int(attrs.get("axis", 0)), data.ndim)
    n = data.shape[axis]
    ids = np.asarray(_ints(idx), dtype=np.int64).reshape(idx.shape)
    ids = np.where(ids < 0, ids + n, ids)
    out = data.copy()
    np.put_along_axis(out, ids, upd.astype(data.dtype), axis=axis)
    return [out]


_RULES: dict[str, Rule] = {
    "Identity": _identity,
    "Shape": _shape,
    "Size": _size,
    "Gather": _gather,
    "GatherElements": _gather_elements,
    "Unsqueeze": _unsqueeze,
    "Squeeze": _squeeze,
    "Concat": _concat,
    "Slice": _slice,
    "Cast": _cast,
    "CastLike": _cast_like,
    "Add": _binary(np.add),
    "Sub": _binary(np.subtract),
    "Mul": _binary(np.multiply),
    "Div": _binary(_div),
    "Pow": _binary(_pow),
    "Mod": _mod,
    "Neg": _unary(np.negative),
    "Abs": _unary(np.abs),
    "Sign": _unary(np.sign),
    "Floor": _unary(np.floor, floats_only=True),
    "Ceil": _unary(np.ceil, floats_only=True),
    "Round": _unary(np.round, floats_only=True),
    "Sqrt": _unary(np.sqrt, floats_only=True),
    "Reciprocal": _unary(np.reciprocal, floats_only=True),
    "Equal": _binary(np.equal),
    "Less": _binary(np.less),
    "Greater": _binary(np.greater),
    "LessOrEqual": _binary(np.less_equal),
    "GreaterOrEqual": _binary(np.greater_equal),
    "And": _binary(np.logical_and),
    "Or": _binary(np.logical_or),
    "Xor": _binary(np.logical_xor),
    "Not": _not,
    "Where": _where,
    "Range": _range,
    "ConstantOfShape": _constant_of_shape,
    "ReduceProd": _reduce(np.prod),
    "ReduceSum": _reduce(np.sum),
    "ReduceMin": _reduce(np.min),
    "ReduceMax": _reduce(np.max),
    "Min": _variadic(np.minimum),
    "Max": _variadic(np.maximum),
    "Sum": _variadic(np.add),
    "Reshape": _reshape,
    "Expand": _expand,
    "Tile": _tile,
    "Transpose": _transpose,
    "Flatten": _flatten,
    "Clip": _clip,
    "Split": _split,
    "NonZero": _nonzero,
    "CumSum": _cumsum,
    "Exp": _unary(np.exp, floats_only=True),
    "Log": _unary(np.log, floats_only=True),
    "Tanh": _unary(np.tanh, floats_only=True),
    "Sigmoid": _unary(_sigmoid, floats_only=True),
    "Erf": _unary(_erf, floats_only=True),
    "Sin": _unary(np.sin, floats_only=True),
    "Cos": _unary(np.cos, floats_only=True),
    "Relu": _relu,
    "IsNaN": _nan_check(np.isnan),
    "IsInf": _nan_check(np.isinf),
    "Mean": _mean,
    "ReduceMean": _float_reduce(np.mean),
    "ReduceL1": _float_reduce(lambda x, axis, keepdims: np.sum(np.abs(x), axis=axis, keepdims=keepdims)),
    "ReduceL2": _float_reduce(lambda x, axis, keepdims: np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))),
    "ReduceSumSquare": _float_reduce(lambda x, axis, keepdims: np.sum(x * x, axis=axis, keepdims=keepdims)),
    "ArgMax": _arg_reduce(np.argmax),
    "ArgMin": _arg_reduce(np.argmin),
    "MatMul": _matmul,
    "Pad": _pad,
    "ScatterND": _scatter_nd,
    "ScatterElements": _scatter_elements,
}


def foldable_ops() -> frozenset[str]:
    return frozenset(_RULES)
