"""The shapes a TFLite model is profiled at: its inputs as the user set them, every other tensor
from the file.

A TFLite file stores every tensor's shape for one input size (``shape``) and marks the dims that
may change with -1 in ``shape_signature``. On the inputs:

* a dynamic leading dim (signature -1 at dim 0) is the symbolic ``batch``: ``--input`` or
  ``--dim batch=N`` sets it, and it defaults to 1 with a notice (as for ONNX models);
* any other dynamic dim is named ``<input>_dim<i>`` and defaults to the size the file stores,
  with a notice, unless ``--input`` or ``--dim`` sets it.

The inputs are resolved by the rules the file frontends share (:func:`~edgeprof.frontends.common.
resolve_inputs`: rank and static dims checked, one size per name). Every other tensor keeps the
file's shape, except that a changed batch replaces dim 0 of every tensor whose signature has -1
there. A changed non-batch dim is re-inferred through the main graph by the kernels' shape rules
(:mod:`~edgeprof.frontends.tflite._infer`); a tensor it cannot work out (an operator without a rule,
a subgraph) has its dynamic dims unknown (``?``), the ops that read them are listed as not counted,
and a notice says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from edgeprof.frontends.base import ShapeRequest
from edgeprof.frontends.common import ModelInput, TDim, TType, resolve_inputs
from edgeprof.frontends.onnx_proto import TensorProto
from edgeprof.frontends.tflite._graph import tensor_names
from edgeprof.frontends.tflite._infer import infer_shapes
from edgeprof.frontends.tflite._read import TfModel, TfTensor
from edgeprof.ir import Shape
from edgeprof.report.model import InputSpec

BATCH = "batch"
_ONNX_ELEM = {
    "float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16, "int32": TensorProto.INT32,
    "uint8": TensorProto.UINT8, "int64": TensorProto.INT64, "string": TensorProto.STRING, "bool": TensorProto.BOOL,
    "int16": TensorProto.INT16, "complex64": TensorProto.COMPLEX64, "int8": TensorProto.INT8,
    "float64": TensorProto.DOUBLE, "complex128": TensorProto.COMPLEX128, "uint64": TensorProto.UINT64,
    "uint32": TensorProto.UINT32, "uint16": TensorProto.UINT16, "int4": TensorProto.INT4,
    "bfloat16": TensorProto.BFLOAT16,
}


@dataclass(frozen=True)
class ShapePlan:
    """How each tensor's shape is chosen (see the module docstring)."""

    inputs: dict[int, tuple[int, ...]]  # main-graph input tensor index -> resolved shape
    batch: int | None  # the batch to put at dim 0 of dynamic-batch tensors (None: keep the file's)
    others_unknown: bool  # a non-batch input dim differs from the file's
    specs: tuple[InputSpec, ...]
    notices: tuple[str, ...]
    inferred: dict[int, tuple[int, ...]] = field(default_factory=dict)  # main-graph tensors re-inferred

    def shape(self, t: TfTensor, subgraph: int) -> Shape | None:
        if t.shape is None:
            return None
        if subgraph == 0 and t.index in self.inputs:
            return Shape(self.inputs[t.index])
        sig = t.signature
        if sig is None or all(d >= 0 for d in sig):
            return Shape(t.shape)
        if subgraph == 0 and t.index in self.inferred:
            return Shape(self.inferred[t.index])
        dims: list[int | str] = list(t.shape)
        for axis, d in enumerate(sig):
            if d >= 0:
                continue
            if axis == 0 and self.batch is not None:
                dims[0] = self.batch
            elif axis > 0 and self.others_unknown:
                dims[axis] = "?"
        return Shape(tuple(dims))


def plan_shapes(model: TfModel, request: ShapeRequest, label: str) -> ShapePlan:
    main = model.subgraphs[0]
    inputs: list[ModelInput] = []
    stored: dict[str, tuple[int, ...]] = {}
    names: dict[str, int] = {}
    flagged = {n for n, _ in request.inputs if n is not None}
    unnamed_flags = sum(1 for n, _ in request.inputs if n is None)
    notices: list[str] = []
    ir_names = tensor_names(main)
    for pos, i in enumerate(main.inputs):
        t = main.tensors[i]
        name = ir_names[i]
        names[name] = i
        shape = t.shape or ()
        stored[name] = tuple(shape)
        sig = t.signature if t.signature is not None else shape
        set_by_flag = name in flagged or pos < unnamed_flags
        dims: list[TDim] = []
        for axis, (d, s) in enumerate(zip(shape, sig, strict=True)):
            if s >= 0:
                dims.append(d)
            elif axis == 0 and len(shape) >= 2:
                dims.append(BATCH)
            else:
                sym = f"{name}_dim{axis}"
                if set_by_flag or sym in request.dims:
                    dims.append(sym)
                else:
                    dims.append(d)
                    notices.append(
                        f"input {name!r}: dim {axis} is dynamic in the model (shape_signature -1); the file's size {d} "
                        f"was used; set it with --input or --dim {sym}=N"
                    )
        inputs.append(ModelInput(name, TType(_ONNX_ELEM.get(t.dtype.name, 0), tuple(dims))))
    symbols = {d for inp in inputs if inp.type is not None and inp.type.dims for d in inp.type.dims if isinstance(d, str)}
    resolved = resolve_inputs(inputs, request, symbols, label)
    batch: int | None = None
    others_unknown = False
    for name, shape in resolved.shapes.items():
        old = stored[name]
        if len(shape) != len(old) or shape == old:
            continue
        if shape[0] != old[0]:
            batch = shape[0]
        if shape[1:] != old[1:]:
            others_unknown = True
    notices.extend(resolved.notices)
    by_index = {names[n]: s for n, s in resolved.shapes.items()}
    inferred: dict[int, tuple[int, ...]] = {}
    if others_unknown:
        inferred = infer_shapes(model, by_index)
        dynamic = [t for t in main.tensors if t.index not in by_index and t.signature is not None
                   and any(d < 0 for d in t.signature)]
        missing = [t for t in dynamic if t.index not in inferred]
        nested = any(any(d < 0 for d in t.signature or ()) for sg in model.subgraphs[1:] for t in sg.tensors)
        if missing or nested:
            first = f" (first: {ir_names[missing[0].index]!r})" if missing else ""
            notices.append(
                f"an input's non-batch dims differ from the sizes stored in the file; {len(dynamic) - len(missing)} of "
                f"{len(dynamic)} dynamic tensor shapes of the main graph were re-inferred through the kernels' shape "
                f"rules; the others{first}{' and those of the subgraphs' if nested else ''} have unknown dims and the "
                "ops that read them are listed as not counted"
            )
        else:
            notices.append(f"the shapes of the {len(dynamic)} dynamic tensors were re-inferred from the input's "
                           "through the kernels' shape rules (the file stores them for another input size)")
    return ShapePlan(by_index, batch, others_unknown, resolved.specs, tuple(notices), inferred)
