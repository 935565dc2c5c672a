"""The ONNX frontend's lean access to the installed onnx package (frontends/onnx_proto.py):
same messages, same shape inference, same tensor values as ``import onnx`` gives, without it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeprof.frontends import onnx_proto

SRC = Path(__file__).resolve().parents[2] / "src"


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"})
    return out.stdout.strip()


def test_profiling_an_onnx_file_imports_neither_onnx_nor_ml_dtypes(tmp_path: Path) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    model = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y]))
    path = tmp_path / "relu.onnx"
    onnx.save(model, str(path))
    code = ("import sys, edgeprof; p = edgeprof.profile(sys.argv[1]); "
            "print(p.totals.flops, 'onnx' in sys.modules, 'ml_dtypes' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"}).stdout.split()
    assert out == ["4", "False", "False"]


def test_a_later_import_onnx_reuses_the_same_messages_and_extension() -> None:
    code = """
import sys
from edgeprof.frontends import onnx_proto
import onnx
from onnx import helper, shape_inference
assert onnx.ModelProto is onnx_proto.ModelProto
assert sys.modules['onnx.onnx_cpp2py_export'] is onnx_proto._cpp
x = helper.make_tensor_value_info('x', onnx.TensorProto.FLOAT, [2, 3])
y = helper.make_tensor_value_info('y', onnx.TensorProto.FLOAT, None)
m = helper.make_model(helper.make_graph([helper.make_node('Relu', ['x'], ['y'])], 'g', [x], [y]))
a = shape_inference.infer_shapes(m)
b = onnx_proto.infer_shapes(m)
assert a == b and isinstance(b, onnx.ModelProto)
print([d.dim_value for d in b.graph.output[0].type.tensor_type.shape.dim])
"""
    assert _run(code) == "[2, 3]"


NATIVE = [np.float32, np.uint8, np.int8, np.uint16, np.int16, np.int32, np.int64, np.bool_, np.float16,
          np.float64, np.uint32, np.uint64]


@pytest.mark.parametrize("dtype", NATIVE, ids=lambda d: np.dtype(d).name)
def test_tensor_values_match_numpy_helper_raw_and_typed(dtype: type) -> None:
    arr = (np.arange(12).reshape(3, 4) % 7).astype(dtype)
    raw = numpy_helper.from_array(arr, "t")
    assert onnx_proto.from_array(arr, "t") == raw
    code = helper.np_dtype_to_tensor_dtype(arr.dtype)
    assert onnx_proto.np_dtype_to_tensor_dtype(arr.dtype) == code
    assert onnx_proto.tensor_dtype_to_np_dtype(code) == arr.dtype
    typed = helper.make_tensor("t", code, arr.shape, arr.flatten().tolist() if dtype != np.float16 else arr.flatten())
    assert not typed.HasField("raw_data")
    for t in (raw, typed):
        got = onnx_proto.to_array(t)
        want = numpy_helper.to_array(t)
        assert got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want)


def test_types_numpy_lacks_fall_back_to_onnx_numpy_helper() -> None:
    t = helper.make_tensor("s", TensorProto.STRING, [2], [b"a", b"b"])
    assert list(onnx_proto.to_array(t)) == list(numpy_helper.to_array(t))
    bf = helper.make_tensor("b", TensorProto.BFLOAT16, [2], [1.0, 2.0])
    assert np.array_equal(onnx_proto.to_array(bf).astype(np.float32), np.array([1.0, 2.0], np.float32))


def test_helpers_build_what_onnx_helper_builds() -> None:
    assert onnx_proto.make_tensor("c", TensorProto.FLOAT, [2], [1.0, 2.5]) == helper.make_tensor(
        "c", TensorProto.FLOAT, [2], [1.0, 2.5])
    assert onnx_proto.make_tensor("c", TensorProto.INT64, [], [3]) == helper.make_tensor("c", TensorProto.INT64, [], [3])
    assert onnx_proto.make_tensor("c", TensorProto.STRING, [1], [b"x"]) == helper.make_tensor(
        "c", TensorProto.STRING, [1], [b"x"])
    for shape in ([1, "n", None], None, []):
        assert onnx_proto.make_tensor_value_info("v", TensorProto.FLOAT, shape) == helper.make_tensor_value_info(
            "v", TensorProto.FLOAT, shape)
    value = helper.make_tensor("c", TensorProto.FLOAT, [1], [1.0])
    assert onnx_proto.make_node("Constant", [], ["c"], value=value) == helper.make_node(
        "Constant", [], ["c"], value=value)


def test_inliner_matches_onnx() -> None:
    from onnx import inliner

    f = helper.make_function("local", "twice", ["a"], ["b"], [helper.make_node("Add", ["a", "a"], ["b"])],
                             [helper.make_opsetid("", 17)])
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    g = helper.make_graph([helper.make_node("twice", ["x"], ["y"], domain="local")], "g", [x], [y])
    m = helper.make_model(g, functions=[f], opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("local", 1)])
    assert onnx_proto.inline_local_functions(m) == inliner.inline_local_functions(m)
