"""Op family: data movement. These ops cost 0 FLOPs; the bytes they read and write are counted.

* **views** (Reshape, Squeeze, Unsqueeze, Flatten, Identity, and Dropout, which is the
  identity at inference) alias their input: 0 bytes;
* **copies** (Transpose, Concat, Split, Pad, Cast, Expand, Tile, Where, ...) read every input
  and write every output;
* ops that read only **part** of an input are formulas with exact bytes, 0 ops: Gather,
  GatherElements, GatherND, Slice and Compress read the indices and the elements they pick
  (numel(Y)), not the whole table; Shape, Size and EyeLike read only the input's shape;
  CastLike reads only the dtype of its second input;
* Scatter, ScatterElements and ScatterND copy data and write the updates; with a
  ``reduction`` (add, mul, max, min) each update is also 1 op;
* TFLite's resource variables (the streaming state of keyword spotters such as
  microWakeWord): ``tflite::VAR_HANDLE`` names a variable (no data), ``tflite::READ_VARIABLE``
  copies the variable into its output, ``tflite::ASSIGN_VARIABLE`` copies its value input into
  the variable. No arithmetic; the bytes they copy are counted.

Where (a select) is data movement: choosing between two values is not arithmetic. Indices,
shapes, axes and pads are declared as meta inputs (never parameters).
"""

from __future__ import annotations

from edgeprof.ir import DType, Shape, Value
from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, data_movement, formula

_HANDLE = Value("handle", DType("resource", 0, "int"), Shape(()))  # a TFLite resource handle: no data

# --- views: alias the input, 0 bytes ----------------------------------------------------------

data_movement("Reshape", reason="a view: reinterprets the shape, no copy", view=True, meta_inputs=(1,))
data_movement("Squeeze", "Unsqueeze", reason="a view: drops or inserts size-1 dims, no copy", view=True, meta_inputs=(1,))
data_movement("Flatten", reason="a view: reinterprets the shape as 2-D, no copy", view=True)
data_movement("Identity", reason="a view: the output is the input", view=True)
data_movement(
    "Dropout", reason="a view: the identity at inference (ratio and training_mode are not applied)", view=True,
    meta_inputs=(1, 2),
)

# --- copies: read every input, write every output ---------------------------------------------

data_movement("Transpose", reason="permutes the elements: reads X, writes Y")
data_movement("Concat", reason="copies every input into Y")
data_movement("Split", reason="copies X into the outputs", meta_inputs=(1,))
data_movement("Pad", reason="copies X and fills the border (constant, reflect, edge or wrap)", meta_inputs=(1, 2, 3))
data_movement("CenterCropPad", reason="copies the centred window of X and fills with zeros", meta_inputs=(1,))
data_movement("Cast", reason="converts the element type: reads X, writes Y")
data_movement("BitCast", reason="reinterprets the bits as another type of the same width")
data_movement("Expand", reason="broadcasts X to the shape: reads X, writes Y", meta_inputs=(1,))
data_movement("Tile", reason="repeats X: reads X, writes Y", meta_inputs=(1,))
data_movement("DepthToSpace", "SpaceToDepth", reason="rearranges blocks between channels and space")
data_movement("ReverseSequence", reason="reverses each sequence's prefix: reads X, writes Y", meta_inputs=(1,))
data_movement("Trilu", reason="keeps a triangle and zeroes the rest (a select, not arithmetic)", meta_inputs=(1,))
data_movement("Where", reason="a select between X and Y by condition: not arithmetic")
data_movement("Constant", reason="writes a stored value")
data_movement("tflite::VAR_HANDLE", reason="names a resource variable (streaming state): a handle, no data")
data_movement("ConstantOfShape", reason="fills the output with one value", meta_inputs=(0,))
data_movement("OneHot", reason="fills the output with off_value and writes on_value at the indices", meta_inputs=(1, 2))
data_movement("TensorScatter", reason="copies the cache and writes the update at the write indices", meta_inputs=(2,))
data_movement("Optional", "OptionalGetElement", "OptionalHasElement", reason="wraps, unwraps or tests an optional value")
data_movement(
    "SequenceConstruct", "SequenceEmpty", "SequenceLength", "ConcatFromSequence",
    reason="builds, measures or concatenates a sequence of tensors",
)
data_movement("SequenceAt", "SequenceErase", reason="reads or removes one tensor of a sequence", meta_inputs=(1,))
data_movement("SequenceInsert", reason="inserts one tensor into a sequence", meta_inputs=(2,))
data_movement("SplitToSequence", reason="splits a tensor into a sequence of tensors", meta_inputs=(1,))


# --- formulas: 0 ops (or the scatter reduction) with exact bytes -------------------------------


def _bytes(call: OpCall, i: int) -> int:
    return call.in_dtype(i).nbytes_for(call.in_numel(i))


def _out_bytes(call: OpCall) -> int:
    return sum(v.dtype.nbytes_for(call.out_numel(i)) for i, v in enumerate(call.outputs))


def _picked(call: OpCall, *index_inputs: int) -> Arith:
    """Reads the index/meta inputs present and numel(Y) elements of input 0; writes Y."""
    read = call.in_dtype(0).nbytes_for(call.out_numel()) + sum(_bytes(call, i) for i in index_inputs if call.has_input(i))
    return Arith(ops=0, bytes_read=read, bytes_written=_out_bytes(call))


@formula(
    "Gather", category=Category.DATA_MOVEMENT, meta_inputs=(1,),
    example=Example(((5, 4), ((3,), "int64")), ((3, 4),), ops=0),
)
def gather(call: OpCall) -> Arith:
    """0 ops; reads the indices + numel(Y) gathered elements (not the whole table), writes Y."""
    return _picked(call, 1)


@formula(
    "GatherElements", "GatherND", category=Category.DATA_MOVEMENT, meta_inputs=(1,),
    example=Example(((2, 3), ((2, 3), "int64")), ((2, 3),), ops=0),
)
def gather_elements(call: OpCall) -> Arith:
    """0 ops; reads the indices + numel(Y) gathered elements, writes Y."""
    return _picked(call, 1)


@formula(
    "Slice", category=Category.DATA_MOVEMENT, meta_inputs=(1, 2, 3, 4),
    example=Example(((4, 6), ((2,), "int64"), ((2,), "int64")), ((2, 3),), ops=0),
)
def slice_(call: OpCall) -> Arith:
    """0 ops; reads starts/ends/axes/steps + the numel(Y) sliced elements, writes Y."""
    return _picked(call, 1, 2, 3, 4)


@formula("Compress", category=Category.DATA_MOVEMENT, example=Example(((4, 3), ((4,), "bool")), ((2, 3),), ops=0))
def compress(call: OpCall) -> Arith:
    """0 ops; reads the condition + numel(Y) selected elements, writes Y (Y's size comes from the condition's values)."""
    if not call.outputs or not call.outputs[0].is_static:
        raise Uncountable("Compress: the output size depends on the condition's values and is not known statically")
    return _picked(call, 1)


@formula(
    "Shape", "Size", category=Category.DATA_MOVEMENT,
    example={
        "Shape": Example(((2, 3, 4),), (((3,), "int64"),), ops=0),
        "Size": Example(((2, 3, 4),), (((), "int64"),), ops=0),
    },
)
def shape(call: OpCall) -> Arith:
    """0 ops; reads only the input's shape (0 bytes of data), writes the small int64 output."""
    return Arith(ops=0, bytes_read=0, bytes_written=_out_bytes(call))


@formula("EyeLike", category=Category.DATA_MOVEMENT, example=Example(((3, 3),), ((3, 3),), ops=0))
def eye_like(call: OpCall) -> Arith:
    """0 ops; reads only the input's shape, writes Y (zeros with ones on the k-th diagonal)."""
    return Arith(ops=0, bytes_read=0, bytes_written=_out_bytes(call))


@formula(
    "CastLike", category=Category.DATA_MOVEMENT, meta_inputs=(1,),
    example=Example(((2, 3), ((), "float16")), (((2, 3), "float16"),), ops=0),
)
def cast_like(call: OpCall) -> Arith:
    """0 ops; reads X (only the dtype of target_type), writes Y."""
    return Arith(ops=0, bytes_read=_bytes(call, 0), bytes_written=_out_bytes(call))


@formula(
    "Scatter", "ScatterElements", "ScatterND", category=Category.DATA_MOVEMENT, meta_inputs=(1,),
    example=Example(((4, 3), ((2, 3), "int64"), (2, 3)), ((4, 3),), {"reduction": "add"}, ops=6),
)
def scatter(call: OpCall) -> Arith:
    """reduction none: 0 ops; add/mul/max/min: 1 op per update element. Reads data, indices, updates; writes Y."""
    reduction = call.attr_str("reduction", "none")
    if reduction == "none":
        return Arith(ops=0)
    if reduction not in ("add", "mul", "max", "min"):
        raise Uncountable(f"{call.op}: unknown reduction {reduction!r}")
    return Arith(ops=call.in_numel(2))


@formula(
    "tflite::READ_VARIABLE", category=Category.DATA_MOVEMENT,
    example=Example((_HANDLE,), (((1, 4, 1, 8), "int8"),), ops=0),
)
def read_variable(call: OpCall) -> Arith:
    """0 ops; copies the resource variable into Y: reads and writes numel(Y) elements."""
    out = _out_bytes(call)
    return Arith(ops=0, precision=call.outputs[0].dtype if call.outputs else None, bytes_read=out, bytes_written=out)


@formula(
    "tflite::ASSIGN_VARIABLE", category=Category.DATA_MOVEMENT,
    example=Example((_HANDLE, ((1, 4, 1, 8), "int8")), (), ops=0),
)
def assign_variable(call: OpCall) -> Arith:
    """0 ops; copies the value (input 1) into the resource variable: reads and writes numel(value) elements."""
    value = _bytes(call, 1)
    return Arith(ops=0, precision=call.in_dtype(1), bytes_read=value, bytes_written=value)
