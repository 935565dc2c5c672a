"""What the file frontends (ONNX, TFLite) share: the tensor types they track while resolving
shapes, the element-type coding, and the user's say on input shapes and values.

**Tensor types.** A dim is an int (known), a str (a symbolic name from the model, ``batch``) or
None (unknown, unnamed). ``dims is None`` means even the rank is unknown. Element types are coded
as ONNX's ``TensorProto.DataType`` numbers (0: unknown), the one coding both frontends use.

**Inputs** (``--input``, ``--dim``, ``--value``) applied to a model's inputs: every input ends up
with a static shape, or a ShapeError names the input, the dim and the flag that sets it.

Rules:

* ``--input NAME=DxD..`` (or a bare shape: the next input in order) replaces an input's shape;
  its rank and static dims must agree with the model's;
* ``--dim NAME=N`` sets a named (``dim_param``) dim everywhere it appears;
* ``--value NAME=V`` gives a small input's value (it also fixes the length of a 1-d input);
* a leading symbolic or unknown dim of an input of rank >= 2 that nothing sets is the batch
  and defaults to 1, with a notice;
* any other dim that nothing sets is an error: one error names every such dim at once, with a
  command line that can be pasted as is (the sizes in it a suggestion: the model's image size when
  its metadata gives one, else a common default, and the message says which).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from math import isfinite, prod
from typing import Any, Literal, NamedTuple, TypeAlias

import numpy as np

from edgeprof.errors import ShapeError, UsageError, did_you_mean
from edgeprof.frontends.base import ShapeRequest
from edgeprof.frontends.onnx_proto import TensorProto, tensor_dtype_to_np_dtype
from edgeprof.ir import DType, dtype_by_name
from edgeprof.ir.dtype import UNKNOWN
from edgeprof.ir.limits import dim_in_range
from edgeprof.report.model import InputSpec

# ---- tensor types ------------------------------------------------------------------------------

TDim: TypeAlias = int | str | None


class TType(NamedTuple):
    """An element type (ONNX enum; 0 unknown) and dims. ``is_tensor`` is False for sequences,
    maps and optionals (their element type is kept, their shape is not). A NamedTuple: the
    frontend makes one per value, so construction has to be cheap."""

    elem: int
    dims: tuple[TDim, ...] | None
    is_tensor: bool = True

    @property
    def is_static(self) -> bool:
        dims = self.dims
        if dims is None:
            return False
        for d in dims:
            if type(d) is not int:
                return False
        return True

    def static_dims(self) -> tuple[int, ...]:
        if self.dims is None or not self.is_static:
            raise ValueError("shape is not static")
        return tuple(int(d) for d in self.dims)  # type: ignore[arg-type]

    def known(self) -> int:
        """How much is known: used to prefer the more informative of two types."""
        if self.dims is None:
            return 0
        return 1 + sum(2 if isinstance(d, int) else 1 if isinstance(d, str) else 0 for d in self.dims)


_DTYPE_NAMES: dict[int, str] = {
    TensorProto.FLOAT: "float32",
    TensorProto.UINT8: "uint8",
    TensorProto.INT8: "int8",
    TensorProto.UINT16: "uint16",
    TensorProto.INT16: "int16",
    TensorProto.INT32: "int32",
    TensorProto.INT64: "int64",
    TensorProto.STRING: "string",
    TensorProto.BOOL: "bool",
    TensorProto.FLOAT16: "float16",
    TensorProto.DOUBLE: "float64",
    TensorProto.UINT32: "uint32",
    TensorProto.UINT64: "uint64",
    TensorProto.COMPLEX64: "complex64",
    TensorProto.COMPLEX128: "complex128",
    TensorProto.BFLOAT16: "bfloat16",
    TensorProto.FLOAT8E4M3FN: "float8e4m3fn",
    TensorProto.FLOAT8E4M3FNUZ: "float8e4m3fnuz",
    TensorProto.FLOAT8E5M2: "float8e5m2",
    TensorProto.FLOAT8E5M2FNUZ: "float8e5m2fnuz",
    TensorProto.UINT4: "uint4",
    TensorProto.INT4: "int4",
    TensorProto.FLOAT4E2M1: "float4e2m1",
    TensorProto.FLOAT8E8M0: "float8e8m0",
}
# Element types that not every onnx version defines: (onnx enum name, IR name, bits, kind).
_OPTIONAL_TYPES: tuple[tuple[str, str, int, str], ...] = (
    ("UINT2", "uint2", 2, "uint"),
    ("INT2", "int2", 2, "int"),
    ("FLOAT6E2M3", "float6e2m3", 6, "float"),
    ("FLOAT6E3M2", "float6e3m2", 6, "float"),
)


def _optional_dtypes() -> dict[int, DType]:
    out: dict[int, DType] = {}
    for onnx_name, name, bits, kind in _OPTIONAL_TYPES:
        try:
            code = int(TensorProto.DataType.Value(onnx_name))
        except ValueError:
            continue
        try:
            out[code] = dtype_by_name(name)
        except KeyError:
            out[code] = DType(name, bits, kind)  # type: ignore[arg-type]
    return out


_DTYPES: dict[int, DType] = {code: dtype_by_name(name) for code, name in _DTYPE_NAMES.items()}
_DTYPES.update(_optional_dtypes())


def dtype_of(elem_type: int) -> DType:
    """The IR dtype of an ONNX element type (``unknown`` for 0 or a type this version lacks)."""
    return _DTYPES.get(int(elem_type), UNKNOWN)


def np_dtype_of(elem_type: int) -> np.dtype[Any] | None:
    """The numpy dtype of an ONNX element type, or None (strings, unknown types)."""
    if elem_type in (TensorProto.UNDEFINED, TensorProto.STRING):
        return None
    try:
        return np.dtype(tensor_dtype_to_np_dtype(elem_type))
    except (KeyError, TypeError, ValueError):
        return None


# ---- inputs ------------------------------------------------------------------------------------

Source = Literal["model", "flag", "default-batch"]


@dataclass(frozen=True)
class ModelInput:
    name: str
    type: TType | None


@dataclass(frozen=True)
class ResolvedInputs:
    """Static shapes for every input, the named dims they fix, the given values, notices."""

    shapes: dict[str, tuple[int, ...]]
    elem_types: dict[str, int]
    specs: tuple[InputSpec, ...]
    symbols: dict[str, int]
    values: dict[str, np.ndarray]
    notices: tuple[str, ...]


IMAGE_SIDE = 224
"""Suggested height and width of an image input the model leaves open (a common default)."""
SEQUENCE_LENGTH = 128
"""Suggested size of any other dim the model leaves open (a common sequence length)."""


def resolve_inputs(
    inputs: Sequence[ModelInput], request: ShapeRequest, model_symbols: set[str], label: str,
    image_size: tuple[int, int] | None = None,
) -> ResolvedInputs:
    """Static input shapes from the model's and the user's; ``image_size`` (height, width) is what
    the model's metadata says its images are, used only to suggest sizes in an error."""
    names = [i.name for i in inputs]
    by_name = {i.name: i for i in inputs}
    listing = ", ".join(names) if names else "(none)"
    given = _assign_shapes(request, names, listing, label)
    symbols: dict[str, int] = {}
    origin: dict[str, str] = {}
    for key, size in request.dims.items():
        _check_dim_value(size, f"--dim {key}={size}", minimum=0)  # 0: e.g. an empty past KV length
        if key not in model_symbols:
            known = ", ".join(sorted(model_symbols)) if model_symbols else "none"
            raise ShapeError(f"{label}: --dim {key}={size}: the model has no dim named {key!r}"
                             f"{did_you_mean(key, model_symbols)} (named dims: {known})")
        if size == 0:
            _check_empty_dim(key, inputs, label)
        symbols[key] = size
        origin[key] = f"--dim {key}={size}"
    values = _values(request, by_name, listing, label)
    # Shapes given with --input fix the named dims they replace.
    for name, shape in given.items():
        inp = by_name[name]
        model_dims = inp.type.dims if inp.type is not None else None
        if model_dims is not None:
            if len(model_dims) != len(shape):
                raise ShapeError(
                    f"{label}: --input {name}={_fmt(shape)}: input {name!r} has rank {len(model_dims)} "
                    f"({_fmt(model_dims)}) in the model, the flag gives {len(shape)} dims"
                )
            for axis, (m, size) in enumerate(zip(model_dims, shape, strict=True)):
                if isinstance(m, int) and m > 0 and m != size:
                    raise ShapeError(
                        f"{label}: --input {name}={_fmt(shape)}: dim {axis} of input {name!r} is {m} in the model, "
                        f"the flag gives {size}"
                    )
                if isinstance(m, str):
                    _bind(symbols, origin, m, size, f"--input {name}={_fmt(shape)}", label)
    # --value fixes the length of a 1-d input whose dim is not set.
    for name, arr in values.items():
        if name in given:
            continue
        inp = by_name[name]
        dims = inp.type.dims if inp.type is not None else None
        if dims is not None and len(dims) == 1 and not isinstance(dims[0], int) and arr.ndim == 1:
            if isinstance(dims[0], str):
                _bind(symbols, origin, dims[0], arr.shape[0], f"--value {name}", label)
            else:
                given[name] = (arr.shape[0],)
    # Leading batch dims that nothing sets default to 1.
    defaulted: dict[str, str] = {}
    notices: list[str] = []
    for inp in inputs:
        if inp.name in given or inp.type is None or inp.type.dims is None or len(inp.type.dims) < 2:
            continue
        lead = inp.type.dims[0]
        if isinstance(lead, int) and lead > 0:
            continue
        if isinstance(lead, str) and (lead in symbols or lead in defaulted):
            continue
        hint = _fmt((_EXAMPLE_BATCH, *(_show(d, symbols) for d in inp.type.dims[1:])))
        flag = f"--input {_quoted(inp.name)}={hint}"
        if isinstance(lead, str):
            defaulted[lead] = inp.name
            if _pasteable(lead):
                flag = f"--dim {lead}={_EXAMPLE_BATCH}"
            notices.append(
                f"input {inp.name!r}: dim 0 ({lead!r}) not set, assumed 1 (the batch); for a batch of {_EXAMPLE_BATCH}: {flag}"
            )
        else:
            defaulted[f"\0{inp.name}"] = inp.name
            notices.append(
                f"input {inp.name!r}: dim 0 (unnamed) not set, assumed 1 (the batch); for a batch of {_EXAMPLE_BATCH}: {flag}"
            )
    for sym in defaulted:
        if not sym.startswith("\0"):
            symbols[sym] = 1
    shapes: dict[str, tuple[int, ...]] = {}
    elem_types: dict[str, int] = {}
    specs: list[InputSpec] = []
    unset: list[tuple[ModelInput, int, TDim]] = []
    for inp in inputs:
        if inp.type is not None and not inp.type.is_tensor:
            raise ShapeError(f"{label}: input {inp.name!r} is not a tensor (a sequence, map or optional); not supported")
        elem = inp.type.elem if inp.type is not None else 0
        source: Source = "model"
        if inp.name in given:
            shape = given[inp.name]
            source = "flag"
        else:
            if inp.type is None or inp.type.dims is None:
                raise ShapeError(
                    f"{label}: input {inp.name!r} has no shape in the model; set it with --input {inp.name}=DxD..."
                )
            dims_out: list[int] = []
            for axis, d in enumerate(inp.type.dims):
                if isinstance(d, int) and d > 0:
                    dims_out.append(d)
                elif isinstance(d, str) and d in symbols:
                    dims_out.append(symbols[d])
                    source = "default-batch" if d in defaulted else ("flag" if source == "model" else source)
                elif axis == 0 and f"\0{inp.name}" in defaulted:
                    dims_out.append(1)
                    source = "default-batch"
                else:
                    unset.append((inp, axis, d))
                    dims_out.append(1)
            shape = tuple(dims_out)
        if unset and unset[-1][0] is inp:
            continue
        if inp.name in values:
            arr = values[inp.name]
            if prod(shape) != arr.size:
                raise ShapeError(
                    f"{label}: --value {inp.name}: {arr.size} value(s) given but input {inp.name!r} has shape "
                    f"{_fmt(shape)} ({prod(shape)} elements)"
                )
            values[inp.name] = arr.reshape(shape)
            source = "flag" if source == "model" else source
        shapes[inp.name] = shape
        elem_types[inp.name] = elem
        given_value = tuple(float(v) for v in values[inp.name].reshape(-1).tolist()) if inp.name in values else ()
        specs.append(InputSpec(inp.name, shape, dtype_of(elem).name, source, given_value))
    if unset:
        raise ShapeError(_unset(label, unset, symbols, image_size))
    # Named dims set by a default batch or by a flag reach every input and value_info.
    return ResolvedInputs(shapes, elem_types, tuple(specs), symbols, values, tuple(notices))


_CACHE_INPUT = re.compile(r"past|cache|present", re.IGNORECASE)


def _check_empty_dim(key: str, inputs: Sequence[ModelInput], label: str) -> None:
    """``--dim NAME=0`` is an empty past sequence: allowed only for a dim that only KV-cache inputs
    (``past_*``, ``*cache*``) use; any other input of size 0 makes no sense (``--input`` refuses 0 too)."""
    users = [i.name for i in inputs if i.type is not None and i.type.dims is not None and key in i.type.dims]
    others = [n for n in users if not _CACHE_INPUT.search(n)]
    if others:
        raise ShapeError(f"{label}: --dim {key}=0: dim {key!r} of input {others[0]!r} cannot be 0 (a 0 is allowed only "
                         "for an empty past sequence: a dim only KV-cache inputs such as past_key_values.* use)")


def _assign_shapes(request: ShapeRequest, names: list[str], listing: str, label: str) -> dict[str, tuple[int, ...]]:
    given: dict[str, tuple[int, ...]] = {}
    named = {n for n, _ in request.inputs if n is not None}
    for name, _ in request.inputs:
        if name is not None and name not in names:
            raise ShapeError(f"{label}: --input {name}=...: the model has no input named {name!r}"
                             f"{did_you_mean(name, names)} (inputs: {listing})")
    free = [n for n in names if n not in named]
    cursor = 0
    for name, shape in request.inputs:
        for d in shape:
            _check_dim_value(d, f"--input {name + '=' if name else ''}{_fmt(shape)}")
        if name is None:
            if cursor >= len(free):
                raise ShapeError(
                    f"{label}: {sum(1 for n, _ in request.inputs if n is None)} input shape(s) given in order, but the "
                    f"model has {len(names)} input(s): {listing}"
                )
            name = free[cursor]
            cursor += 1
        if name in given:
            raise UsageError(f"{label}: input {name!r} is given twice")
        given[name] = tuple(int(d) for d in shape)
    return given


def _values(request: ShapeRequest, by_name: dict[str, ModelInput], listing: str, label: str) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, vals in request.values.items():
        inp = by_name.get(name)
        if inp is None:
            raise ShapeError(f"{label}: --value {name}=...: the model has no input named {name!r}"
                             f"{did_you_mean(name, by_name)} (inputs: {listing})")
        if not vals:
            raise UsageError(f"{label}: --value {name}: no value given")
        elem = inp.type.elem if inp.type is not None else 0
        np_dtype = np_dtype_of(elem) if elem else np.dtype(np.float32)
        if np_dtype is None:
            raise UsageError(f"{label}: --value {name}: input {name!r} has element type {dtype_of(elem).name}, which takes no value")
        for v in vals:
            if not isfinite(v):
                raise UsageError(f"{label}: --value {name}: {v} is not a finite number")
            if np_dtype.kind in "iub" and v != int(v):
                raise UsageError(f"{label}: --value {name}: input {name!r} is {dtype_of(elem).name}; {v} is not an integer")
        if np_dtype.kind == "b":
            arr = np.array([bool(v) for v in vals], dtype=np.bool_)
        elif np_dtype.kind in "iu":
            info = np.iinfo(np_dtype.type)
            ints = [int(v) for v in vals]
            if any(i < info.min or i > info.max for i in ints):
                raise UsageError(f"{label}: --value {name}: a value is out of range for {dtype_of(elem).name}")
            arr = np.array(ints, dtype=np_dtype)
        else:
            arr = np.array(vals, dtype=np_dtype)
        dims = inp.type.dims if inp.type is not None else None
        if dims is not None and len(dims) == 0:
            if arr.size != 1:
                raise ShapeError(f"{label}: --value {name}: input {name!r} is a scalar, {arr.size} values given")
            arr = arr.reshape(())
        out[name] = arr
    return out


def _bind(symbols: dict[str, int], origin: dict[str, str], sym: str, size: int, by: str, label: str) -> None:
    if sym in symbols and symbols[sym] != size:
        raise ShapeError(
            f"{label}: dim {sym!r} is {symbols[sym]} from {origin[sym]} but {size} from {by} (one name is one size)"
        )
    symbols[sym] = size
    origin[sym] = by


def _check_dim_value(size: int, flag: str, minimum: int = 1) -> None:
    if not isinstance(size, int) or isinstance(size, bool) or not dim_in_range(size, minimum):
        raise UsageError(f"{flag}: every dim must be an integer from {minimum} to 2**62-1, got {size!r}")


_EXAMPLE_BATCH = 8
_PASTEABLE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/+-")


def _pasteable(name: str) -> bool:
    """A name a shell takes as is in ``--dim NAME=N`` / ``--input NAME=..`` (no quoting, no glob)."""
    return bool(name) and not name.startswith("-") and all(c in _PASTEABLE for c in name)


def _quoted(name: str) -> str:
    """``name`` as a shell takes it: as is when it can, else in single quotes."""
    return name if _pasteable(name) else "'" + name.replace("'", "'\\''") + "'"


def _suggested_size(inp: ModelInput, axis: int, image_size: tuple[int, int] | None) -> tuple[int, bool]:
    """A size to suggest for an unset dim, and whether it comes from the model's metadata."""
    dims = inp.type.dims if inp.type is not None and inp.type.dims is not None else ()
    if len(dims) == 4:
        spatial: tuple[int, int] | None = None
        if dims[1] in (1, 3, 4):
            spatial = (2, 3)
        elif dims[3] in (1, 3, 4):
            spatial = (1, 2)
        if spatial is not None and axis in spatial:
            if image_size is not None:
                return image_size[spatial.index(axis)], True
            return IMAGE_SIDE, False
    return SEQUENCE_LENGTH, False


def _unset(
    label: str, unset: list[tuple[ModelInput, int, TDim]], symbols: dict[str, int], image_size: tuple[int, int] | None,
) -> str:
    """One message for every dim nothing sets, with a command line to paste (suggested sizes)."""
    by_input: dict[str, list[tuple[int, TDim]]] = {}
    order: list[ModelInput] = []
    for inp, axis, d in unset:
        if inp.name not in by_input:
            by_input[inp.name] = []
            order.append(inp)
        by_input[inp.name].append((axis, d))
    suggested: dict[str, int] = {}
    from_metadata = False
    parts: list[str] = []
    flags: list[str] = []
    for inp in order:
        assert inp.type is not None and inp.type.dims is not None
        missing = dict(by_input[inp.name])
        what = ", ".join(f"dim {axis} ({d!r})" if isinstance(d, str) else f"dim {axis} (unnamed)" for axis, d in missing.items())
        parts.append(f"input {inp.name!r} {what}")
        sizes: list[int] = []
        for axis, d in enumerate(inp.type.dims):
            if isinstance(d, int) and d > 0:
                sizes.append(d)
            elif isinstance(d, str) and d in symbols:
                sizes.append(symbols[d])
            elif axis == 0 and axis not in missing:
                sizes.append(1)  # the default batch
            else:
                if isinstance(d, str) and d in suggested:
                    sizes.append(suggested[d])
                    continue
                size, meta = _suggested_size(inp, axis, image_size)
                from_metadata = from_metadata or meta
                if isinstance(d, str):
                    suggested[d] = size
                sizes.append(size)
        flags.append(f"--input {_quoted(inp.name)}={_fmt(sizes)}")
    count = len(unset)
    source = "the model's metadata and common defaults" if from_metadata else "common defaults, not read from the model"
    return (
        f"{label}: {count} input dim{'s are' if count > 1 else ' is'} not set: {'; '.join(parts)}; "
        f"set {'them' if count > 1 else 'it'}, for example (suggested sizes from {source}: use your own): "
        f"{' '.join(flags)}"
    )


def _show(d: TDim | str, symbols: dict[str, int]) -> str:
    if isinstance(d, int) and d > 0:
        return str(d)
    if isinstance(d, str):
        return str(symbols.get(d, d))
    return "?"


def _fmt(dims: Sequence[TDim | str]) -> str:
    return "x".join("?" if d is None else str(d) for d in dims) if dims else "scalar"
