"""ONNX's protobuf messages, shape inference and function inliner, without ``import onnx``.

``import onnx`` costs about 0.7 s on a 2-core machine, most of it ml_dtypes registering a dozen
numpy types (numpy's ufunc-loop registration is quadratic); reading and costing a model needs
none of it. This module gives the frontends what they do use from the installed ``onnx``
package: the message classes of its generated ``onnx_ml_pb2`` module, the C++ shape inference
and inliner of its ``onnx_cpp2py_export`` extension, and small numpy conversions for the tensor
types numpy has natively.

Both modules are the installed package's own files, loaded under their own names
(``onnx.onnx_ml_pb2``, ``onnx.onnx_cpp2py_export``) and registered in ``sys.modules``, so a
later ``import onnx`` in the same process reuses them: one set of message classes, one copy of
the extension. When ``onnx`` is already imported, or when the package does not have the layout
expected here, the real package is imported and used as it is. Tensor types numpy lacks
(bfloat16, float8, int4, strings ...) are converted by onnx's own ``numpy_helper``, imported on
first use.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from onnx import (
        AttributeProto,
        FunctionProto,
        GraphProto,
        ModelProto,
        NodeProto,
        SparseTensorProto,
        TensorProto,
        TensorShapeProto,
        TypeProto,
        ValueInfoProto,
    )

__all__ = [
    "IR_VERSION", "AttributeProto", "FunctionProto", "GraphProto", "ModelProto", "NodeProto",
    "SparseTensorProto", "TensorProto", "TensorShapeProto", "TypeProto", "ValueInfoProto",
    "from_array", "infer_shapes", "inline_local_functions", "make_node", "make_tensor",
    "make_tensor_value_info", "np_dtype_to_tensor_dtype", "tensor_dtype_to_np_dtype", "to_array",
]

_PB2 = "onnx.onnx_ml_pb2"
_CPP = "onnx.onnx_cpp2py_export"


def _load_from_package(name: str, folder: Sequence[str]) -> ModuleType:
    """Execute the submodule ``name`` of the onnx package from ``folder`` without running the
    package's ``__init__``, and register it under its own name."""
    spec = importlib.machinery.PathFinder.find_spec(name, list(folder))
    if spec is None or spec.loader is None:
        raise ImportError(f"{name} not found in {list(folder)}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _modules() -> tuple[ModuleType, ModuleType]:
    """The generated message module and the C++ extension: the imported package's when ``onnx``
    is imported, else the package's files loaded directly (falling back to ``import onnx``).
    Called once, while this module is imported (under the import lock)."""
    pb2, cpp = sys.modules.get(_PB2), sys.modules.get(_CPP)
    if pb2 is not None and cpp is not None:
        return pb2, cpp
    if "onnx" not in sys.modules:
        spec = importlib.util.find_spec("onnx")  # finds the package, does not import it
        folder = spec.submodule_search_locations if spec is not None else None
        if folder:
            try:
                pb2 = sys.modules.get(_PB2) or _load_from_package(_PB2, folder)
                cpp = sys.modules.get(_CPP) or _load_from_package(_CPP, folder)
                return pb2, cpp
            except ImportError:
                pass  # another layout: the package's own import below
    import onnx  # noqa: F401  (imports both submodules)

    return sys.modules[_PB2], sys.modules[_CPP]


_pb2, _cpp = _modules()

if not TYPE_CHECKING:
    AttributeProto = _pb2.AttributeProto
    FunctionProto = _pb2.FunctionProto
    GraphProto = _pb2.GraphProto
    ModelProto = _pb2.ModelProto
    NodeProto = _pb2.NodeProto
    SparseTensorProto = _pb2.SparseTensorProto
    TensorProto = _pb2.TensorProto
    TensorShapeProto = _pb2.TensorShapeProto
    TypeProto = _pb2.TypeProto
    ValueInfoProto = _pb2.ValueInfoProto

IR_VERSION: int = int(_pb2.IR_VERSION)


def infer_shapes(model: ModelProto, check_type: bool = False, strict_mode: bool = False,
                 data_prop: bool = False) -> ModelProto:
    """``onnx.shape_inference.infer_shapes``: the same C++ call on the serialised model."""
    out: bytes = _cpp.shape_inference.infer_shapes(model.SerializeToString(), check_type, strict_mode, data_prop)
    inferred: ModelProto = ModelProto.FromString(out)
    return inferred


def inline_local_functions(model: ModelProto, convert_version: bool = False) -> ModelProto:
    """``onnx.inliner.inline_local_functions``: the same C++ call on the serialised model."""
    out: bytes = _cpp.inliner.inline_local_functions(model.SerializeToString(), convert_version)
    inlined: ModelProto = ModelProto.FromString(out)
    return inlined


# ---- numpy conversions ------------------------------------------------------------------------
# ONNX element types numpy has natively: (numpy dtype, the typed field that holds values when
# there is no raw_data, the numpy dtype of that field's elements).
_NATIVE: dict[int, tuple[np.dtype[Any], str, np.dtype[Any]]] = {
    1: (np.dtype(np.float32), "float_data", np.dtype(np.float32)),      # FLOAT
    2: (np.dtype(np.uint8), "int32_data", np.dtype(np.int32)),          # UINT8
    3: (np.dtype(np.int8), "int32_data", np.dtype(np.int32)),           # INT8
    4: (np.dtype(np.uint16), "int32_data", np.dtype(np.int32)),         # UINT16
    5: (np.dtype(np.int16), "int32_data", np.dtype(np.int32)),          # INT16
    6: (np.dtype(np.int32), "int32_data", np.dtype(np.int32)),          # INT32
    7: (np.dtype(np.int64), "int64_data", np.dtype(np.int64)),          # INT64
    9: (np.dtype(np.bool_), "int32_data", np.dtype(np.int32)),          # BOOL
    10: (np.dtype(np.float16), "int32_data", np.dtype(np.uint16)),      # FLOAT16: bit patterns
    11: (np.dtype(np.float64), "double_data", np.dtype(np.float64)),    # DOUBLE
    12: (np.dtype(np.uint32), "uint64_data", np.dtype(np.uint64)),      # UINT32
    13: (np.dtype(np.uint64), "uint64_data", np.dtype(np.uint64)),      # UINT64
}
_BY_NUMPY: dict[np.dtype[Any], int] = {np_dtype: code for code, (np_dtype, _, _) in _NATIVE.items()}
_LITTLE = sys.byteorder == "little"


def tensor_dtype_to_np_dtype(elem_type: int) -> np.dtype[Any]:
    """The numpy dtype of an ONNX element type (KeyError for an unknown one)."""
    native = _NATIVE.get(int(elem_type))
    if native is not None:
        return native[0]
    from onnx import helper

    return np.dtype(helper.tensor_dtype_to_np_dtype(elem_type))


def np_dtype_to_tensor_dtype(np_dtype: np.dtype[Any]) -> int:
    """The ONNX element type of a numpy dtype (ValueError when ONNX has none)."""
    code = _BY_NUMPY.get(np.dtype(np_dtype))
    if code is not None:
        return code
    from onnx import helper

    return int(helper.np_dtype_to_tensor_dtype(np_dtype))


def to_array(tensor: TensorProto) -> np.ndarray:
    """``onnx.numpy_helper.to_array`` for an inline tensor (external data is the caller's job)."""
    native = _NATIVE.get(tensor.data_type)
    if native is None or not _LITTLE or tensor.HasField("segment") or tensor.data_location == TensorProto.EXTERNAL:
        from onnx import numpy_helper

        return numpy_helper.to_array(tensor)
    np_dtype, field, stored = native
    dims = tuple(tensor.dims)
    if tensor.HasField("raw_data"):
        return np.frombuffer(tensor.raw_data, dtype=np_dtype).reshape(dims)
    values = np.asarray(getattr(tensor, field), dtype=stored)
    if np_dtype == np.float16:
        return values.reshape(dims).view(np.float16)
    return values.astype(np_dtype).reshape(dims)


def from_array(array: np.ndarray, name: str | None = None) -> TensorProto:
    """``onnx.numpy_helper.from_array``: the array's bytes as ``raw_data`` (little-endian)."""
    code = _BY_NUMPY.get(array.dtype)
    if code is None or not _LITTLE:
        from onnx import numpy_helper

        return numpy_helper.from_array(array, name)
    tensor = TensorProto()
    tensor.dims.extend(array.shape)
    if name:
        tensor.name = name
    tensor.data_type = code
    tensor.raw_data = np.ascontiguousarray(array).tobytes()
    return tensor


def make_tensor(name: str, elem_type: int, dims: Sequence[int], vals: Iterable[Any]) -> TensorProto:
    """A tensor with its values in the typed field of ``elem_type`` (FLOAT, INT64, STRING: the
    types a Constant node's scalar and list attributes hold)."""
    tensor = TensorProto()
    tensor.name = name
    tensor.data_type = elem_type
    tensor.dims.extend(dims)
    if elem_type == TensorProto.FLOAT:
        tensor.float_data.extend(vals)
    elif elem_type == TensorProto.INT64:
        tensor.int64_data.extend(vals)
    elif elem_type == TensorProto.STRING:
        tensor.string_data.extend(v.encode("utf-8") if isinstance(v, str) else v for v in vals)
    else:
        raise ValueError(f"make_tensor: element type {elem_type} is not FLOAT, INT64 or STRING")
    return tensor


def make_tensor_value_info(name: str, elem_type: int, shape: Sequence[int | str | None] | None) -> ValueInfoProto:
    """``onnx.helper.make_tensor_value_info``: ints are dim values, strings dim params, None
    an unknown dim; ``shape=None`` leaves the rank unknown."""
    info = ValueInfoProto()
    info.name = name
    tensor_type = info.type.tensor_type
    tensor_type.elem_type = elem_type
    if shape is not None:
        dims = tensor_type.shape.dim
        tensor_type.shape.SetInParent()
        for d in shape:
            dim = dims.add()
            if isinstance(d, int):
                dim.dim_value = d
            elif isinstance(d, str):
                dim.dim_param = d
    return info


def make_node(op_type: str, inputs: Sequence[str], outputs: Sequence[str], **tensor_attrs: TensorProto) -> NodeProto:
    """A node whose attributes are all tensors (what the frontends build: Constant nodes)."""
    node = NodeProto()
    node.op_type = op_type
    node.input.extend(inputs)
    node.output.extend(outputs)
    for key, value in sorted(tensor_attrs.items()):
        attr = node.attribute.add()
        attr.name = key
        attr.type = AttributeProto.TENSOR
        attr.t.CopyFrom(value)
    return node
