"""TFLite's kernels with a multiply-accumulate core and the pools, mapped onto the ONNX canonical
ops (one registry, one set of formulas):

* CONV_2D -> Conv (weights OHWI: ``kernel_layout="OSI"``), DEPTHWISE_CONV_2D -> Conv with
  group = Cin (weights 1HW(Cin·multiplier): ``"ISO"``), CONV_3D -> Conv (DHWIO: ``"SIO"``),
  TRANSPOSE_CONV -> ConvTranspose (OHWI), all ``channels_last=1`` (NHWC); SAME padding is
  ``auto_pad=SAME_UPPER`` (TFLite puts the odd pixel at the end), VALID is VALID; the output's
  spatial size is computed from the padding and checked against the file's;
* FULLY_CONNECTED -> Gemm(transB=1) on the input flattened to (M, K) (a view, as the kernel
  does), the output reshaped back (a view) with keep_num_dims; BATCH_MATMUL -> MatMul with
  ``adj_x``/``adj_y``;
* quantised (integer input with scales): CONV_2D/DEPTHWISE -> QLinearConv, FULLY_CONNECTED ->
  com.microsoft::QGemm, BATCH_MATMUL -> QLinearMatMul, with the scales and the non-zero zero
  points as inputs (a zero point of 0 is not subtracted, so it is not passed);
* AVERAGE_POOL_2D/MAX_POOL_2D/L2_POOL_2D -> AveragePool/MaxPool/LpPool(p=2), NHWC;
* MediaPipe's custom ``Convolution2DTransposeBias`` (in every MediaPipe segmentation model):
  inputs (input, filter OHWI, bias), custom options the packed ``TfLiteTransposeConvParams``
  (padding, stride_width, stride_height as int32) -> ConvTranspose with the bias, like TRANSPOSE_CONV.
"""

from __future__ import annotations

import struct
from math import prod

from edgeprof.frontends.tflite._emit import emit, is_quantised, qoperand
from edgeprof.frontends.tflite._graph import GraphBuilder
from edgeprof.frontends.tflite._read import TfOperator
from edgeprof.ir import AttrValue, Shape, Value
from edgeprof.ir.dtype import INT32

_PADDING = {0: "SAME_UPPER", 1: "VALID"}
_TFLITE_C_PADDING = {1: "SAME_UPPER", 2: "VALID"}  # TfLitePadding (the C API's enum) in custom options


def _opt_int(op: TfOperator, key: str, default: int) -> int:
    v = op.options.get(key, default)
    return int(v) if isinstance(v, (int, float)) else default


def _padding(b: GraphBuilder, op: TfOperator) -> str:
    pad = op.options.get("Padding", 0)
    if pad not in _PADDING:
        raise b.fail(f"operator {op.index} ({op.name}) has unknown padding {pad}")
    return _PADDING[int(pad)]


def _static(b: GraphBuilder, index: int) -> tuple[int, ...] | None:
    v = b.value(index)
    return v.shape.static() if v.shape is not None and v.shape.is_static else None


def _check_spatial(b: GraphBuilder, op: TfOperator, spatial_in: tuple[int, ...], kernel: tuple[int, ...],
                   strides: tuple[int, ...], dilations: tuple[int, ...], pad: str) -> None:
    """The output's spatial dims must be what the padding gives."""
    y = _static(b, op.outputs[0])
    if y is None or len(y) != len(spatial_in) + 2:
        return
    expected = []
    for i, k, s, d in zip(spatial_in, kernel, strides, dilations, strict=True):
        if s < 1 or d < 1:
            raise b.fail(f"operator {op.index} ({op.name}) has stride {s} / dilation {d}; both must be >= 1")
        span = (k - 1) * d + 1
        expected.append(-(-i // s) if pad == "SAME_UPPER" else max(0, -(-(i - span + 1) // s)))
    if tuple(expected) != y[1:-1]:
        raise b.fail(
            f"operator {op.index} ({op.name}) writes {b.name(op.outputs[0])!r} as {'x'.join(map(str, y))}, but "
            f"{pad} padding of an input of spatial size {'x'.join(map(str, spatial_in))} gives "
            f"{'x'.join(map(str, expected))}"
        )


def _quant_or_float(b: GraphBuilder, op: TfOperator, x: int, w: int) -> bool:
    return is_quantised(b, x) and is_quantised(b, w) and is_quantised(b, op.outputs[0])


def conv(b: GraphBuilder, op: TfOperator) -> None:
    """CONV_2D, DEPTHWISE_CONV_2D, CONV_3D."""
    if len(op.inputs) < 2 or not op.outputs:
        raise b.fail(f"operator {op.index} ({op.name}) needs an input, a filter and an output")
    xi, wi = op.inputs[0], op.inputs[1]
    bias = op.inputs[2] if len(op.inputs) > 2 else -1
    three_d = op.name == "CONV_3D"
    rank = 3 if three_d else 2
    axes = ("D", "H", "W") if three_d else ("H", "W")
    strides = tuple(_opt_int(op, f"Stride{a}", 1) for a in axes)
    dilations = tuple(_opt_int(op, f"Dilation{a}Factor", 1) for a in axes)
    x, w = _static(b, xi), _static(b, wi)
    layout = "SIO" if three_d else ("ISO" if op.name == "DEPTHWISE_CONV_2D" else "OSI")
    attrs: dict[str, AttrValue] = {
        "strides": strides, "dilations": dilations, "auto_pad": _padding(b, op), "channels_last": 1,
        "kernel_layout": layout,
    }
    if x is not None and w is not None and len(x) == rank + 2 and len(w) == rank + 2:
        kernel = w[:-2] if three_d else w[1:-1]
        attrs["kernel_shape"] = kernel
        if op.name == "DEPTHWISE_CONV_2D":
            attrs["group"] = x[-1]
            if x[-1] == 0 or w[-1] % x[-1]:
                raise b.fail(f"operator {op.index} (DEPTHWISE_CONV_2D): {w[-1]} output channels are not a multiple "
                             f"of the {x[-1]} input channels")
            attrs["depth_multiplier"] = w[-1] // x[-1]
        else:
            cin_per_group = w[-2] if three_d else w[-1]
            if cin_per_group and x[-1] % cin_per_group == 0 and x[-1] != cin_per_group:
                attrs["group"] = x[-1] // cin_per_group  # grouped CONV_2D (filter's Cin < input's)
        _check_spatial(b, op, x[1:-1], kernel, strides, dilations, str(attrs["auto_pad"]))
    if not three_d and _quant_or_float(b, op, xi, wi):
        out_q = qoperand(b, op.outputs[0])[1:]
        emit(b, op, "QLinearConv", (*qoperand(b, xi), *qoperand(b, wi), *out_q, b.name(bias)), attrs)
        return
    emit(b, op, "Conv", (b.name(xi), b.name(wi), b.name(bias)), attrs)


def transpose_conv(b: GraphBuilder, op: TfOperator) -> None:
    """TRANSPOSE_CONV: inputs (output_shape, filter OHWI, input, [bias])."""
    if len(op.inputs) < 3 or not op.outputs:
        raise b.fail(f"operator {op.index} (TRANSPOSE_CONV) needs output_shape, filter and input")
    wi, xi = op.inputs[1], op.inputs[2]
    bias = op.inputs[3] if len(op.inputs) > 3 else -1
    strides = (_opt_int(op, "StrideH", 1), _opt_int(op, "StrideW", 1))
    attrs: dict[str, AttrValue] = {"strides": strides, "auto_pad": _padding(b, op), "channels_last": 1,
                                   "kernel_layout": "OSI"}
    w, y = _static(b, wi), _static(b, op.outputs[0])
    declared = b.const(op.inputs[0])
    if declared is not None and y is not None and tuple(int(d) for d in declared) != y:
        raise b.fail(f"operator {op.index} (TRANSPOSE_CONV): output_shape {tuple(declared)} differs from the output "
                     f"tensor's shape {y}")
    if w is not None and len(w) == 4:
        attrs["kernel_shape"] = w[1:3]
    if _quant_or_float(b, op, xi, wi):
        _quantised_transpose_conv(b, op, xi, wi, bias, attrs)
        return
    emit(b, op, "ConvTranspose", (b.name(xi), b.name(wi), b.name(bias)), attrs)


def transpose_conv_bias(b: GraphBuilder, op: TfOperator) -> None:
    """MediaPipe's custom Convolution2DTransposeBias: inputs (input, filter OHWI, bias); the custom
    options hold TfLiteTransposeConvParams (padding, stride_width, stride_height: three int32)."""
    raw = op.options.get("CustomOptions", b"")
    if len(op.inputs) < 3 or not op.outputs or not isinstance(raw, bytes) or len(raw) < 12:
        b.node(op, op.name, tuple(b.name(i) for i in op.inputs), tuple(b.name(i) for i in op.outputs))
        return  # not the layout MediaPipe writes: listed as not counted, by name
    padding, stride_w, stride_h = struct.unpack("<3i", raw[:12])
    if padding not in _TFLITE_C_PADDING or stride_w < 1 or stride_h < 1:
        raise b.fail(f"operator {op.index} ({op.name}) has padding {padding}, strides {stride_h}x{stride_w}")
    xi, wi, bias = op.inputs[0], op.inputs[1], op.inputs[2]
    attrs: dict[str, AttrValue] = {"strides": (stride_h, stride_w), "auto_pad": _TFLITE_C_PADDING[padding],
                                   "channels_last": 1, "kernel_layout": "OSI"}
    w = _static(b, wi)
    if w is not None and len(w) == 4:
        attrs["kernel_shape"] = w[1:3]
    emit(b, op, "ConvTranspose", (b.name(xi), b.name(wi), b.name(bias)), attrs)


def _quantised_transpose_conv(b: GraphBuilder, op: TfOperator, xi: int, wi: int, bias: int,
                              attrs: dict[str, AttrValue]) -> None:
    """int8/int16 TRANSPOSE_CONV: there is no canonical quantised transposed conv, so the kernel's
    three steps are three canonical nodes, each counted by its own formula with QLinearConv's
    conventions: ``Sub`` (the input's zero point, 1 per input element, only when it is not 0;
    in place), ``ConvTranspose`` into the int32 accumulator (scatter MACs + the bias add), and
    ``QuantizeLinear`` of the accumulator with the output scale (4 per output element:
    :data:`~edgeprof.ops.primitives.REQUANT_OPS`' multiply by the combined scale, round, add the
    zero point, saturate). The weights' zero points are 0 (symmetric), as TFLite requires."""
    x_name = b.name(xi)
    _, _, x_zp = qoperand(b, xi)
    if x_zp:
        shifted = b.temp(x_name, b.value(xi), "minus_zero_point")
        b.node(op, "Sub", (x_name, x_zp), (shifted,), {"inplace": 1}, suffix="zero_point",
               source="TRANSPOSE_CONV (input zero point)")
        x_name = shifted
    out = b.name(op.outputs[0])
    y_val = b.value(op.outputs[0])
    acc = b.temp(out, y_val, "accumulator")
    b.values[acc] = Value(acc, INT32, y_val.shape)
    b.node(op, "ConvTranspose", (x_name, b.name(wi), b.name(bias)), (acc,), attrs, suffix="accumulate",
           source="TRANSPOSE_CONV (int32 accumulator)")
    y_scale = qoperand(b, op.outputs[0])[1]
    emit(b, op, "QuantizeLinear", (acc, y_scale), {"requantise": 1})


def fully_connected(b: GraphBuilder, op: TfOperator) -> None:
    """FULLY_CONNECTED: y = x·Wᵀ + b over the input flattened to (M, K)."""
    if len(op.inputs) < 2 or not op.outputs:
        raise b.fail(f"operator {op.index} (FULLY_CONNECTED) needs an input and weights")
    xi, wi = op.inputs[0], op.inputs[1]
    bias = op.inputs[2] if len(op.inputs) > 2 else -1
    x_val, w, out = b.value(xi), _static(b, wi), b.name(op.outputs[0])
    x_in = b.name(xi)
    if w is None or len(w) != 2:
        raise b.fail(f"operator {op.index} (FULLY_CONNECTED): weights must be 2-D (N, K), got {b.value(wi).shape}")
    n, k = w
    x = _static(b, xi)
    if x is not None and len(x) != 2:
        if k == 0 or _numel(x) % k:
            raise b.fail(f"operator {op.index} (FULLY_CONNECTED): input {x} does not flatten to rows of {k}")
        x_in = b.temp(b.name(xi), x_val, "rows", Shape((_numel(x) // k if k else 0, k)))
        b.node(op, "Reshape", (b.name(xi),), (x_in,), suffix="flatten", source="FULLY_CONNECTED (input as rows)")
    y_val = b.value(op.outputs[0])
    gemm_out = out
    rows_shape = b.values[x_in].shape
    if y_val.shape is not None and y_val.shape.rank != 2 and rows_shape is not None and rows_shape.rank == 2:
        gemm_out = b.temp(out, y_val, "rows", Shape((rows_shape.dims[0], n)))
    attrs: dict[str, AttrValue] = {"transB": 1}
    if op.options.get("KeepNumDims"):
        attrs["keep_num_dims"] = 1
    if _quant_or_float(b, op, xi, wi):
        inputs = (*qoperand(b, xi, x_in), *qoperand(b, wi), b.name(bias), *qoperand(b, op.outputs[0])[1:])
        emit(b, op, "com.microsoft::QGemm", inputs, attrs, outputs=(gemm_out,))
    else:
        emit(b, op, "Gemm", (x_in, b.name(wi), b.name(bias)), attrs, outputs=(gemm_out,))
    if gemm_out != out:
        b.node(op, "Reshape", (gemm_out,), (out,), suffix="keep_num_dims", source="FULLY_CONNECTED (output dims)")


def _numel(dims: tuple[int, ...]) -> int:
    return prod(dims)


def batch_matmul(b: GraphBuilder, op: TfOperator) -> None:
    if len(op.inputs) < 2:
        raise b.fail(f"operator {op.index} (BATCH_MATMUL) needs two inputs")
    ai, bi = op.inputs[0], op.inputs[1]
    attrs: dict[str, AttrValue] = {"adj_x": int(bool(op.options.get("AdjX"))), "adj_y": int(bool(op.options.get("AdjY")))}
    if _quant_or_float(b, op, ai, bi):
        emit(b, op, "QLinearMatMul", (*qoperand(b, ai), *qoperand(b, bi), *qoperand(b, op.outputs[0])[1:]), attrs)
        return
    emit(b, op, "MatMul", (b.name(ai), b.name(bi)), attrs)


_POOLS = {"AVERAGE_POOL_2D": "AveragePool", "MAX_POOL_2D": "MaxPool", "L2_POOL_2D": "LpPool"}


def pool(b: GraphBuilder, op: TfOperator) -> None:
    if not op.inputs or not op.outputs:
        raise b.fail(f"operator {op.index} ({op.name}) needs an input and an output")
    kernel = (_opt_int(op, "FilterHeight", 1), _opt_int(op, "FilterWidth", 1))
    strides = (_opt_int(op, "StrideH", 1), _opt_int(op, "StrideW", 1))
    pad = _padding(b, op)
    attrs: dict[str, AttrValue] = {"kernel_shape": kernel, "strides": strides, "auto_pad": pad, "channels_last": 1}
    if op.name == "L2_POOL_2D":
        attrs["p"] = 2
    x = _static(b, op.inputs[0])
    if x is not None and len(x) == 4:
        _check_spatial(b, op, x[1:3], kernel, strides, (1, 1), pad)
    xq, yq = b.tensor(op.inputs[0]).quant, b.tensor(op.outputs[0]).quant
    if is_quantised(b, op.inputs[0]) and xq != yq:
        b.ctx.notices.append(
            f"{op.name} {b.name(op.outputs[0])!r}: the int input and output have different scales or zero points; "
            "the rescale TFLite's kernel would need is not in the count (the pool is counted as on equal scales)"
        )
    emit(b, op, _POOLS[op.name], (b.name(op.inputs[0]),), attrs)
