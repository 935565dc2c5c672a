"""Build the small ``.tflite`` test models with the flatbuffers builder (no TensorFlow).

Each ``*_model()`` function returns the bytes of one model; the tests import them and write the
files into a temporary folder. Run the script to write them all into a folder:

    .venv/bin/python scripts/make_tflite_models.py OUT_DIR

Models (closed-form counts in tests/frontends/tflite/test_models.py):

* ``float_cnn``: CONV_2D (+ fused RELU) -> DEPTHWISE_CONV_2D (multiplier 2, stride 2) ->
  AVERAGE_POOL_2D -> RESHAPE -> FULLY_CONNECTED -> SOFTMAX, dynamic batch;
* ``int8_cnn``: QUANTIZE -> int8 CONV_2D (per-channel weights, + fused RELU) -> RESHAPE -> int8
  FULLY_CONNECTED -> DEQUANTIZE;
* ``transpose_conv``: TRANSPOSE_CONV 4x4x2 -> 8x8x3, stride 2, SAME;
* ``custom_op``: a CUSTOM op ``MyOp`` between two RELUs (LiteRT cannot run it);
* ``while_loop``: WHILE (cond: i < 3; body: i + 1, x + x): three subgraphs;
* ``shared_weights``: two FULLY_CONNECTED whose weight tensors share one buffer;
* ``int8_misc``: QUANTIZE -> int8 TRANSPOSE_CONV (per-channel, bias) -> int8 AVERAGE_POOL_2D -> int8 MEAN
  (H, W; requantised) -> DEQUANTIZE;
* ``lstm``: UNIDIRECTIONAL_SEQUENCE_LSTM (float, TANH; batch 1, 3 steps, input 2, hidden 4; batch-major,
  or time-major and with peepholes through ``lstm_model``'s arguments);
* ``rnn``: UNIDIRECTIONAL_SEQUENCE_RNN (float, TANH, time-major; 4 steps, batch 2, input 3, hidden 5);
* ``birnn``: BIDIRECTIONAL_SEQUENCE_RNN (float, RELU, time-major, two outputs; 2 steps, batch 1, input 3,
  hidden 2);
* ``fp16_sparse``: weights expanded at load, the MediaPipe form: float16 constants -> DEQUANTIZE ->
  CONV_2D 1x1, and a sparse (CSR) float16 constant -> DENSIFY -> DEQUANTIZE -> FULLY_CONNECTED.

Weights are deterministic (a fixed seed), so the files are byte-for-byte reproducible.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flatbuffers
import numpy as np
from tflite.utils import BUILTIN_OPCODE2NAME

_CODE = {name: code for code, name in BUILTIN_OPCODE2NAME.items()}
FLOAT32, FLOAT16, INT32, UINT8, INT64, BOOL, INT8 = 0, 1, 2, 3, 4, 6, 9
_NP = {FLOAT32: np.float32, FLOAT16: np.float16, INT32: np.int32, INT8: np.int8, UINT8: np.uint8, INT64: np.int64,
       BOOL: np.bool_}
NONE, RELU, RELU6 = 0, 1, 3
SAME, VALID = 0, 1


@dataclass
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: int = FLOAT32
    data: bytes | None = None
    quant: tuple[Sequence[float], Sequence[int], int] | None = None  # scales, zero points, axis
    signature: tuple[int, ...] | None = None
    buffer: int | None = None  # share another tensor's buffer (its index in the model's buffers)
    variable: bool = False
    csr: tuple[Sequence[int], Sequence[int]] | None = None  # a sparse 2-D tensor: (row segments, column indices)


@dataclass
class Op:
    name: str  # builtin name, or "CUSTOM:<code>"
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    options: tuple[str, dict[str, Any]] | None = None  # (options table name, fields)
    custom_options: bytes | None = None  # a custom op's option bytes


@dataclass
class Subgraph:
    tensors: list[Tensor]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    ops: list[Op]
    name: str = ""


@dataclass
class _State:
    builder: flatbuffers.Builder
    buffers: list[bytes | None] = field(default_factory=lambda: [None])
    opcodes: list[str] = field(default_factory=list)


def _table(b: flatbuffers.Builder, name: str, fields: dict[str, Any]) -> int:
    """A table of the tflite schema from scalar and vector fields (vectors are lists of ints or floats)."""
    mod = importlib.import_module(f"tflite.{name}")
    vectors: dict[str, int] = {}
    for key, value in fields.items():
        if isinstance(value, (list, tuple)):
            vectors[key] = _vector(b, value, "f" if any(isinstance(v, float) for v in value) else "i")
    mod.Start(b)
    for key, value in fields.items():
        getattr(mod, f"Add{key}")(b, vectors.get(key, value))
    return int(mod.End(b))


def _vector(b: flatbuffers.Builder, values: Sequence[Any], kind: str) -> int:
    """A vector of int32 (``i``), int64 (``q``), float32 (``f``), uint8 (``B``) or offsets (``o``)."""
    size = {"i": 4, "q": 8, "f": 4, "B": 1, "o": 4}[kind]
    b.StartVector(size, len(values), size)
    for v in reversed(values):
        if kind == "o":
            b.PrependUOffsetTRelative(v)
        elif kind == "i":
            b.PrependInt32(int(v))
        elif kind == "q":
            b.PrependInt64(int(v))
        elif kind == "f":
            b.PrependFloat32(float(v))
        else:
            b.PrependUint8(int(v))
    return int(b.EndVector())


def _options_type(name: str) -> int:
    enum = importlib.import_module("tflite.BuiltinOptions").BuiltinOptions
    return int(getattr(enum, name))


def build(subgraphs: Sequence[Subgraph], description: str = "edgeprof test model") -> bytes:
    """Serialise ``subgraphs`` (the first is the main graph) into a .tflite flatbuffer."""
    st = _State(flatbuffers.Builder(4096))
    b = st.builder
    sg_offsets = [_subgraph(st, sg) for sg in subgraphs]
    buffer_offsets = []
    for data in st.buffers:
        data_off = b.CreateByteVector(data) if data else None
        mod = importlib.import_module("tflite.Buffer")
        mod.Start(b)
        if data_off is not None:
            mod.AddData(b, data_off)
        buffer_offsets.append(mod.End(b))
    code_offsets = []
    for name in st.opcodes:
        custom = b.CreateString(name.split(":", 1)[1]) if name.startswith("CUSTOM:") else None
        code = _CODE["CUSTOM"] if custom is not None else _CODE[name]
        mod = importlib.import_module("tflite.OperatorCode")
        mod.Start(b)
        mod.AddDeprecatedBuiltinCode(b, min(code, 127))
        mod.AddBuiltinCode(b, code)
        mod.AddVersion(b, 1)
        if custom is not None:
            mod.AddCustomCode(b, custom)
        code_offsets.append(mod.End(b))
    desc = b.CreateString(description)
    codes_vec = _vector(b, code_offsets, "o")
    sgs_vec = _vector(b, sg_offsets, "o")
    bufs_vec = _vector(b, buffer_offsets, "o")
    mod = importlib.import_module("tflite.Model")
    mod.Start(b)
    mod.AddVersion(b, 3)
    mod.AddOperatorCodes(b, codes_vec)
    mod.AddSubgraphs(b, sgs_vec)
    mod.AddDescription(b, desc)
    mod.AddBuffers(b, bufs_vec)
    b.Finish(mod.End(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _subgraph(st: _State, sg: Subgraph) -> int:
    b = st.builder
    tensor_offsets = [_tensor(st, t) for t in sg.tensors]
    op_offsets = []
    for op in sg.ops:
        if op.name not in st.opcodes:
            st.opcodes.append(op.name)
        opts = _table(b, op.options[0], op.options[1]) if op.options else None
        ins, outs = _vector(b, op.inputs, "i"), _vector(b, op.outputs, "i")
        custom = _vector(b, list(op.custom_options), "B") if op.custom_options is not None else None
        mod = importlib.import_module("tflite.Operator")
        mod.Start(b)
        mod.AddOpcodeIndex(b, st.opcodes.index(op.name))
        mod.AddInputs(b, ins)
        mod.AddOutputs(b, outs)
        if custom is not None:
            mod.AddCustomOptions(b, custom)
        if opts is not None and op.options is not None:
            mod.AddBuiltinOptionsType(b, _options_type(op.options[0]))
            mod.AddBuiltinOptions(b, opts)
        op_offsets.append(mod.End(b))
    name = b.CreateString(sg.name) if sg.name else None
    tensors, inputs, outputs = _vector(b, tensor_offsets, "o"), _vector(b, sg.inputs, "i"), _vector(b, sg.outputs, "i")
    ops = _vector(b, op_offsets, "o")
    mod = importlib.import_module("tflite.SubGraph")
    mod.Start(b)
    mod.AddTensors(b, tensors)
    mod.AddInputs(b, inputs)
    mod.AddOutputs(b, outputs)
    mod.AddOperators(b, ops)
    if name is not None:
        mod.AddName(b, name)
    return int(mod.End(b))


def _tensor(st: _State, t: Tensor) -> int:
    b = st.builder
    if t.buffer is not None:
        buffer = t.buffer
    elif t.data is not None:
        st.buffers.append(t.data)
        buffer = len(st.buffers) - 1
    else:
        st.buffers.append(None)
        buffer = len(st.buffers) - 1
    name = b.CreateString(t.name)
    shape = _vector(b, t.shape, "i")
    signature = _vector(b, t.signature, "i") if t.signature is not None else None
    quant = None
    if t.quant is not None:
        scales, zps, axis = t.quant
        s_vec, z_vec = _vector(b, list(scales), "f"), _vector(b, list(zps), "q")
        mod = importlib.import_module("tflite.QuantizationParameters")
        mod.Start(b)
        mod.AddScale(b, s_vec)
        mod.AddZeroPoint(b, z_vec)
        mod.AddQuantizedDimension(b, axis)
        quant = mod.End(b)
    sparsity = _csr(b, t.shape[0], *t.csr) if t.csr is not None else None
    mod = importlib.import_module("tflite.Tensor")
    mod.Start(b)
    mod.AddShape(b, shape)
    mod.AddType(b, t.dtype)
    mod.AddBuffer(b, buffer)
    mod.AddName(b, name)
    if quant is not None:
        mod.AddQuantization(b, quant)
    if signature is not None:
        mod.AddShapeSignature(b, signature)
    if t.variable:
        mod.AddIsVariable(b, True)
    if sparsity is not None:
        mod.AddSparsity(b, sparsity)
    return int(mod.End(b))


def _csr(b: flatbuffers.Builder, rows: int, segments: Sequence[int], indices: Sequence[int]) -> int:
    """SparsityParameters of a 2-D tensor: dim 0 dense, dim 1 CSR (Int32Vector segments and indices)."""
    vectors = []
    for values in (segments, indices):
        vec = _vector(b, values, "i")
        mod = importlib.import_module("tflite.Int32Vector")
        mod.Start(b)
        mod.AddValues(b, vec)
        vectors.append(mod.End(b))
    meta = importlib.import_module("tflite.DimensionMetadata")
    meta.Start(b)
    meta.AddFormat(b, 0)  # DENSE
    meta.AddDenseSize(b, rows)
    dense = meta.End(b)
    meta.Start(b)
    meta.AddFormat(b, 1)  # SPARSE_CSR
    meta.AddArraySegmentsType(b, 1)  # Int32Vector
    meta.AddArraySegments(b, vectors[0])
    meta.AddArrayIndicesType(b, 1)
    meta.AddArrayIndices(b, vectors[1])
    sparse = meta.End(b)
    order = _vector(b, [0, 1], "i")
    dims = _vector(b, [dense, sparse], "o")
    mod = importlib.import_module("tflite.SparsityParameters")
    mod.Start(b)
    mod.AddTraversalOrder(b, order)
    mod.AddDimMetadata(b, dims)
    return int(mod.End(b))


# ---- data helpers --------------------------------------------------------------------------------


def _rng() -> np.random.Generator:
    return np.random.default_rng(7)


def _arr(values: Any, dtype: int) -> bytes:
    return np.ascontiguousarray(np.asarray(values, dtype=_NP[dtype])).tobytes()


def _randf(rng: np.random.Generator, *shape: int) -> bytes:
    return _arr(rng.standard_normal(shape) * 0.3, FLOAT32)


def _conv_opts(padding: int, stride: int, act: int) -> tuple[str, dict[str, Any]]:
    return ("Conv2DOptions", {"Padding": padding, "StrideW": stride, "StrideH": stride, "FusedActivationFunction": act,
                              "DilationWFactor": 1, "DilationHFactor": 1})


# ---- the models ----------------------------------------------------------------------------------


def float_cnn_model() -> bytes:
    """1x8x8x3 -> CONV 3x3 3->4 SAME +RELU -> DEPTHWISE 3x3 x2 stride 2 SAME -> AVG POOL 2x2 -> FC 32->10 -> SOFTMAX."""
    rng = _rng()
    dyn = (-1,)
    t = [
        Tensor("input", (1, 8, 8, 3), signature=(*dyn, 8, 8, 3)),  # 0
        Tensor("conv/w", (4, 3, 3, 3), data=_randf(rng, 4, 3, 3, 3)),  # 1 OHWI
        Tensor("conv/b", (4,), data=_randf(rng, 4)),  # 2
        Tensor("conv/out", (1, 8, 8, 4), signature=(*dyn, 8, 8, 4)),  # 3
        Tensor("dw/w", (1, 3, 3, 8), data=_randf(rng, 1, 3, 3, 8)),  # 4 1HW(C*M)
        Tensor("dw/b", (8,), data=_randf(rng, 8)),  # 5
        Tensor("dw/out", (1, 4, 4, 8), signature=(*dyn, 4, 4, 8)),  # 6
        Tensor("pool/out", (1, 2, 2, 8), signature=(*dyn, 2, 2, 8)),  # 7
        Tensor("reshape/shape", (2,), INT32, data=_arr([-1, 32], INT32)),  # 8
        Tensor("flat", (1, 32), signature=(*dyn, 32)),  # 9
        Tensor("fc/w", (10, 32), data=_randf(rng, 10, 32)),  # 10
        Tensor("fc/b", (10,), data=_randf(rng, 10)),  # 11
        Tensor("logits", (1, 10), signature=(*dyn, 10)),  # 12
        Tensor("probs", (1, 10), signature=(*dyn, 10)),  # 13
    ]
    ops = [
        Op("CONV_2D", (0, 1, 2), (3,), _conv_opts(SAME, 1, RELU)),
        Op("DEPTHWISE_CONV_2D", (3, 4, 5), (6,), ("DepthwiseConv2DOptions", {
            "Padding": SAME, "StrideW": 2, "StrideH": 2, "DepthMultiplier": 2, "FusedActivationFunction": NONE,
            "DilationWFactor": 1, "DilationHFactor": 1})),
        Op("AVERAGE_POOL_2D", (6,), (7,), ("Pool2DOptions", {
            "Padding": VALID, "StrideW": 2, "StrideH": 2, "FilterWidth": 2, "FilterHeight": 2})),
        Op("RESHAPE", (7, 8), (9,), ("ReshapeOptions", {"NewShape": [-1, 32]})),
        Op("FULLY_CONNECTED", (9, 10, 11), (12,), ("FullyConnectedOptions", {"FusedActivationFunction": NONE})),
        Op("SOFTMAX", (12,), (13,), ("SoftmaxOptions", {"Beta": 1.0})),
    ]
    return build([Subgraph(t, (0,), (13,), ops, "main")])


def int8_cnn_model() -> bytes:
    """QUANTIZE 1x8x8x3 -> int8 CONV 3x3 3->4 SAME (+RELU, per-channel) -> RESHAPE 1x256 -> int8 FC 256->10 -> DEQUANTIZE."""
    rng = _rng()
    in_scale, in_zp = 1 / 255, -128
    w_scales = [0.01, 0.02, 0.015, 0.012]
    conv_scale, conv_zp = 0.05, -128
    fc_w_scale, out_scale, out_zp = 0.01, 0.1, 3
    t = [
        Tensor("input", (1, 8, 8, 3)),  # 0 float
        Tensor("input_q", (1, 8, 8, 3), INT8, quant=([in_scale], [in_zp], 0)),  # 1
        Tensor("conv/w", (4, 3, 3, 3), INT8, data=_arr(rng.integers(-127, 128, (4, 3, 3, 3)), INT8),
               quant=(w_scales, [0, 0, 0, 0], 0)),  # 2
        Tensor("conv/b", (4,), INT32, data=_arr(rng.integers(-100, 100, 4), INT32),
               quant=([in_scale * s for s in w_scales], [0, 0, 0, 0], 0)),  # 3
        Tensor("conv/out", (1, 8, 8, 4), INT8, quant=([conv_scale], [conv_zp], 0)),  # 4
        Tensor("reshape/shape", (2,), INT32, data=_arr([1, 256], INT32)),  # 5
        Tensor("flat", (1, 256), INT8, quant=([conv_scale], [conv_zp], 0)),  # 6
        Tensor("fc/w", (10, 256), INT8, data=_arr(rng.integers(-127, 128, (10, 256)), INT8),
               quant=([fc_w_scale], [0], 0)),  # 7
        Tensor("fc/b", (10,), INT32, data=_arr(rng.integers(-100, 100, 10), INT32),
               quant=([conv_scale * fc_w_scale], [0], 0)),  # 8
        Tensor("logits_q", (1, 10), INT8, quant=([out_scale], [out_zp], 0)),  # 9
        Tensor("logits", (1, 10)),  # 10 float
    ]
    ops = [
        Op("QUANTIZE", (0,), (1,)),
        Op("CONV_2D", (1, 2, 3), (4,), _conv_opts(SAME, 1, RELU)),
        Op("RESHAPE", (4, 5), (6,), ("ReshapeOptions", {"NewShape": [1, 256]})),
        Op("FULLY_CONNECTED", (6, 7, 8), (9,), ("FullyConnectedOptions", {"FusedActivationFunction": NONE})),
        Op("DEQUANTIZE", (9,), (10,)),
    ]
    return build([Subgraph(t, (0,), (10,), ops, "main")])


def transpose_conv_model() -> bytes:
    """TRANSPOSE_CONV: 1x4x4x2 -> 1x8x8x3, kernel 3x3, stride 2, SAME, no bias."""
    rng = _rng()
    t = [
        Tensor("output_shape", (4,), INT32, data=_arr([1, 8, 8, 3], INT32)),  # 0
        Tensor("tconv/w", (3, 3, 3, 2), data=_randf(rng, 3, 3, 3, 2)),  # 1 OHWI
        Tensor("input", (1, 4, 4, 2)),  # 2
        Tensor("output", (1, 8, 8, 3)),  # 3
    ]
    ops = [Op("TRANSPOSE_CONV", (0, 1, 2), (3,), ("TransposeConvOptions", {"Padding": SAME, "StrideW": 2, "StrideH": 2}))]
    return build([Subgraph(t, (2,), (3,), ops, "main")])


def custom_op_model() -> bytes:
    """RELU -> CUSTOM 'MyOp' -> RELU on 1x16."""
    t = [Tensor("input", (1, 16)), Tensor("a", (1, 16)), Tensor("b", (1, 16)), Tensor("output", (1, 16))]
    ops = [Op("RELU", (0,), (1,)), Op("CUSTOM:MyOp", (1,), (2,)), Op("RELU", (2,), (3,))]
    return build([Subgraph(t, (0,), (3,), ops, "main")])


def while_model(limit: int = 3) -> bytes:
    """WHILE i < ``limit``: i = i + 1, x = x + x (x: 1x4 float). Subgraphs: main, cond, body."""
    main = Subgraph(
        [Tensor("i0", (), INT32, data=_arr(0, INT32)), Tensor("x", (1, 4)), Tensor("i_out", (), INT32),
         Tensor("y", (1, 4))],
        (1,), (3,), [Op("WHILE", (0, 1), (2, 3), ("WhileOptions", {"CondSubgraphIndex": 1, "BodySubgraphIndex": 2}))],
        "main",
    )
    cond = Subgraph(
        [Tensor("i", (), INT32), Tensor("x", (1, 4)), Tensor("limit", (), INT32, data=_arr(limit, INT32)),
         Tensor("go", (), BOOL)],
        (0, 1), (3,), [Op("LESS", (0, 2), (3,))], "cond",
    )
    body = Subgraph(
        [Tensor("i", (), INT32), Tensor("x", (1, 4)), Tensor("one", (), INT32, data=_arr(1, INT32)),
         Tensor("i_next", (), INT32), Tensor("x_next", (1, 4))],
        (0, 1), (3, 4),
        [Op("ADD", (0, 2), (3,), ("AddOptions", {"FusedActivationFunction": NONE})),
         Op("ADD", (1, 1), (4,), ("AddOptions", {"FusedActivationFunction": NONE}))],
        "body",
    )
    return build([main, cond, body])


def shared_weights_model() -> bytes:
    """Two FULLY_CONNECTED 4->4 (no bias) whose weight tensors share buffer 1."""
    rng = _rng()
    t = [
        Tensor("w1", (4, 4), data=_randf(rng, 4, 4)),  # buffer 1
        Tensor("input", (1, 4)),
        Tensor("h", (1, 4)),
        Tensor("w2", (4, 4), buffer=1),  # the same stored tensor
        Tensor("output", (1, 4)),
    ]
    ops = [
        Op("FULLY_CONNECTED", (1, 0, -1), (2,), ("FullyConnectedOptions", {"FusedActivationFunction": RELU})),
        Op("FULLY_CONNECTED", (2, 3, -1), (4,), ("FullyConnectedOptions", {"FusedActivationFunction": NONE})),
    ]
    return build([Subgraph(t, (1,), (4,), ops, "main")])


def lstm_model(time_major: bool = False, peepholes: bool = False, variant: str = "") -> bytes:
    """UNIDIRECTIONAL_SEQUENCE_LSTM, float, TANH: batch 1, 3 steps, input 2, hidden 4, gate biases, no
    projection; batch-major (1x3x2) unless ``time_major`` (3x1x2); optional peephole weights.
    ``variant`` "cifg" drops the input gate, "projection" adds a 4 -> 3 projection, "layer_norm"
    adds layer-norm coefficients (the frontend's not-counted and listed cases; these variants are
    for the static count only: the projection one keeps 4-wide states, which LiteRT rejects)."""
    rng = _rng()
    seq, batch, n_in, hidden = 3, 1, 2, 4
    x_shape = (seq, batch, n_in) if time_major else (batch, seq, n_in)
    y_shape = (seq, batch, hidden) if time_major else (batch, seq, hidden)
    t = [Tensor("input", x_shape)]  # 0
    gates = ("input", "forget", "cell", "output")
    t += [Tensor(f"lstm/{g}_w", (hidden, n_in), data=_randf(rng, hidden, n_in)) for g in gates]  # 1..4
    t += [Tensor(f"lstm/{g}_r", (hidden, hidden), data=_randf(rng, hidden, hidden)) for g in gates]  # 5..8
    t += [Tensor(f"lstm/{g}_b", (hidden,), data=_randf(rng, hidden)) for g in gates]  # 9..12
    t += [Tensor("lstm/h", (batch, hidden), variable=True), Tensor("lstm/c", (batch, hidden), variable=True)]  # 13, 14
    t += [Tensor("output", y_shape)]  # 15
    peep: tuple[int, ...] = (-1, -1, -1)
    if peepholes:
        t += [Tensor(f"lstm/{g}_p", (hidden,), data=_randf(rng, hidden)) for g in ("input", "forget", "output")]
        peep = (16, 17, 18)
    inputs = [0, 1, 2, 3, 4, 5, 6, 7, 8, *peep, 9, 10, 11, 12, -1, -1, 13, 14, -1, -1, -1, -1]
    if variant == "cifg":
        inputs[1] = inputs[5] = inputs[12] = -1
    elif variant == "projection":
        t += [Tensor("lstm/proj_w", (3, hidden), data=_randf(rng, 3, hidden))]
        inputs[16] = len(t) - 1
    elif variant == "layer_norm":
        t += [Tensor(f"lstm/{g}_ln", (hidden,), data=_randf(rng, hidden)) for g in gates]
        inputs[20:24] = range(len(t) - 4, len(t))
    ops = [Op("UNIDIRECTIONAL_SEQUENCE_LSTM", tuple(inputs), (15,), ("UnidirectionalSequenceLSTMOptions", {
        "FusedActivationFunction": 4, "CellClip": 0.0, "ProjClip": 0.0, "TimeMajor": time_major}))]
    return build([Subgraph(t, (0,), (15,), ops, "main")])


def rnn_model() -> bytes:
    """UNIDIRECTIONAL_SEQUENCE_RNN, float, TANH, time-major: 4 steps, batch 2, input 3, hidden 5, with bias."""
    rng = _rng()
    seq, batch, n_in, hidden = 4, 2, 3, 5
    t = [
        Tensor("input", (seq, batch, n_in)),  # 0
        Tensor("rnn/w", (hidden, n_in), data=_randf(rng, hidden, n_in)),  # 1
        Tensor("rnn/r", (hidden, hidden), data=_randf(rng, hidden, hidden)),  # 2
        Tensor("rnn/b", (hidden,), data=_randf(rng, hidden)),  # 3
        Tensor("rnn/h", (batch, hidden), variable=True),  # 4
        Tensor("output", (seq, batch, hidden)),  # 5
    ]
    ops = [Op("UNIDIRECTIONAL_SEQUENCE_RNN", (0, 1, 2, 3, 4), (5,), ("SequenceRNNOptions", {
        "TimeMajor": True, "FusedActivationFunction": 4}))]
    return build([Subgraph(t, (0,), (5,), ops, "main")])


def int8_misc_model() -> bytes:
    """QUANTIZE 1x4x4x2 -> int8 TRANSPOSE_CONV 3x3 stride 2 SAME -> 1x8x8x3 (per-channel weights, bias) ->
    int8 AVERAGE_POOL_2D 2x2 stride 2 -> int8 MEAN over H, W (requantised to another scale) -> DEQUANTIZE."""
    rng = _rng()
    in_scale, in_zp = 1 / 255, -128
    w_scales = [0.01, 0.02, 0.015]
    y_scale, y_zp = 0.05, -10
    t = [
        Tensor("input", (1, 4, 4, 2)),  # 0 float
        Tensor("input_q", (1, 4, 4, 2), INT8, quant=([in_scale], [in_zp], 0)),  # 1
        Tensor("output_shape", (4,), INT32, data=_arr([1, 8, 8, 3], INT32)),  # 2
        Tensor("tconv/w", (3, 3, 3, 2), INT8, data=_arr(rng.integers(-127, 128, (3, 3, 3, 2)), INT8),
               quant=(w_scales, [0, 0, 0], 0)),  # 3 OHWI
        Tensor("tconv/b", (3,), INT32, data=_arr(rng.integers(-100, 100, 3), INT32),
               quant=([in_scale * s for s in w_scales], [0, 0, 0], 0)),  # 4
        Tensor("tconv/out", (1, 8, 8, 3), INT8, quant=([y_scale], [y_zp], 0)),  # 5
        Tensor("pool/out", (1, 4, 4, 3), INT8, quant=([y_scale], [y_zp], 0)),  # 6
        Tensor("mean/axes", (2,), INT32, data=_arr([1, 2], INT32)),  # 7
        Tensor("mean_q", (1, 3), INT8, quant=([0.02], [5], 0)),  # 8
        Tensor("mean", (1, 3)),  # 9 float
    ]
    ops = [
        Op("QUANTIZE", (0,), (1,)),
        Op("TRANSPOSE_CONV", (2, 3, 1, 4), (5,), ("TransposeConvOptions", {"Padding": SAME, "StrideW": 2,
                                                                          "StrideH": 2})),
        Op("AVERAGE_POOL_2D", (5,), (6,), ("Pool2DOptions", {
            "Padding": VALID, "StrideW": 2, "StrideH": 2, "FilterWidth": 2, "FilterHeight": 2})),
        Op("MEAN", (6, 7), (8,), ("ReducerOptions", {"KeepDims": False})),
        Op("DEQUANTIZE", (8,), (9,)),
    ]
    return build([Subgraph(t, (0,), (9,), ops, "main")])


def birnn_model() -> bytes:
    """BIDIRECTIONAL_SEQUENCE_RNN, float, RELU, time-major, separate outputs: 2 steps, batch 1, input 3, hidden 2."""
    rng = _rng()
    seq, batch, n_in, hidden = 2, 1, 3, 2
    t = [Tensor("input", (seq, batch, n_in))]  # 0
    for d in ("fw", "bw"):  # 1..4, 5..8
        t += [Tensor(f"{d}/w", (hidden, n_in), data=_randf(rng, hidden, n_in)),
              Tensor(f"{d}/r", (hidden, hidden), data=_randf(rng, hidden, hidden)),
              Tensor(f"{d}/b", (hidden,), data=_randf(rng, hidden)),
              Tensor(f"{d}/h", (batch, hidden), variable=True)]
    t += [Tensor("fw_out", (seq, batch, hidden)), Tensor("bw_out", (seq, batch, hidden))]  # 9, 10
    ops = [Op("BIDIRECTIONAL_SEQUENCE_RNN", (0, 1, 2, 3, 4, 5, 6, 7, 8, -1, -1, -1), (9, 10), (
        "BidirectionalSequenceRNNOptions", {"TimeMajor": True, "FusedActivationFunction": RELU, "MergeOutputs": False}))]
    return build([Subgraph(t, (0,), (9, 10), ops, "main")])


def fp16_sparse_model() -> bytes:
    """1x4x4x3 -> CONV_2D 1x1 3->2 (float16 weight and bias, each through DEQUANTIZE) -> RESHAPE 1x32 ->
    FULLY_CONNECTED 32->6, no bias, whose float16 weight is sparse (CSR: row r keeps r+1 values, 21 of 192)
    and goes through DENSIFY, then DEQUANTIZE."""
    rng = _rng()
    cols = [list(range(r, 32, 5))[: r + 1] for r in range(6)]
    segments = [0]
    for c in cols:
        segments.append(segments[-1] + len(c))
    indices = [j for c in cols for j in c]
    t = [
        Tensor("input", (1, 4, 4, 3)),  # 0
        Tensor("conv/w_f16", (2, 1, 1, 3), FLOAT16, data=_arr(rng.standard_normal((2, 1, 1, 3)), FLOAT16)),  # 1
        Tensor("conv/w", (2, 1, 1, 3)),  # 2
        Tensor("conv/b_f16", (2,), FLOAT16, data=_arr(rng.standard_normal(2), FLOAT16)),  # 3
        Tensor("conv/b", (2,)),  # 4
        Tensor("conv/out", (1, 4, 4, 2)),  # 5
        Tensor("reshape/shape", (2,), INT32, data=_arr([1, 32], INT32)),  # 6
        Tensor("flat", (1, 32)),  # 7
        Tensor("fc/w_sparse", (6, 32), FLOAT16, data=_arr(rng.standard_normal(len(indices)), FLOAT16),
               csr=(segments, indices)),  # 8
        Tensor("fc/w_f16", (6, 32), FLOAT16),  # 9
        Tensor("fc/w", (6, 32)),  # 10
        Tensor("output", (1, 6)),  # 11
    ]
    ops = [
        Op("DEQUANTIZE", (1,), (2,)),
        Op("DEQUANTIZE", (3,), (4,)),
        Op("CONV_2D", (0, 2, 4), (5,), _conv_opts(VALID, 1, NONE)),
        Op("RESHAPE", (5, 6), (7,), ("ReshapeOptions", {"NewShape": [1, 32]})),
        Op("DENSIFY", (8,), (9,)),
        Op("DEQUANTIZE", (9,), (10,)),
        Op("FULLY_CONNECTED", (7, 10, -1), (11,), ("FullyConnectedOptions", {"FusedActivationFunction": NONE})),
    ]
    return build([Subgraph(t, (0,), (11,), ops, "main")])


MODELS: dict[str, Callable[[], bytes]] = {
    "float_cnn": float_cnn_model,
    "int8_cnn": int8_cnn_model,
    "transpose_conv": transpose_conv_model,
    "custom_op": custom_op_model,
    "while_loop": while_model,
    "shared_weights": shared_weights_model,
    "int8_misc": int8_misc_model,
    "lstm": lstm_model,
    "rnn": rnn_model,
    "birnn": birnn_model,
    "fp16_sparse": fp16_sparse_model,
}


def write_all(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, make in MODELS.items():
        path = out_dir / f"{name}.tflite"
        path.write_bytes(make())
        paths.append(path)
    return paths


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: make_tflite_models.py OUT_DIR", file=sys.stderr)
        return 2
    for path in write_all(Path(argv[0])):
        print(f"{path}  ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


