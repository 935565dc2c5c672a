"""Input shapes from the request (--input, --dim, --value, the default batch) and the shapes
ONNX's own inference leaves symbolic, resolved by the project's rules."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import edgeprof
from edgeprof.errors import EdgeprofError, ShapeError, UsageError
from edgeprof.frontends.base import ShapeRequest
from edgeprof.frontends.onnx import load_onnx
from edgeprof.ir import Shape
from tests.frontends.onnx_builders import INT64, conv_net, make_model, node


def _two_inputs() -> onnx.ModelProto:
    """ids (batch, seq) int64 and mask (batch, seq) -> Cast + Add -> (batch, seq)."""
    return make_model(
        [node("Cast", ["ids"], ["f"], to=onnx.TensorProto.FLOAT), node("Add", ["f", "mask"], ["y"])],
        inputs=[("ids", ["batch", "seq"], INT64), ("mask", ["batch", "seq"])], outputs=["y"],
    )


def _error(model: onnx.ModelProto, request: ShapeRequest, kind: type[EdgeprofError] = ShapeError) -> str:
    with pytest.raises(kind) as info:
        load_onnx(model, request)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


# ---- the request ----------------------------------------------------------------------------------


def test_symbolic_batch_defaults_to_one_with_a_notice() -> None:
    lm = load_onnx(conv_net(batch="batch_size"), ShapeRequest())
    assert lm.inputs[0].shape == (1, 3, 8, 8)
    assert lm.inputs[0].source == "default-batch"
    assert lm.graph.values["y"].shape == Shape((1, 2))
    assert lm.notices == (
        "input 'x': dim 0 ('batch_size') not set, assumed 1 (the batch); for a batch of 8: --dim batch_size=8",
    )


def test_unknown_unnamed_batch_defaults_to_one_with_a_notice() -> None:
    lm = load_onnx(conv_net(batch=None), ShapeRequest())
    assert lm.inputs[0].shape == (1, 3, 8, 8)
    assert lm.notices == ("input 'x': dim 0 (unnamed) not set, assumed 1 (the batch); for a batch of 8: --input x=8x3x8x8",)


def test_dim_flag_sets_a_named_dim_everywhere() -> None:
    lm = load_onnx(conv_net(batch="N"), ShapeRequest(dims={"N": 5}))
    assert lm.inputs[0].shape == (5, 3, 8, 8) and lm.inputs[0].source == "flag"
    assert lm.notices == ()
    assert lm.graph.values["c"].shape == Shape((5, 4, 6, 6))
    assert lm.graph.values["y"].shape == Shape((5, 2))


def test_input_by_name_and_positional() -> None:
    model = _two_inputs()
    by_name = load_onnx(model, ShapeRequest(inputs=(("mask", (2, 7)), ("ids", (2, 7)))))
    assert [(s.name, s.shape, s.dtype, s.source) for s in by_name.inputs] == [
        ("ids", (2, 7), "int64", "flag"), ("mask", (2, 7), "float32", "flag")]
    assert by_name.graph.values["y"].shape == Shape((2, 7))
    positional = load_onnx(model, ShapeRequest(inputs=((None, (3, 4)), (None, (3, 4)))))
    assert [s.shape for s in positional.inputs] == [(3, 4), (3, 4)]
    # a named input is skipped by the positional ones
    mixed = load_onnx(model, ShapeRequest(inputs=(("ids", (1, 9)), (None, (1, 9)))))
    assert [s.shape for s in mixed.inputs] == [(1, 9), (1, 9)]


def test_one_input_fixes_the_named_dims_of_the_others() -> None:
    lm = load_onnx(_two_inputs(), ShapeRequest(inputs=(("ids", (2, 11)),)))
    assert [(s.shape, s.source) for s in lm.inputs] == [((2, 11), "flag"), ((2, 11), "flag")]


def test_through_the_public_api() -> None:
    p = edgeprof.profile(conv_net(batch="N"), input_shapes={"x": (4, 3, 8, 8)})
    assert p.inputs[0].shape == (4, 3, 8, 8)
    conv = next(layer for layer in p.layers if layer.op == "Conv")
    assert conv.macs == 4 * 3888  # a batch of N costs N times one sample


# ---- bad requests ---------------------------------------------------------------------------------


def test_unset_non_batch_dim_is_refused_naming_input_dim_and_flags() -> None:
    msg = _error(_two_inputs(), ShapeRequest())
    assert "'ids'" in msg and "dim 1" in msg and "'seq'" in msg
    # both inputs share 'seq': one error names both, the command sets both to one (suggested) size
    assert "'mask'" in msg and "--input ids=1x128 --input mask=1x128" in msg and "suggested" in msg


def test_unknown_input_name_lists_the_valid_ones() -> None:
    msg = _error(_two_inputs(), ShapeRequest(inputs=(("idz", (1, 2)),)))
    assert "'idz'" in msg and "ids, mask" in msg


def test_rank_mismatch() -> None:
    msg = _error(conv_net(batch="N"), ShapeRequest(inputs=(("x", (1, 3, 8)),)))
    assert "'x'" in msg and "rank 4" in msg and "3 dims" in msg


def test_static_dim_contradiction() -> None:
    msg = _error(conv_net(batch="N"), ShapeRequest(inputs=(("x", (1, 4, 8, 8)),)))
    assert "dim 1" in msg and "is 3 in the model" in msg and "gives 4" in msg


def test_too_many_positional_shapes() -> None:
    msg = _error(conv_net(), ShapeRequest(inputs=((None, (1, 3, 8, 8)), (None, (1, 3, 8, 8)))))
    assert "1 input(s): x" in msg


def test_unknown_dim_name_lists_the_named_dims() -> None:
    msg = _error(_two_inputs(), ShapeRequest(dims={"sequence": 4}))
    assert "'sequence'" in msg and "batch, seq" in msg


def test_conflicting_sizes_for_one_named_dim() -> None:
    msg = _error(_two_inputs(), ShapeRequest(inputs=(("ids", (2, 5)), ("mask", (2, 6)))))
    assert "'seq'" in msg and "5" in msg and "6" in msg


@pytest.mark.parametrize("size", [0, -1, 2**62])
def test_dims_out_of_range_are_usage_errors(size: int) -> None:
    if size != 0:  # --dim N=0 is allowed (an empty past KV length); an input shape needs every dim >= 1
        assert "2**62" in _error(conv_net(batch="N"), ShapeRequest(dims={"N": size}), UsageError)
    assert "2**62" in _error(conv_net(batch="N"), ShapeRequest(inputs=(("x", (size, 3, 8, 8)),)), UsageError)


def test_a_named_dim_may_be_zero_only_for_an_empty_past() -> None:
    # issue #17: a 0 makes sense only for a KV-cache length (tests/test_cli_daily.py has the allowed case)
    assert "cannot be 0" in _error(conv_net(batch="N"), ShapeRequest(dims={"N": 0}))


def test_input_without_a_shape_must_be_given() -> None:
    model = make_model([node("Relu", ["x"], ["y"])], inputs=[("x", None)], outputs=["y"])
    assert "--input x=" in _error(model, ShapeRequest())
    lm = load_onnx(model, ShapeRequest(inputs=((None, (2, 3)),)))
    assert lm.graph.values["y"].shape == Shape((2, 3))


def test_value_for_an_unknown_input() -> None:
    msg = _error(conv_net(), ShapeRequest(values={"rate": (1.0,)}))
    assert "'rate'" in msg and "inputs: x" in msg


def test_value_that_is_not_an_integer_for_an_int_input() -> None:
    model = make_model([node("Identity", ["n"], ["y"])], inputs=[("n", [], INT64)], outputs=["y"])
    assert "not an integer" in _error(model, ShapeRequest(values={"n": (2.5,)}), UsageError)


# ---- shapes ONNX's inference leaves open --------------------------------------------------------------


def _div_chain() -> onnx.ModelProto:
    """x (batch, seq, 64) -> Reshape(x, [0, seq / 2, 2, 64]) -> Relu, with seq / 2 computed
    from Shape -> Gather -> Div -> Unsqueeze -> Concat."""
    c = [("i1", np.array(1, np.int64)), ("two", np.array(2, np.int64)), ("ax", np.array([0], np.int64)),
         ("zero", np.array([0], np.int64)), ("two1", np.array([2], np.int64)), ("c64", np.array([64], np.int64))]
    nodes = [
        node("Shape", ["x"], ["s"]), node("Gather", ["s", "i1"], ["seq"], axis=0),
        node("Div", ["seq", "two"], ["half"]), node("Unsqueeze", ["half", "ax"], ["half1"]),
        node("Concat", ["zero", "half1", "two1", "c64"], ["shape"], axis=0),
        node("Reshape", ["x", "shape"], ["r"]), node("Relu", ["r"], ["y"]),
    ]
    return make_model(nodes, inputs=[("x", ["batch", "seq", 64])], outputs=["y"], initializers=c)


def test_onnx_alone_leaves_the_div_chain_open() -> None:
    """The premise of the next test: ONNX's own inference does not resolve this chain."""
    model = _div_chain()
    for d, v in zip(model.graph.input[0].type.tensor_type.shape.dim, (2, 10, 64), strict=True):
        d.dim_value = v
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    r = next(v for v in inferred.graph.value_info if v.name == "r")
    dims = r.type.tensor_type.shape.dim
    assert not all(d.HasField("dim_value") for d in dims)


def test_div_chain_resolved_by_own_rules() -> None:
    lm = load_onnx(_div_chain(), ShapeRequest(dims={"batch": 2, "seq": 10}))
    assert lm.graph.values["r"].shape == Shape((2, 5, 2, 64))
    assert lm.graph.values["y"].shape == Shape((2, 5, 2, 64))
    assert lm.notices == ()
    relu = next(layer for layer in edgeprof.profile(_div_chain(), dims={"batch": 2, "seq": 10}).layers
                if layer.op == "Relu")
    assert relu.flops == 2 * 5 * 2 * 64


def _range_expand_chain() -> onnx.ModelProto:
    """position ids: Range(0, seq) -> Unsqueeze -> Expand to (batch, seq) -> Cast -> Add to
    ConstantOfShape(Shape(x)[:2]) -> Mul by x's first channel (batch, seq)."""
    c = [("i0", np.array(0, np.int64)), ("i1", np.array(1, np.int64)), ("one", np.array(1, np.int64)),
         ("ax", np.array([0], np.int64)), ("start", np.array([0], np.int64)), ("end", np.array([2], np.int64))]
    nodes = [
        node("Shape", ["x"], ["s"]), node("Gather", ["s", "i1"], ["seq"], axis=0),
        node("Range", ["i0", "seq", "one"], ["pos"]), node("Unsqueeze", ["pos", "ax"], ["pos1"]),
        node("Slice", ["s", "start", "end"], ["s2"]), node("Expand", ["pos1", "s2"], ["pos2"]),
        node("Cast", ["pos2"], ["posf"], to=onnx.TensorProto.FLOAT),
        node("ConstantOfShape", ["s2"], ["zeros"]), node("Add", ["posf", "zeros"], ["y"]),
    ]
    return make_model(nodes, inputs=[("x", ["batch", "seq", 4])], outputs=["y"], initializers=c)


def test_range_expand_constant_of_shape_chain() -> None:
    lm = load_onnx(_range_expand_chain(), ShapeRequest(dims={"batch": 3, "seq": 7}))
    v = lm.graph.values
    assert v["pos"].shape == Shape((7,))
    assert v["pos2"].shape == Shape((3, 7))
    assert v["zeros"].shape == Shape((3, 7))
    assert v["y"].shape == Shape((3, 7))


def test_value_flag_drives_a_shape() -> None:
    """--value sets a graph input's value (a target length) that a Reshape reads."""
    model = make_model(
        [node("Concat", ["lead", "n"], ["shape"], axis=0), node("Reshape", ["x", "shape"], ["y"])],
        inputs=[("x", [12]), ("n", [1], INT64)], outputs=["y"], initializers=[("lead", np.array([-1], np.int64))],
    )
    lm = load_onnx(model, ShapeRequest(values={"n": (4.0,)}))
    assert lm.graph.values["y"].shape == Shape((3, 4))
    assert [(s.name, s.shape) for s in lm.inputs] == [("x", (12,)), ("n", (1,))]
    unknown = load_onnx(model, ShapeRequest())
    y = unknown.graph.values["y"].shape
    assert y is not None and not y.is_static  # without the value the shape stays open
    assert any("not known statically" in n for n in unknown.notices)


def test_symbolic_names_from_the_model_are_kept_where_unresolved() -> None:
    """A custom op's output keeps the exporter's symbolic dim; nothing is invented."""
    model = make_model(
        [node("Mystery", ["x"], ["m"], domain="custom"), node("Relu", ["m"], ["y"])],
        inputs=[("x", [2, 3])], outputs=["y"], domains={"custom": 1}, value_info=[("m", [2, "tokens"])],
    )
    g = load_onnx(model, ShapeRequest()).graph
    assert g.values["m"].shape == Shape((2, "tokens"))
    assert g.values["y"].shape == Shape((2, "tokens"))
    nothing = make_model([node("Mystery", ["x"], ["m"], domain="custom")], inputs=[("x", [2, 3])], outputs=["m"],
                         domains={"custom": 1})
    assert load_onnx(nothing, ShapeRequest()).graph.values["m"].shape is None


@settings(max_examples=25, deadline=None)
@given(batch=st.integers(1, 6), seq=st.integers(1, 12).map(lambda n: 2 * n))
def test_div_chain_scales_with_the_request(batch: int, seq: int) -> None:
    lm = load_onnx(_div_chain(), ShapeRequest(dims={"batch": batch, "seq": seq}))
    assert lm.graph.values["y"].shape == Shape((batch, seq // 2, 2, 64))


def test_stale_exporter_shapes_do_not_override_the_requested_batch() -> None:
    """value_info and outputs written at export time with batch 1 are hints, not facts: with
    --dim N=4 every value has batch 4 (a stale 1 would silently undercount by 4x)."""
    model = make_model(
        [node("Relu", ["x"], ["r"]), node("Neg", ["r"], ["y"])],
        inputs=[("x", ["N", 3])], outputs=[("y", [1, 3])], value_info=[("r", [1, 3])],
    )
    g = load_onnx(model, ShapeRequest(dims={"N": 4})).graph
    assert g.values["r"].shape == Shape((4, 3))
    assert g.values["y"].shape == Shape((4, 3))


def test_shapes_after_onnxruntime_contrib_ops() -> None:
    """ONNX has no shape function for com.microsoft ops; with onnxruntime installed its symbolic
    shape inference fills the gap, so the ops after them are shaped (and counted)."""
    pytest.importorskip("onnxruntime")
    model = make_model(
        [node("BiasGelu", ["x", "bias"], ["g"], domain="com.microsoft"), node("Relu", ["g"], ["y"])],
        inputs=[("x", ["batch", 5])], outputs=["y"], domains={"com.microsoft": 1},
        initializers=[("bias", np.zeros(5, np.float32))],
    )
    lm = load_onnx(model, ShapeRequest(dims={"batch": 3}))
    assert lm.graph.values["g"].shape == Shape((3, 5))
    assert lm.graph.values["y"].shape == Shape((3, 5))
    assert any("onnxruntime" in n for n in lm.notices)


def test_onnxruntime_fallback_writes_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An op neither ONNX nor onnxruntime knows: the fallback gives up quietly, and leaves no
    file behind (onnxruntime's own entry point would write one into the current folder)."""
    pytest.importorskip("onnxruntime")
    monkeypatch.chdir(tmp_path)
    model = make_model([node("Mystery", ["x"], ["m"], domain="custom"), node("Relu", ["m"], ["y"])],
                       inputs=[("x", [2, 3])], outputs=["y"], domains={"custom": 1})
    lm = load_onnx(model, ShapeRequest())
    assert lm.graph.values["y"].shape is None
    assert list(tmp_path.iterdir()) == []
