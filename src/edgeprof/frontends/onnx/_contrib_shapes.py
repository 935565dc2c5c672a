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
  with ``channels_last=1``), X's element type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from onnx import TensorProto

from edgeprof.frontends.common import TType

CONTRIB_SHAPE_OPS = frozenset({"QLinearAdd", "QLinearMul", "QLinearGlobalAveragePool", "QLinearAveragePool", "QGemm"})


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


def contrib_output_type(op: str, ins: Sequence[TType | None], attrs: Mapping[str, Any]) -> TType | None:
    """The output type of one of :data:`CONTRIB_SHAPE_OPS`, or None when its inputs are not known."""
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
