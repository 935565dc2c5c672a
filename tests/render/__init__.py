"""Shared material of the renderer tests: hand-built Profiles (deterministic, no frontend) and
the golden-file check (``pytest --update-goldens`` rewrites the files under ``goldens/``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgeprof.report.model import (
    CategoryShare,
    Foldable,
    InputSpec,
    LayerCost,
    ModelInfo,
    NotCounted,
    Profile,
    Totals,
    WeightGroup,
)

GOLDENS = Path(__file__).parent / "goldens"


def check_golden(config: pytest.Config, name: str, text: str) -> None:
    """Compare ``text`` with ``goldens/<name>``; with ``--update-goldens`` write it instead."""
    path = GOLDENS / name
    if config.getoption("--update-goldens"):
        GOLDENS.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        return
    if not path.exists():
        pytest.fail(f"golden file {path} is missing; run pytest --update-goldens to create it")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"output differs from {path}; if the change is intended, run pytest --update-goldens"


def tiny_cnn() -> Profile:
    """Conv(3->4, 3x3, pad 1, bias) -> Relu -> Flatten -> Gemm(256->10, bias) -> 2 x a custom op,
    at input 1x3x8x8, worked out by hand:

    * Conv: MACs 3*3*3*4*8*8 = 6,912; FLOPs (2*27-1)*4*64 + 4*64 = 13,824; params 108+4 = 112;
      read 768 (input) + 432 + 16 (weights) = 1,216 bytes, written 4*64*4 = 1,024.
    * Relu: 256 FLOPs; Flatten: a view (0 bytes); Gemm: 2*256*10 = 5,120 FLOPs, 2,560 MACs,
      params 2,570, read 1,024 + 10,240 + 40 = 11,304, written 40.
    * Totals: 19,200 FLOPs, 9,472 MACs, 2,682 params, 10,728 weight bytes (float32),
      13,544 bytes read, 2,088 written; the two custom nodes are not counted.
    """
    layers = (
        LayerCost("/features/0/Conv", "Conv", "conv", "counted", (1, 4, 8, 8), flops=13_824, macs=6_912,
                  bytes_read=1_216, bytes_written=1_024, params=112, precision="float32", scope="features.0"),
        LayerCost("/features/1/Relu", "Relu", "activation", "counted", (1, 4, 8, 8), flops=256,
                  bytes_read=1_024, bytes_written=1_024, precision="float32", scope="features.1"),
        LayerCost("/Flatten", "Flatten", "data_movement", "zero", (1, 256), precision="float32"),
        LayerCost("/classifier/Gemm", "Gemm", "linear", "counted", (1, 10), flops=5_120, macs=2_560,
                  bytes_read=11_304, bytes_written=40, params=2_570, precision="float32", scope="classifier"),
        LayerCost("/post/Mystery", "com.example::Mystery", "other", "not_counted", (1, 10), scope="post",
                  note="no formula for this op"),
        LayerCost("/post/Mystery_1", "com.example::Mystery", "other", "not_counted", (1, 10), scope="post",
                  note="no formula for this op"),
    )
    return Profile(
        model=ModelInfo("tiny_cnn", "onnx", "models/tiny_cnn.onnx", 11_384, "edgeprof-tests 1.0",
                        "ai.onnx:17, com.example:1"),
        inputs=(InputSpec("images", (1, 3, 8, 8), "float32", "default-batch"),),
        totals=Totals(flops=19_200, int_ops=0, macs=9_472, params=2_682, weight_bytes=10_728, bytes_read=13_544,
                      bytes_written=2_088, flops_max=19_200, macs_max=9_472, is_lower_bound=True),
        categories=(
            CategoryShare("conv", 13_824, 0, 6_912, 1, 13_824 / 19_200),
            CategoryShare("linear", 5_120, 0, 2_560, 1, 5_120 / 19_200),
            CategoryShare("activation", 256, 0, 0, 1, 256 / 19_200),
            CategoryShare("data_movement", 0, 0, 0, 1, 0.0),
            CategoryShare("other", 0, 0, 0, 2, 0.0),
        ),
        weights_by_dtype=(WeightGroup("float32", 4, 2_682, 2_682, 10_728),),
        layers=layers,
        not_counted=(NotCounted("com.example::Mystery", 2, "/post/Mystery", "no formula for this op"),),
        foldable=Foldable(256, 1, ("1 x Relu into the preceding kernel",)),
        notices=("input 'images': dim 0 ('N') not set, assumed 1 (the batch); for a batch of 8: --dim N=8",),
    )


def wide_mixed() -> Profile:
    """30 layers (more than the default 25 shown), integer OPs, an If whose branch is not known
    (a FLOPs range), a Loop body run 3 times, float16 + int8 weights, awkward names (markup
    brackets, a pipe, a very long scope) and no not-counted op. The figures are data for the
    renderers, chosen so that every layer's cost is distinct: layer i of the stack costs
    1,000 * (i + 1) FLOPs and 500 * (i + 1) MACs."""
    stack = tuple(
        LayerCost(f"/encoder/layers.{i}/mlp/MatMul", "MatMul", "linear", "counted", ("batch", 64),
                  flops=1_000 * (i + 1), macs=500 * (i + 1), bytes_read=2_048, bytes_written=256, params=128,
                  precision="float16", scope=f"encoder.layers.{i}.mlp")
        for i in range(25)
    )
    extra = (
        LayerCost("/quant/[q]MatMulInteger", "MatMulInteger", "linear", "counted", (1, 4), int_ops=124, macs=64,
                  bytes_read=80, bytes_written=16, params=64, precision="int8", scope="quant"),
        LayerCost("/if", "If", "control_flow", "zero", (1, 64),
                  note="condition not known statically: totals, categories and shares at the costlier branch "
                       "(else_branch); the other branch is listed, not in the totals"),
        LayerCost("/if/then_branch/a|b", "Relu", "activation", "counted", (1, 64), flops=64, bytes_read=256,
                  bytes_written=256, precision="float16", range_group="/if", in_totals=False),
        LayerCost("/if/else_branch/sig", "Sigmoid", "activation", "counted", (1, 64), flops=256, bytes_read=256,
                  bytes_written=256, precision="float16", range_group="/if"),
        LayerCost("/loop/body/" + "very_long_module_name_" * 4 + "Add", "Add", "elementwise", "counted", (1, 64),
                  flops=192, bytes_read=1_536, bytes_written=768, precision="float16", calls=3,
                  scope="loop.body"),
    )
    layers = stack + extra
    stack_flops = 1_000 * sum(range(1, 26))  # 325,000
    stack_macs = 500 * sum(range(1, 26))  # 162,500
    flops = stack_flops + 256 + 192  # the totals follow the If's costlier branch (Sigmoid, 256)
    total = flops + 124
    return Profile(
        model=ModelInfo("wide_mixed", "onnx", "/tmp/wide mixed [v2].onnx", None, "", ""),
        inputs=(
            InputSpec("tokens", (1, 64), "int64", "flag"),
            InputSpec("use_fast", (), "bool", "model"),
        ),
        totals=Totals(flops=flops, int_ops=124, macs=stack_macs + 64, params=25 * 128 + 64,
                      weight_bytes=25 * 128 * 2 + 64, bytes_read=25 * 2_048 + 80 + 256 + 1_536,
                      bytes_written=25 * 256 + 16 + 256 + 768, flops_max=flops,
                      macs_max=stack_macs + 64, is_lower_bound=False, flops_min=stack_flops + 64 + 192),
        categories=(  # the If's cheaper branch (in_totals=False) is left out, as the summary pass does
            CategoryShare("linear", stack_flops, 124, stack_macs + 64, 26, (stack_flops + 124) / total),
            CategoryShare("activation", 256, 0, 0, 1, 256 / total),
            CategoryShare("elementwise", 192, 0, 0, 1, 192 / total),
            CategoryShare("control_flow", 0, 0, 0, 1, 0.0),
        ),
        weights_by_dtype=(WeightGroup("float16", 25, 3_200, 3_200, 6_400), WeightGroup("int8", 1, 64, 64, 64)),
        layers=layers,
        not_counted=(),
        foldable=Foldable(0, 0, ()),
        notices=(),
    )


def tiny_cnn_onnx() -> onnx.ModelProto:
    """The model :func:`tiny_cnn` describes, as an ONNX model built in code (deterministic
    weights): input ``images`` Nx3x8x8 (a symbolic batch) -> Conv(3->4, 3x3, pad 1, bias) -> Relu -> Flatten ->
    Gemm(256->10, bias, transB) -> two nodes of the custom op ``com.example::Mystery`` (which
    edgeprof cannot cost, so the report is a lower bound)."""
    w_conv = numpy_helper.from_array((np.arange(4 * 3 * 3 * 3, dtype=np.float32) / 100).reshape(4, 3, 3, 3), "conv.w")
    b_conv = numpy_helper.from_array(np.arange(4, dtype=np.float32), "conv.b")
    w_fc = numpy_helper.from_array((np.arange(10 * 256, dtype=np.float32) / 1000).reshape(10, 256), "fc.w")
    b_fc = numpy_helper.from_array(np.arange(10, dtype=np.float32), "fc.b")
    nodes = [
        helper.make_node("Conv", ["images", "conv.w", "conv.b"], ["c"], name="/features/0/Conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="/features/1/Relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="/Flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["logits"], name="/classifier/Gemm", transB=1),
        helper.make_node("Mystery", ["logits"], ["m1"], name="/post/Mystery", domain="com.example"),
        helper.make_node("Mystery", ["m1"], ["out"], name="/post/Mystery_1", domain="com.example"),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_cnn",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 10])],
        initializer=[w_conv, b_conv, w_fc, b_fc],
        value_info=[
            helper.make_tensor_value_info("c", TensorProto.FLOAT, ["N", 4, 8, 8]),
            helper.make_tensor_value_info("r", TensorProto.FLOAT, ["N", 4, 8, 8]),
            helper.make_tensor_value_info("f", TensorProto.FLOAT, ["N", 256]),
            helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10]),
            helper.make_tensor_value_info("m1", TensorProto.FLOAT, ["N", 10]),
        ],
    )
    model = helper.make_model(
        graph,
        producer_name="edgeprof-tests",
        producer_version="1.0",
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.example", 1)],
    )
    model.ir_version = 8
    return model


def write_tiny_cnn_onnx(path: Path) -> Path:
    """Save :func:`tiny_cnn_onnx` to ``path`` and return it."""
    onnx.save(tiny_cnn_onnx(), str(path))
    return path


def e2e_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Profile:
    """Profile :func:`tiny_cnn_onnx` through the whole pipeline (ONNX frontend, passes), read
    from ``tiny_cnn.onnx`` in ``tmp_path`` (the working directory during the call)."""
    import edgeprof

    write_tiny_cnn_onnx(tmp_path / "tiny_cnn.onnx")
    monkeypatch.chdir(tmp_path)
    return edgeprof.profile("tiny_cnn.onnx")


def normalise_tmp(text: str, tmp_path: Path) -> str:
    """Replace the temporary folder in ``text`` (a path a frontend may have made absolute)."""
    for form in {str(tmp_path), str(tmp_path.resolve())}:
        text = text.replace(form, "<tmp>")
    return text
