"""Static shapes re-inferred through a TFLite graph when an input's non-batch dims change.

A file stores every tensor's shape for one input size. When the user profiles it at another
(``--input x=1x1280`` for a file stored at 1x1), the dims marked -1 in ``shape_signature`` follow
the input: this module walks the main subgraph's operators in order and computes each output's
shape from its inputs' shapes, the operator's options and its constant operands (axes,
permutations, shapes), by each kernel's rule. Only the dims the signature marks dynamic take the
inferred size: a static dim of the file that disagrees, an unknown operator or an input this does
not understand leaves the output unknown, and the frontend then marks those dims ``?`` (the ops
that read them are listed as not counted, never guessed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from math import prod

import numpy as np

from edgeprof.frontends.tflite._graph import decode_values
from edgeprof.frontends.tflite._read import TfModel, TfOperator, TfSubgraph, TfTensor

Dims = tuple[int, ...]
_ELEMENTWISE = frozenset({
    "ABS", "NEG", "EXP", "LOG", "SQRT", "RSQRT", "SIN", "COS", "FLOOR", "CEIL", "ROUND", "SIGN", "SQUARE", "RELU",
    "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "TANH", "LOGISTIC", "HARD_SWISH", "GELU", "ELU", "LEAKY_RELU", "SOFTMAX",
    "LOG_SOFTMAX", "L2_NORMALIZATION", "QUANTIZE", "DEQUANTIZE", "CAST", "LOGICAL_NOT", "ZEROS_LIKE", "ONES_LIKE",
    "CUMSUM", "PRELU",
})
_BINARY = frozenset({
    "ADD", "SUB", "MUL", "DIV", "POW", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "FLOOR_DIV", "FLOOR_MOD",
    "EQUAL", "NOT_EQUAL", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "LOGICAL_AND", "LOGICAL_OR",
})
_REDUCE = frozenset({"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "REDUCE_ANY", "REDUCE_ALL"})


class _Skip(Exception):
    """The rule cannot give this output's shape."""


class _Walk:
    def __init__(self, model: TfModel, sg: TfSubgraph, inputs: dict[int, Dims]) -> None:
        self.model, self.sg = model, sg
        self.shapes: dict[int, Dims] = dict(inputs)
        produced = {o for op in sg.operators for o in op.outputs}
        for t in sg.tensors:  # constants and tensors the file fixes keep the file's shape
            if t.index not in inputs and t.shape is not None and (t.index not in produced or _fixed(t)):
                self.shapes[t.index] = tuple(t.shape)

    def dims(self, op: TfOperator, k: int) -> Dims:
        i = op.inputs[k] if k < len(op.inputs) else -1
        if i < 0 or i not in self.shapes:
            raise _Skip
        return self.shapes[i]

    def ints(self, op: TfOperator, k: int) -> list[int]:
        i = op.inputs[k] if k < len(op.inputs) else -1
        if i < 0:
            raise _Skip
        t = self.sg.tensors[i]
        buf = self.model.buffers[t.buffer] if t.buffer < len(self.model.buffers) else None
        if buf is None or buf.data is None or t.shape is None or t.dtype.name not in ("int32", "int64"):
            raise _Skip
        values = decode_values(buf.data, t.dtype.name, prod(t.shape))
        if values is None:
            raise _Skip
        return [int(v) for v in values]

    def run(self) -> dict[int, Dims]:
        for op in self.sg.operators:
            rule = _RULES.get(op.name)
            if rule is None or not op.outputs:
                continue
            try:
                out = rule(self, op)
            except (_Skip, ValueError, IndexError, ZeroDivisionError):
                continue
            t = self.sg.tensors[op.outputs[0]]
            if _fits(t, out):
                self.shapes[op.outputs[0]] = out
        return self.shapes


def _fixed(t: TfTensor) -> bool:
    return t.signature is None or all(d >= 0 for d in t.signature)


def _fits(t: TfTensor, dims: Dims) -> bool:
    """The inferred shape has the file's rank, no negative dim, and the file's size at every dim
    the signature does not mark dynamic."""
    if t.shape is None or len(dims) != len(t.shape) or any(d < 0 for d in dims):
        return False
    sig = t.signature if t.signature is not None else t.shape
    return all(s < 0 or d == f for d, f, s in zip(dims, t.shape, sig, strict=True))


def _axis(a: int, rank: int) -> int:
    if not -rank <= a < max(rank, 1):
        raise _Skip
    return a + rank if a < 0 else a


def _same(w: _Walk, op: TfOperator) -> Dims:
    return w.dims(op, 0)


def _broadcast(w: _Walk, op: TfOperator) -> Dims:
    return tuple(int(d) for d in np.broadcast_shapes(w.dims(op, 0), w.dims(op, 1)))


def _expand_dims(w: _Walk, op: TfOperator) -> Dims:
    x = list(w.dims(op, 0))
    (axis,) = w.ints(op, 1)
    x.insert(_axis(axis, len(x) + 1), 1)
    return tuple(x)


def _squeeze(w: _Walk, op: TfOperator) -> Dims:
    x = w.dims(op, 0)
    given = op.options.get("SqueezeDims") or ()
    axes = {_axis(int(a), len(x)) for a in given} if given else {i for i, d in enumerate(x) if d == 1}
    if any(x[a] != 1 for a in axes):
        raise _Skip
    return tuple(d for i, d in enumerate(x) if i not in axes)


def _transpose(w: _Walk, op: TfOperator) -> Dims:
    x = w.dims(op, 0)
    perm = w.ints(op, 1)
    if sorted(perm) != list(range(len(x))):
        raise _Skip
    return tuple(x[p] for p in perm)


def _reshape(w: _Walk, op: TfOperator) -> Dims:
    x = w.dims(op, 0)
    try:
        shape = w.ints(op, 1)
    except _Skip:
        new = op.options.get("NewShape")
        if not new:
            raise
        shape = [int(d) for d in new]
    if shape.count(-1) > 1:
        raise _Skip
    known = prod(d for d in shape if d != -1)
    if -1 in shape:
        if known == 0 or prod(x) % known:
            raise _Skip
        shape = [prod(x) // known if d == -1 else d for d in shape]
    if prod(shape) != prod(x):
        raise _Skip
    return tuple(shape)


def _spatial(i: int, k: int, s: int, d: int, padding: object) -> int:
    if s < 1 or d < 1:
        raise _Skip
    span = (k - 1) * d + 1
    if padding == 0:  # SAME
        return -(-i // s)
    if padding == 1:  # VALID
        return max(0, -(-(i - span + 1) // s))
    raise _Skip


def _opt(op: TfOperator, key: str) -> int:
    v = op.options.get(key, 1)
    return int(v) if isinstance(v, (int, float)) else 1


def _conv(w: _Walk, op: TfOperator) -> Dims:
    x, f = w.dims(op, 0), w.dims(op, 1)
    if len(x) != 4 or len(f) != 4:
        raise _Skip
    pad = op.options.get("Padding", 0)
    h = _spatial(x[1], f[1], _opt(op, "StrideH"), _opt(op, "DilationHFactor"), pad)
    wd = _spatial(x[2], f[2], _opt(op, "StrideW"), _opt(op, "DilationWFactor"), pad)
    return (x[0], h, wd, f[3] if op.name == "DEPTHWISE_CONV_2D" else f[0])


def _pool(w: _Walk, op: TfOperator) -> Dims:
    x = w.dims(op, 0)
    if len(x) != 4:
        raise _Skip
    pad = op.options.get("Padding", 0)
    h = _spatial(x[1], _opt(op, "FilterHeight"), _opt(op, "StrideH"), 1, pad)
    wd = _spatial(x[2], _opt(op, "FilterWidth"), _opt(op, "StrideW"), 1, pad)
    return (x[0], h, wd, x[3])


def _fully_connected(w: _Walk, op: TfOperator) -> Dims:
    x, f = w.dims(op, 0), w.dims(op, 1)
    if len(f) != 2 or f[1] == 0 or prod(x) % f[1]:
        raise _Skip
    if op.options.get("KeepNumDims"):
        return (*x[:-1], f[0])
    return (prod(x) // f[1], f[0])


def _batch_matmul(w: _Walk, op: TfOperator) -> Dims:
    a, b = list(w.dims(op, 0)), list(w.dims(op, 1))
    if len(a) < 2 or len(b) < 2:
        raise _Skip
    if op.options.get("AdjX"):
        a[-2], a[-1] = a[-1], a[-2]
    if op.options.get("AdjY"):
        b[-2], b[-1] = b[-1], b[-2]
    if a[-1] != b[-2]:
        raise _Skip
    batch = tuple(int(d) for d in np.broadcast_shapes(tuple(a[:-2]), tuple(b[:-2])))
    return (*batch, a[-2], b[-1])


def _reduce(w: _Walk, op: TfOperator) -> Dims:
    x = w.dims(op, 0)
    axes = {_axis(a, len(x)) for a in w.ints(op, 1)}
    if op.options.get("KeepDims"):
        return tuple(1 if i in axes else d for i, d in enumerate(x))
    return tuple(d for i, d in enumerate(x) if i not in axes)


def _concat(w: _Walk, op: TfOperator) -> Dims:
    parts = [w.dims(op, k) for k in range(len(op.inputs))]
    axis = _axis(int(op.options.get("Axis", 0)), len(parts[0]))
    if any(len(p) != len(parts[0]) for p in parts):
        raise _Skip
    return tuple(sum(p[axis] for p in parts) if i == axis else d for i, d in enumerate(parts[0]))


_RULES: dict[str, Callable[[_Walk, TfOperator], Dims]] = {
    **dict.fromkeys(_ELEMENTWISE, _same), **dict.fromkeys(_BINARY, _broadcast), **dict.fromkeys(_REDUCE, _reduce),
    "EXPAND_DIMS": _expand_dims, "SQUEEZE": _squeeze, "TRANSPOSE": _transpose, "RESHAPE": _reshape,
    "CONV_2D": _conv, "DEPTHWISE_CONV_2D": _conv, "AVERAGE_POOL_2D": _pool, "MAX_POOL_2D": _pool,
    "L2_POOL_2D": _pool, "FULLY_CONNECTED": _fully_connected, "BATCH_MATMUL": _batch_matmul,
    "CONCATENATION": _concat,
}


def infer_shapes(model: TfModel, inputs: Mapping[int, Sequence[int]]) -> dict[int, Dims]:
    """The static shape of every main-subgraph tensor this can work out, by index, from the
    main graph's ``inputs`` (tensor index -> the shape the user set)."""
    return _Walk(model, model.subgraphs[0], {i: tuple(int(d) for d in s) for i, s in inputs.items()}).run()
