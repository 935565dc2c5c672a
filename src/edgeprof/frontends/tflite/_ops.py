"""TFLite builtin operators -> the canonical (ONNX-named) ops of the registry.

One dispatch (:func:`map_operator`); the MAC kernels and pools are in ``_nn``, fused
activations in ``_emit``. The table of every mapping is in docs/tflite.md. An operator
with no mapping keeps its name as the op (``tflite::<NAME>``; custom ops ``CUSTOM:<code>``), which
no formula knows: it is listed as not counted, by name, never as zero.
"""

from __future__ import annotations

from collections.abc import Callable
from math import prod

from edgeprof.frontends.tflite._emit import emit, is_quantised, qoperand
from edgeprof.frontends.tflite._flow import call_once, if_op, while_op
from edgeprof.frontends.tflite._graph import GraphBuilder
from edgeprof.frontends.tflite._nn import (
    batch_matmul,
    conv,
    fully_connected,
    pool,
    transpose_conv,
    transpose_conv_bias,
)
from edgeprof.frontends.tflite._read import TfOperator
from edgeprof.frontends.tflite._rnn import lstm, rnn
from edgeprof.ir import AttrValue, Shape

Handler = Callable[[GraphBuilder, TfOperator], None]

# TFLite name -> (canonical op, which TFLite inputs it reads, in the canonical op's order)
_SIMPLE: dict[str, tuple[str, tuple[int, ...]]] = {
    # elementwise (binary, broadcast) and unary math
    "ADD": ("Add", (0, 1)), "SUB": ("Sub", (0, 1)), "MUL": ("Mul", (0, 1)), "DIV": ("Div", (0, 1)),
    "POW": ("Pow", (0, 1)), "MAXIMUM": ("Max", (0, 1)), "MINIMUM": ("Min", (0, 1)),
    "FLOOR_MOD": ("Mod", (0, 1)), "EQUAL": ("Equal", (0, 1)), "LESS": ("Less", (0, 1)),
    "LESS_EQUAL": ("LessOrEqual", (0, 1)), "GREATER": ("Greater", (0, 1)), "GREATER_EQUAL": ("GreaterOrEqual", (0, 1)),
    "LOGICAL_AND": ("And", (0, 1)), "LOGICAL_OR": ("Or", (0, 1)), "LOGICAL_NOT": ("Not", (0,)),
    "ABS": ("Abs", (0,)), "NEG": ("Neg", (0,)), "EXP": ("Exp", (0,)), "LOG": ("Log", (0,)), "SQRT": ("Sqrt", (0,)),
    "SIN": ("Sin", (0,)), "COS": ("Cos", (0,)), "FLOOR": ("Floor", (0,)), "CEIL": ("Ceil", (0,)),
    "ROUND": ("Round", (0,)), "SIGN": ("Sign", (0,)),
    # activations
    "RELU": ("Relu", (0,)), "TANH": ("Tanh", (0,)), "LOGISTIC": ("Sigmoid", (0,)), "HARD_SWISH": ("HardSwish", (0,)),
    "ELU": ("Elu", (0,)), "PRELU": ("PRelu", (0, 1)), "LOG_SOFTMAX": ("LogSoftmax", (0,)),
    # data movement
    "RESHAPE": ("Reshape", (0, 1)), "SQUEEZE": ("Squeeze", (0,)), "EXPAND_DIMS": ("Unsqueeze", (0, 1)),
    "PAD": ("Pad", (0, 1)), "PADV2": ("Pad", (0, 1, 2)), "MIRROR_PAD": ("Pad", (0, 1)),
    "STRIDED_SLICE": ("Slice", (0, 1, 2, 3)), "SLICE": ("Slice", (0, 1, 2)), "GATHER": ("Gather", (0, 1)),
    "GATHER_ND": ("GatherND", (0, 1)), "EMBEDDING_LOOKUP": ("Gather", (1, 0)), "TRANSPOSE": ("Transpose", (0,)),
    "CAST": ("Cast", (0,)), "TILE": ("Tile", (0, 1)), "BROADCAST_TO": ("Expand", (0, 1)),
    "DEPTH_TO_SPACE": ("DepthToSpace", (0,)), "SPACE_TO_DEPTH": ("SpaceToDepth", (0,)),
    "SELECT": ("Where", (0, 1, 2)), "SELECT_V2": ("Where", (0, 1, 2)), "SHAPE": ("Shape", (0,)),
    "FILL": ("ConstantOfShape", (0,)), "ONE_HOT": ("OneHot", (0, 1)), "SPLIT": ("Split", (1,)),
    "SPLIT_V": ("Split", (0, 1)), "UNPACK": ("Split", (0,)), "RANGE": ("Range", (0, 1, 2)),
    "ARG_MAX": ("ArgMax", (0,)), "ARG_MIN": ("ArgMin", (0,)), "TOPK_V2": ("TopK", (0, 1)),
    "CUMSUM": ("CumSum", (0, 1)),
    # reductions (the axes tensor is the canonical axes input)
    "MEAN": ("ReduceMean", (0, 1)), "SUM": ("ReduceSum", (0, 1)), "REDUCE_MAX": ("ReduceMax", (0, 1)),
    "REDUCE_MIN": ("ReduceMin", (0, 1)), "REDUCE_PROD": ("ReduceProd", (0, 1)), "REDUCE_ANY": ("ReduceMax", (0, 1)),
    "REDUCE_ALL": ("ReduceMin", (0, 1)),
    # resampling: X, roi, scales, sizes
    "RESIZE_BILINEAR": ("Resize", (0, -1, -1, 1)), "RESIZE_NEAREST_NEIGHBOR": ("Resize", (0, -1, -1, 1)),
    "L2_NORMALIZATION": ("LpNormalization", (0,)),
}
# TFLite ops that are two canonical ops in a row (SQUARED_DIFFERENCE's Mul squares the difference)
_PAIRS: dict[str, tuple[str, str]] = {
    "SQUARED_DIFFERENCE": ("Sub", "Mul"), "RSQRT": ("Sqrt", "Reciprocal"), "FLOOR_DIV": ("Div", "Floor"),
    "NOT_EQUAL": ("Equal", "Not"),
}
_CLIPS = {"RELU6": (0.0, 6.0), "RELU_N1_TO_1": (-1.0, 1.0), "RELU_0_TO_1": (0.0, 1.0)}
_QUANTISED_BINARY = {"ADD": "com.microsoft::QLinearAdd", "SUB": "com.microsoft::QLinearAdd",
                     "MUL": "com.microsoft::QLinearMul"}


def map_operator(b: GraphBuilder, op: TfOperator) -> None:
    """Emit the canonical node(s) of one TFLite operator."""
    handler = _HANDLERS.get(op.name)
    if handler is not None:
        handler(b, op)
    elif op.name in _SIMPLE:
        _simple(b, op)
    elif op.name in _PAIRS:
        _pair(b, op)
    elif op.name in _CLIPS:
        lo, hi = _CLIPS[op.name]
        emit(b, op, "Clip", _inputs(b, op, (0,)), {"min": lo, "max": hi})
    else:
        _unmapped(b, op)


def _inputs(b: GraphBuilder, op: TfOperator, order: tuple[int, ...]) -> tuple[str, ...]:
    names = []
    for k in order:
        names.append(b.name(op.inputs[k]) if 0 <= k < len(op.inputs) else "")
    while names and not names[-1]:
        names.pop()
    return tuple(names)


def _attrs(b: GraphBuilder, op: TfOperator) -> dict[str, AttrValue]:
    """The canonical attributes the formulas read, from the TFLite options."""
    o = op.options
    attrs: dict[str, AttrValue] = {}
    if op.name in ("CONCATENATION", "GATHER", "SPLIT", "UNPACK", "PACK") and isinstance(o.get("Axis"), int):
        attrs["axis"] = int(o["Axis"])
    if op.name in ("MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "REDUCE_ANY", "REDUCE_ALL"):
        attrs["keepdims"] = int(bool(o.get("KeepDims", False)))
    if op.name == "LEAKY_RELU":
        attrs["alpha"] = float(o.get("Alpha", 0.2))
    if op.name == "GELU":
        attrs["approximate"] = "tanh" if o.get("Approximate") else "none"
    if op.name.startswith("RESIZE_"):
        attrs["mode"] = "linear" if op.name == "RESIZE_BILINEAR" else "nearest"
    if op.name == "L2_NORMALIZATION":
        attrs.update(p=2, axis=-1)
    if op.name == "TRANSPOSE":
        perm = b.const(op.inputs[1]) if len(op.inputs) > 1 else None
        if perm is not None:
            attrs["perm"] = tuple(int(p) for p in perm)
    if op.name == "CUMSUM":
        attrs["exclusive"] = int(bool(o.get("Exclusive", False)))
        axis = b.const(op.inputs[1]) if len(op.inputs) > 1 else None
        if axis is not None and len(axis) == 1:
            attrs["axis"] = int(axis[0])
    return attrs


def _simple(b: GraphBuilder, op: TfOperator) -> None:
    canonical, order = _SIMPLE[op.name]
    if op.name in _QUANTISED_BINARY and len(op.inputs) >= 2 and op.outputs and all(
        is_quantised(b, i) for i in (op.inputs[0], op.inputs[1], op.outputs[0])
    ):
        inputs = (*qoperand(b, op.inputs[0]), *qoperand(b, op.inputs[1]), *qoperand(b, op.outputs[0])[1:])
        emit(b, op, _QUANTISED_BINARY[op.name], inputs)
        return
    emit(b, op, canonical, _inputs(b, op, order), _attrs(b, op))


def _mean_or_sum(b: GraphBuilder, op: TfOperator) -> None:
    """MEAN / SUM. Quantised (integer input and output with scales) over a contiguous block of
    axes: TFLite's kernel sums each output's m inputs, subtracts the input zero point once
    (m·zp) and requantises with a scale that folds the divide by m: the arithmetic of
    com.microsoft::QLinearGlobalAveragePool, which counts it (the input is viewed, by a Reshape,
    as (outer, m, inner) with ``channels_last=1``). Otherwise the float formula (ReduceMean /
    ReduceSum) at the input's precision."""
    if len(op.inputs) >= 2 and op.outputs and is_quantised(b, op.inputs[0]) and is_quantised(b, op.outputs[0]):
        view = _reduced_block(b, op)
        if view is not None:
            x = b.name(op.inputs[0])
            rows = b.temp(x, b.value(op.inputs[0]), "reduced_block", Shape(view))
            b.node(op, "Reshape", (x,), (rows,), suffix="reduced_block", source=f"{op.name} (reduced axes as one block)")
            inputs = (*qoperand(b, op.inputs[0], rows), *qoperand(b, op.outputs[0])[1:])
            emit(b, op, "com.microsoft::QLinearGlobalAveragePool", inputs, {"channels_last": 1, "reduce": op.name})
            return
    _simple(b, op)


def _reduced_block(b: GraphBuilder, op: TfOperator) -> tuple[int, int, int] | None:
    """(outer, m, inner) when the constant axes of a reduction are one contiguous block of a static input."""
    x = b.value(op.inputs[0])
    axes = b.const(op.inputs[1])
    if x.shape is None or not x.shape.is_static or axes is None or not axes:
        return None
    dims = x.shape.static()
    rank = len(dims)
    picked = sorted({int(a) % rank for a in axes}) if rank else []
    if not picked or picked != list(range(picked[0], picked[-1] + 1)):
        return None
    first, last = picked[0], picked[-1]
    return prod(dims[:first]), prod(dims[first : last + 1]), prod(dims[last + 1 :])


def _pair(b: GraphBuilder, op: TfOperator) -> None:
    first, second = _PAIRS[op.name]
    if not op.outputs:
        raise b.fail(f"operator {op.index} ({op.name}) has no output")
    out = b.name(op.outputs[0])
    mid = b.temp(out, b.values[out], first.lower())
    b.node(op, first, _inputs(b, op, (0,) if first == "Sqrt" else (0, 1)), (mid,), suffix=first)
    b.node(op, second, (mid, mid) if second == "Mul" else (mid,), (out,), {"inplace": 1})


def _square(b: GraphBuilder, op: TfOperator) -> None:
    x = b.name(op.inputs[0]) if op.inputs else ""
    emit(b, op, "Mul", (x, x))


def _concat(b: GraphBuilder, op: TfOperator) -> None:
    emit(b, op, "Concat", tuple(b.name(i) for i in op.inputs), _attrs(b, op))


def _softmax(b: GraphBuilder, op: TfOperator) -> None:
    beta = op.options.get("Beta", 1.0)
    if isinstance(beta, float) and beta != 1.0:
        b.ctx.notices.append(
            f"SOFTMAX {b.name(op.outputs[0]) if op.outputs else op.index!r} has beta={beta:g}: its multiply by beta "
            "(1 per element) is not in the count"
        )
    emit(b, op, "Softmax", _inputs(b, op, (0,)), {"axis": -1})


def _leaky_or_gelu(b: GraphBuilder, op: TfOperator) -> None:
    emit(b, op, "LeakyRelu" if op.name == "LEAKY_RELU" else "Gelu", _inputs(b, op, (0,)), _attrs(b, op))


def _quantize(b: GraphBuilder, op: TfOperator) -> None:
    if not op.inputs or not op.outputs:
        raise b.fail(f"operator {op.index} ({op.name}) needs an input and an output")
    x, y = op.inputs[0], op.outputs[0]
    if op.name == "QUANTIZE":
        scale, zp = b.quant_inputs(y)
        if not scale:
            raise b.fail(f"operator {op.index} (QUANTIZE): output {b.name(y)!r} has no quantisation parameters")
        emit(b, op, "QuantizeLinear", (b.name(x), scale, zp))
        return
    if b.tensor(x).dtype.is_float:  # DEQUANTIZE of float16 weights is a conversion
        emit(b, op, "Cast", (b.name(x),))
        return
    scale, zp = b.quant_inputs(x)
    if not scale:
        raise b.fail(f"operator {op.index} (DEQUANTIZE): input {b.name(x)!r} has no quantisation parameters")
    emit(b, op, "DequantizeLinear", (b.name(x), scale, zp))


def _unmapped(b: GraphBuilder, op: TfOperator) -> None:
    name = op.name if op.name.startswith("CUSTOM:") else f"tflite::{op.name}"
    b.node(op, name, tuple(b.name(i) for i in op.inputs), tuple(b.name(i) for i in op.outputs))


_HANDLERS: dict[str, Handler] = {
    "CONV_2D": conv, "DEPTHWISE_CONV_2D": conv, "CONV_3D": conv, "TRANSPOSE_CONV": transpose_conv,
    "FULLY_CONNECTED": fully_connected, "BATCH_MATMUL": batch_matmul,
    "AVERAGE_POOL_2D": pool, "MAX_POOL_2D": pool, "L2_POOL_2D": pool,
    "MEAN": _mean_or_sum, "SUM": _mean_or_sum, "CONCATENATION": _concat, "PACK": _concat, "SOFTMAX": _softmax, "SQUARE": _square,
    "LEAKY_RELU": _leaky_or_gelu, "GELU": _leaky_or_gelu, "QUANTIZE": _quantize, "DEQUANTIZE": _quantize,
    "WHILE": while_op, "IF": if_op, "CALL_ONCE": call_once,
    "CUSTOM:Convolution2DTransposeBias": transpose_conv_bias,
    "UNIDIRECTIONAL_SEQUENCE_LSTM": lstm, "BIDIRECTIONAL_SEQUENCE_LSTM": lstm, "LSTM": lstm,
    "UNIDIRECTIONAL_SEQUENCE_RNN": rnn, "BIDIRECTIONAL_SEQUENCE_RNN": rnn, "RNN": rnn,
}
