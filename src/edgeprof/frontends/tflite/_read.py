"""Reading a ``.tflite`` flatbuffer into plain, validated records.

The generated ``tflite`` reader trusts the file: a vector length or an offset it reads is used
as is. Every length is therefore checked against the size of the file before anything is read
(a claimed 2**31-element shape fails at once instead of looping), every tensor, buffer, opcode
and subgraph index is checked against its table, and any other failure of the reader (an offset
past the end: ``struct.error``, ``IndexError``, ...) is turned into one
:class:`~edgeprof.errors.ModelLoadError` line at the frontend boundary (``_load.py``).

Nothing here decides what an op costs: the records are the file's content, checked.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import flatbuffers
import tflite
from tflite.utils import BUILTIN_OPCODE2NAME

from edgeprof.errors import ModelLoadError
from edgeprof.ir import DType
from edgeprof.ir import dtype as dt

IDENTIFIER = b"TFL3"
CUSTOM_CODE = 32  # BuiltinOperator.CUSTOM
SMALL_BUFFER_BYTES = 1 << 16  # buffers up to this size keep their bytes (shape tensors, small constants)

# TensorType -> DType (RESOURCE and VARIANT handles have no element size).
_TYPES: dict[int, DType] = {
    0: dt.FLOAT32, 1: dt.FLOAT16, 2: dt.INT32, 3: dt.UINT8, 4: dt.INT64, 5: dt.STRING, 6: dt.BOOL,
    7: dt.INT16, 8: dt.COMPLEX64, 9: dt.INT8, 10: dt.FLOAT64, 11: dt.COMPLEX128, 12: dt.UINT64,
    15: dt.UINT32, 16: dt.UINT16, 17: dt.INT4, 18: dt.BFLOAT16,
}
_HANDLE = DType("resource", 0, "int")


class Malformed(Exception):
    """The file breaks the schema (an index out of range, a length past the end)."""


@dataclass(frozen=True)
class TfQuant:
    """A tensor's quantisation: one scale and zero point per tensor, or per channel along ``axis``."""

    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scale) > 1

    @property
    def has_zero_point(self) -> bool:
        return any(z != 0 for z in self.zero_point)


@dataclass(frozen=True)
class TfTensor:
    index: int
    name: str
    dtype: DType
    shape: tuple[int, ...] | None  # None: the rank is not known
    signature: tuple[int, ...] | None  # shape_signature: -1 marks a dynamic dim
    buffer: int
    quant: TfQuant | None
    is_variable: bool
    sparse: bool


@dataclass(frozen=True)
class TfBuffer:
    """A buffer's size and where it lives: inline in the flatbuffer, or at a file ``offset``
    (models over 2 GB append their weights after the flatbuffer)."""

    nbytes: int
    offset: int = 0  # > 1: the data is at this file offset
    data: bytes | None = None  # the bytes of a small buffer


@dataclass(frozen=True)
class TfOperator:
    index: int
    name: str  # the builtin's name ("CONV_2D") or "CUSTOM:<custom_code>"
    builtin: int  # the builtin code (CUSTOM_CODE for custom ops)
    version: int
    inputs: tuple[int, ...]  # -1: an omitted optional input
    outputs: tuple[int, ...]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TfSubgraph:
    index: int
    name: str
    tensors: tuple[TfTensor, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    operators: tuple[TfOperator, ...]


@dataclass(frozen=True)
class TfModel:
    version: int
    description: str
    subgraphs: tuple[TfSubgraph, ...]
    buffers: tuple[TfBuffer, ...]
    file_bytes: int


def check_identifier(data: bytes, label: str) -> None:
    """One line when ``data`` is not a TFLite flatbuffer (too short, no ``TFL3`` identifier)."""
    if len(data) < 8:
        raise ModelLoadError(f"{label}: not a TFLite model (the file is {len(data)} bytes; truncated or empty)")
    if data[4:8] != IDENTIFIER:
        raise ModelLoadError(f"{label}: not a TFLite model (no 'TFL3' file identifier at bytes 4..8)")


def read_model(data: bytes) -> TfModel:
    """Parse and check ``data`` (the identifier already checked). Raises :class:`Malformed`."""
    reader = _Reader(data)
    model = tflite.Model.GetRootAs(data, 0)
    codes = reader.opcodes(model)
    n_buffers = reader.length(model.BuffersLength(), 4, "buffers")
    buffers = tuple(reader.buffer(model.Buffers(i), i) for i in range(n_buffers))
    n_subgraphs = reader.length(model.SubgraphsLength(), 4, "subgraphs")
    if n_subgraphs == 0:
        raise Malformed("the model has no subgraphs")
    subgraphs = tuple(reader.subgraph(model.Subgraphs(i), i, codes, n_buffers) for i in range(n_subgraphs))
    desc = model.Description()
    return TfModel(int(model.Version()), _text(desc), subgraphs, buffers, len(data))


def _text(raw: bytes | None) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.size = len(data)

    def length(self, n: int, elem_bytes: int, what: str) -> int:
        """A vector length the file claims, checked against the file size."""
        if n < 0 or n * elem_bytes > self.size:
            raise Malformed(f"{what}: the file claims {n} entries, more than its {self.size} bytes can hold")
        return int(n)

    def ints(self, n: int, get: Callable[[int], int], what: str) -> tuple[int, ...]:
        return tuple(int(get(j)) for j in range(self.length(n, 4, what)))

    def opcodes(self, model: Any) -> list[tuple[str, int, int]]:
        out = []
        for i in range(self.length(model.OperatorCodesLength(), 4, "operator codes")):
            oc = model.OperatorCodes(i)
            code = max(int(oc.BuiltinCode()), int(oc.DeprecatedBuiltinCode()))
            if code == CUSTOM_CODE:
                name = f"CUSTOM:{_text(oc.CustomCode()) or '?'}"
            else:
                name = BUILTIN_OPCODE2NAME.get(code, f"BUILTIN_{code}")
            out.append((name, code, int(oc.Version())))
        return out

    def buffer(self, b: Any, index: int) -> TfBuffer:
        offset, size = int(b.Offset()), int(b.Size())
        if offset > 1:
            if offset + size > self.size:
                raise Malformed(f"buffer {index} claims bytes {offset}..{offset + size}, past the end of the file")
            data = self.data[offset : offset + size] if size <= SMALL_BUFFER_BYTES else None
            return TfBuffer(size, offset, data)
        n = self.length(b.DataLength(), 1, f"buffer {index}")
        if n == 0:
            return TfBuffer(0)
        o = flatbuffers.number_types.UOffsetTFlags.py_type(b._tab.Offset(4))
        start = b._tab.Vector(o)
        if start < 0 or start + n > self.size:
            raise Malformed(f"buffer {index} runs past the end of the file")
        return TfBuffer(n, 0, bytes(self.data[start : start + n]) if n <= SMALL_BUFFER_BYTES else None)

    def subgraph(self, sg: Any, index: int, codes: list[tuple[str, int, int]], n_buffers: int) -> TfSubgraph:
        n_tensors = self.length(sg.TensorsLength(), 4, f"subgraph {index} tensors")
        tensors = tuple(self.tensor(sg.Tensors(i), i, n_buffers) for i in range(n_tensors))
        inputs = self.ints(sg.InputsLength(), sg.Inputs, f"subgraph {index} inputs")
        outputs = self.ints(sg.OutputsLength(), sg.Outputs, f"subgraph {index} outputs")
        for t in (*inputs, *outputs):
            if not 0 <= t < n_tensors:
                raise Malformed(f"subgraph {index}: input/output tensor {t} is not one of its {n_tensors} tensors")
        ops = []
        for k in range(self.length(sg.OperatorsLength(), 4, f"subgraph {index} operators")):
            ops.append(self.operator(sg.Operators(k), k, codes, n_tensors, index))
        return TfSubgraph(index, _text(sg.Name()), tensors, inputs, outputs, tuple(ops))

    def tensor(self, t: Any, index: int, n_buffers: int) -> TfTensor:
        type_code = int(t.Type())
        dtype = _TYPES.get(type_code, _HANDLE if type_code in (13, 14) else None)
        if dtype is None:
            raise Malformed(f"tensor {index} has unknown type {type_code}")
        shape = None if t.ShapeIsNone() and not t.HasRank() else self.ints(t.ShapeLength(), t.Shape, f"tensor {index} shape")
        signature = None
        if not t.ShapeSignatureIsNone():
            signature = self.ints(t.ShapeSignatureLength(), t.ShapeSignature, f"tensor {index} shape signature")
        if shape is not None and any(d < 0 for d in shape):
            if signature is None:
                signature = shape
            shape = tuple(max(d, 1) for d in shape)
        if shape is not None and signature is not None and len(signature) != len(shape):
            signature = None
        buffer = int(t.Buffer())
        if not 0 <= buffer < max(n_buffers, 1):
            raise Malformed(f"tensor {index} refers to buffer {buffer}; the model has {n_buffers}")
        return TfTensor(index, _text(t.Name()), dtype, shape, signature, buffer, self.quant(t.Quantization(), index),
                        bool(t.IsVariable()), t.Sparsity() is not None)

    def quant(self, q: Any, index: int) -> TfQuant | None:
        if q is None:
            return None
        n_scale = self.length(q.ScaleLength(), 4, f"tensor {index} scales")
        if n_scale == 0:
            return None
        scale = tuple(float(q.Scale(j)) for j in range(n_scale))
        n_zp = self.length(q.ZeroPointLength(), 8, f"tensor {index} zero points")
        zero_point = tuple(int(q.ZeroPoint(j)) for j in range(n_zp)) or (0,) * n_scale
        return TfQuant(scale, zero_point, int(q.QuantizedDimension()))

    def operator(self, op: Any, k: int, codes: list[tuple[str, int, int]], n_tensors: int, sg: int) -> TfOperator:
        opcode = int(op.OpcodeIndex())
        if not 0 <= opcode < len(codes):
            raise Malformed(f"subgraph {sg} operator {k} uses opcode {opcode}; the model has {len(codes)}")
        name, code, version = codes[opcode]
        inputs = self.ints(op.InputsLength(), op.Inputs, f"operator {k} inputs")
        outputs = self.ints(op.OutputsLength(), op.Outputs, f"operator {k} outputs")
        for t in inputs:
            if not -1 <= t < n_tensors:
                raise Malformed(f"subgraph {sg} operator {k} ({name}) reads tensor {t}; the subgraph has {n_tensors}")
        for t in outputs:
            if not 0 <= t < n_tensors:
                raise Malformed(f"subgraph {sg} operator {k} ({name}) writes tensor {t}; the subgraph has {n_tensors}")
        options = self.options(op, "BuiltinOptions", _options_enum("BuiltinOptions"))
        options.update(self.options(op, "BuiltinOptions2", _options_enum("BuiltinOptions2")))
        if code == CUSTOM_CODE:  # a custom op's options are its own bytes (MediaPipe: a packed C struct)
            n = self.length(op.CustomOptionsLength(), 1, f"operator {k} custom options")
            options["CustomOptions"] = bytes(op.CustomOptions(j) for j in range(min(n, SMALL_BUFFER_BYTES)))
        return TfOperator(k, name, code, version, inputs, outputs, options)

    def options(self, op: Any, field_name: str, enum: type) -> dict[str, Any]:
        kind = int(getattr(op, f"{field_name}Type")())
        if kind == 0:
            return {}
        cls = _options_class(enum, kind)
        table = getattr(op, field_name)()
        if cls is None or table is None:
            return {}
        obj = cls()
        obj.Init(table.Bytes, table.Pos)
        out: dict[str, Any] = {}
        for name, is_vector in _accessors(cls):
            if is_vector:
                n = self.length(getattr(obj, f"{name}Length")(), 1, f"operator option {name}")
                get = getattr(obj, name)
                out[name] = tuple(get(j) for j in range(n))
            else:
                value = getattr(obj, name)()
                if isinstance(value, bytes):
                    value = value.decode("utf-8", "replace")
                if isinstance(value, (int, float, str, bool)):
                    out[name] = value
        return out


@cache
def _options_enum(name: str) -> type:
    enum: type = getattr(importlib.import_module(f"tflite.{name}"), name)
    return enum


@cache
def _options_class(enum: type, kind: int) -> type | None:
    names = {v: k for k, v in vars(enum).items() if isinstance(v, int) and not k.startswith("_")}
    name = names.get(kind)
    if name is None:
        return None
    try:
        module = importlib.import_module(f"tflite.{name}")
    except ImportError:
        return None
    cls = getattr(module, name, None)
    return cls if isinstance(cls, type) else None


@cache
def _accessors(cls: type) -> tuple[tuple[str, bool], ...]:
    """The field readers of a generated options class: (name, is a vector)."""
    out = []
    for name, fn in vars(cls).items():
        if not name[:1].isupper() or not callable(fn) or name in ("Init",) or name.startswith("GetRootAs"):
            continue
        if name.endswith(("AsNumpy", "IsNone", "Length", "BufferHasIdentifier")):
            continue
        params = len(inspect.signature(fn).parameters)
        if params == 2 and hasattr(cls, f"{name}Length"):
            out.append((name, True))
        elif params == 1:
            out.append((name, False))
    return tuple(out)
