"""Output types of ONNX Runtime's quantised ``com.microsoft`` ops, which neither ONNX's shape
inference nor onnxruntime's symbolic shape inference knows (QOperator-format models written by
``onnxruntime.quantization.quantize_static``):

* ``QLinearAdd``/``QLinearMul`` (A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp): numpy
  broadcast of A and B, A's element type;
* ``QLinearGlobalAveragePool`` (X, x_scale, x_zp, y_scale, y_zp): spatial dims become 1 (NCHW, or
  NHWC with ``channels_last=1``), X's element type;
* ``QGemm`` (A, a_scale, a_zp, B, b_scale, b_zp, C, y_scale, y_zp): (M, N) from A, B and
  ``transA``/``transB``; y_zp's element type (int8/uint8), float32 without ``y_scale``;
* ``QLinearAveragePool`` (X, x_scale, x_zp, y_scale, y_zp): AveragePool's output size per spatial
  axis from ``kernel_shape``, ``strides``, ``pads``/``auto_pad`` and ``ceil_mode`` (NCHW, or NHWC
  with ``channels_last=1``), X's element type;

and the ops of ``quantize_dynamic`` (QOperator-format dynamic quantisation):

* ``DynamicQuantizeLSTM`` (X, W, R, B, sequence_lens, initial_h, initial_c, P, W_scale, W_zp,
  R_scale, R_zp; W is (D, I, 4H), R is (D, H, 4H)): Y (S, D, B, H), Y_h and Y_c (D, B, H), X's
  element type (``layout=1``: batch first, Y (B, S, D, H), Y_h/Y_c (B, D, H));
* ``DynamicQuantizeMatMul`` (A float, B int), ``MatMulIntegerToFloat`` (A, B, a_scale, b_scale,
  ...): numpy matmul of A and B, float (a_scale's element type for MatMulIntegerToFloat);
* ``QLinearConcat`` (Y_scale, Y_zp, then X, scale, zp per input): Concat along ``axis``, the first
  X's element type;
* ``QLinearSigmoid``, ``QLinearLeakyRelu``, ``QLinearSoftmax``: X's shape and element type;
* ``QAttention`` and the float ``Attention`` (input (B, S, Hin), weight (Hin, Hq+Hk+Hv), bias, input_scale, weight_scale, ...):
  (B, S, Hv) (``qkv_hidden_sizes``, or the weight's columns split in three), bias's element type
  (Attention: the input's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from edgeprof.frontends.common import TType
from edgeprof.frontends.onnx_proto import TensorProto

CONTRIB_SHAPE_OPS = frozenset({
    "QLinearAdd", "QLinearMul", "QLinearGlobalAveragePool", "QLinearAveragePool", "QGemm",
    "DynamicQuantizeLSTM", "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "QLinearConcat",
    "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax", "QAttention", "Attention",
})


def _broadcast(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[int, ...] | None:
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b, strict=True):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            return None
    return tuple(out)


def _static(t: TType | None) -> tuple[int, ...] | None:
    return t.static_dims() if t is not None and t.is_static else None


def contrib_output_types(op: str, ins: Sequence[TType | None], attrs: Mapping[str, Any]) -> list[TType | None]:
    """The output types of one of :data:`CONTRIB_SHAPE_OPS` (None where not known)."""
    if op == "DynamicQuantizeLSTM":
        return _lstm_types(ins, attrs)
    if op == "QLinearConcat":
        return [_concat_type(ins, attrs)]
    return [contrib_output_type(op, ins, attrs)]


def _matmul_dims(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...] | None:
    if not a or not b:
        return None
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        return None
    batch = _broadcast(a2[:-2], b2[:-2])
    if batch is None:
        return None
    out = (*batch, a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def _lstm_types(ins: Sequence[TType | None], attrs: Mapping[str, Any]) -> list[TType | None]:
    x = _static(ins[0]) if ins else None
    w = _static(ins[1]) if len(ins) > 1 else None
    r = _static(ins[2]) if len(ins) > 2 else None
    if x is None or w is None or len(x) != 3 or len(w) != 3 or ins[0] is None:
        return [None]
    hidden = int(attrs.get("hidden_size", r[1] if r is not None and len(r) == 3 else 0))
    if hidden < 1:
        return [None]
    dirs = w[0]
    elem = ins[0].elem
    if attrs.get("layout", 0):
        batch, seq = x[0], x[1]
        return [TType(elem, (batch, seq, dirs, hidden)), TType(elem, (batch, dirs, hidden)), TType(elem, (batch, dirs, hidden))]
    seq, batch = x[0], x[1]
    return [TType(elem, (seq, dirs, batch, hidden)), TType(elem, (dirs, batch, hidden)), TType(elem, (dirs, batch, hidden))]


def _concat_type(ins: Sequence[TType | None], attrs: Mapping[str, Any]) -> TType | None:
    xs = [ins[i] for i in range(2, len(ins), 3)]
    dims = [_static(t) for t in xs]
    first = xs[0] if xs else None
    if not dims or first is None or any(d is None for d in dims):
        return None
    shapes = [d for d in dims if d is not None]
    rank = len(shapes[0])
    axis = int(attrs.get("axis", 0))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis < rank or any(len(d) != rank for d in shapes):
        return None
    if any(d[:axis] + d[axis + 1 :] != shapes[0][:axis] + shapes[0][axis + 1 :] for d in shapes):
        return None
    out = list(shapes[0])
    out[axis] = sum(d[axis] for d in shapes)
    return TType(first.elem, tuple(out))


def contrib_output_type(op: str, ins: Sequence[TType | None], attrs: Mapping[str, Any]) -> TType | None:
    """The type of output 0 of one of :data:`CONTRIB_SHAPE_OPS`, or None when its inputs are not known."""
    x = _static(ins[0]) if ins else None
    if x is None or ins[0] is None:
        return None
    elem = ins[0].elem
    if op in ("QLinearAdd", "QLinearMul"):
        b = _static(ins[3]) if len(ins) > 3 else None
        out = _broadcast(x, b) if b is not None else None
        return TType(elem, out) if out is not None else None
    if op == "QLinearGlobalAveragePool":
        if len(x) < 3:
            return None
        dims = (x[0], *([1] * (len(x) - 2)), x[-1]) if attrs.get("channels_last", 0) else (*x[:2], *([1] * (len(x) - 2)))
        return TType(elem, tuple(dims))
    if op == "QLinearAveragePool":
        return _average_pool_type(elem, x, attrs)
    if op in ("QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax"):
        return TType(elem, x)
    if op in ("DynamicQuantizeMatMul", "MatMulIntegerToFloat"):
        b = _static(ins[1]) if len(ins) > 1 else None
        out = _matmul_dims(x, b) if b is not None else None
        scale = ins[2] if op == "MatMulIntegerToFloat" and len(ins) > 2 else None
        out_elem = elem if op == "DynamicQuantizeMatMul" else (scale.elem if scale is not None and scale.elem else TensorProto.FLOAT)
        return TType(out_elem, out) if out is not None else None
    if op in ("QAttention", "Attention"):
        w = _static(ins[1]) if len(ins) > 1 else None
        if w is None or len(x) != 3 or len(w) != 2:
            return None
        sizes = [int(v) for v in attrs.get("qkv_hidden_sizes", [])]
        if len(sizes) == 3:
            hidden_v = sizes[2]
        elif w[1] % 3 == 0:
            hidden_v = w[1] // 3
        else:
            return None
        if op == "Attention":
            return TType(elem, (x[0], x[1], hidden_v))
        bias = ins[2] if len(ins) > 2 else None
        return TType(bias.elem if bias is not None and bias.elem else TensorProto.FLOAT, (x[0], x[1], hidden_v))
    if op == "QGemm":
        w = _static(ins[3]) if len(ins) > 3 else None
        if w is None or len(x) != 2 or len(w) != 2:
            return None
        m = x[1] if attrs.get("transA", 0) else x[0]
        n = w[0] if attrs.get("transB", 0) else w[1]
        zp = ins[8] if len(ins) > 8 else None
        has_scale = len(ins) > 7 and ins[7] is not None
        out_elem = (zp.elem if zp is not None and zp.elem else TensorProto.UINT8) if has_scale else TensorProto.FLOAT
        return TType(out_elem, (m, n))
    return None


def _pooled(size: int, kernel: int, stride: int, pad_total: int, ceil_mode: bool) -> int:
    span = size + pad_total - kernel
    return (-(-span // stride) if ceil_mode else span // stride) + 1


def _average_pool_type(elem: int, x: tuple[int, ...], attrs: Mapping[str, Any]) -> TType | None:
    kernel = [int(k) for k in attrs.get("kernel_shape", [])]
    if len(x) < 3 or len(kernel) != len(x) - 2 or min(kernel, default=0) < 1:
        return None
    channels_last = bool(attrs.get("channels_last", 0))
    spatial = x[1:-1] if channels_last else x[2:]
    rank = len(kernel)
    strides = [int(s) for s in attrs.get("strides", [1] * rank)]
    pads = [int(p) for p in attrs.get("pads", [0] * (2 * rank))]
    auto_pad = str(attrs.get("auto_pad", "NOTSET"))
    if len(strides) != rank or len(pads) != 2 * rank or min(strides) < 1:
        return None
    out = []
    for i, size in enumerate(spatial):
        if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            out.append(-(-size // strides[i]))
        elif auto_pad == "VALID":
            out.append(_pooled(size, kernel[i], strides[i], 0, False))
        else:
            out.append(_pooled(size, kernel[i], strides[i], pads[i] + pads[i + rank], bool(attrs.get("ceil_mode", 0))))
    if min(out) < 1:
        return None
    dims = (x[0], *out, x[-1]) if channels_last else (x[0], x[1], *out)
    return TType(elem, tuple(dims))
