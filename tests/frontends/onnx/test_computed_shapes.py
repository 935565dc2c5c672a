"""Shapes that depend on values the graph computes from constants and given inputs (issue #15,
item 4): the shape engine evaluates the float and integer ops such subgraphs use."""

from __future__ import annotations

import numpy as np
import onnx

import edgeprof
from edgeprof.frontends.onnx._fold import fold
from tests.frontends.onnx_builders import BOOL, INT64, make_graph, make_model, node, tensor, vinfo

# ---- issue #15, item 4: a VAD front end whose STFT padding the graph computes ------------------


def _vad_front_end() -> onnx.ModelProto:
    """x (1, ?) audio and sr (a --value): hop = round(exp(log(sr) - log(125))) = 128 at 16 kHz, the
    reflect padding (hop on each side) as ReduceMean/MatMul of it, then the STFT as a strided
    Conv, Slice into real and imaginary parts, Pow, Add, Sqrt."""
    f32 = onnx.TensorProto.FLOAT
    nodes = [
        node("Cast", ["sr"], ["srf"], to=f32), node("Log", ["srf"], ["lsr"]), node("Sub", ["lsr", "l125"], ["lhop"]),
        node("Exp", ["lhop"], ["hopf"]), node("Round", ["hopf"], ["hopr"]),
        node("Unsqueeze", ["hopr", "ax0"], ["hop1"]), node("Concat", ["hop1", "hop1"], ["hop2"], axis=0),
        node("ReduceMean", ["hop2"], ["hopm"], keepdims=1),
        node("MatMul", ["sel", "hopm"], ["padsf"]),  # (4, 1) x (1,) -> (4,): [0, hop, 0, hop]
        node("Cast", ["padsf"], ["pads"], to=INT64),
        node("Pad", ["x", "pads"], ["xp"], mode="reflect"),
        node("Unsqueeze", ["xp", "ax1"], ["xu"]),
        node("Conv", ["xu", "w"], ["c"], strides=[128]),
        node("Slice", ["c", "s0", "s1", "ax1"], ["re"]), node("Slice", ["c", "s1", "s2", "ax1"], ["im"]),
        node("Pow", ["re", "two"], ["re2"]), node("Pow", ["im", "two"], ["im2"]),
        node("Add", ["re2", "im2"], ["m2"]), node("Sqrt", ["m2"], ["y"]),
    ]
    inits = [
        tensor("l125", np.log(np.float32(125.0)).astype(np.float32)), tensor("ax0", np.array([0], np.int64)),
        tensor("ax1", np.array([1], np.int64)), tensor("sel", np.array([[0.0], [1.0], [0.0], [1.0]], np.float32)),
        tensor("w", np.ones((258, 1, 256), np.float32)), tensor("s0", np.array([0], np.int64)),
        tensor("s1", np.array([129], np.int64)), tensor("s2", np.array([258], np.int64)),
        tensor("two", np.array(2.0, np.float32)),
    ]
    return make_model(nodes, inputs=[vinfo("x", [1, "?"]), vinfo("sr", [], INT64)], outputs=["y"], initializers=inits)


def test_padding_computed_from_a_given_value_keeps_the_conv_front_end() -> None:
    p = edgeprof.profile(_vad_front_end(), input_shapes={"x": (1, 512)}, values={"sr": 16000})
    assert not p.not_counted and not p.totals.is_lower_bound
    frames = (512 + 2 * 128 - 256) // 128 + 1  # 5
    conv = next(layer for layer in p.layers if layer.op == "Conv")
    assert conv.macs == 258 * 256 * frames
    assert p.totals.macs == conv.macs + 4  # + the (4, 1) x (1,) MatMul of the pads
    sqrt = next(layer for layer in p.layers if layer.op == "Sqrt")
    assert sqrt.flops == 129 * frames


def test_fold_rules_of_the_ops_shape_subgraphs_use() -> None:
    f = np.array([1.0, 4.0], np.float32)
    assert fold("Log", [f], {})[0].tolist() == [0.0, float(np.log(np.float32(4.0)))]  # type: ignore[index]
    assert fold("ReduceMean", [f], {"keepdims": 0})[0].tolist() == 2.5  # type: ignore[index]
    assert fold("ArgMax", [f], {})[0].tolist() == [1]  # type: ignore[index]
    assert fold("MatMul", [np.ones((2, 3), np.int64), np.ones((3,), np.int64)], {})[0].tolist() == [3, 3]  # type: ignore[index]
    padded = fold("Pad", [np.array([1, 2, 3], np.int64), np.array([2, 1], np.int64)], {"mode": "reflect"})
    assert padded is not None and padded[0].tolist() == [3, 2, 1, 2, 3, 2]
    scattered = fold("ScatterND", [np.zeros(4, np.int64), np.array([[1], [3]], np.int64), np.array([7, 9], np.int64)], {})
    assert scattered is not None and scattered[0].tolist() == [0, 7, 0, 9]
    assert fold("ReduceMean", [np.array([1, 2], np.int64)], {}) is None  # ONNX truncates integer means: not guessed


# ---- a branch that reads its pads and axes from the outer graph's initializers -------------------


def _if_with_outer_pads() -> onnx.ModelProto:
    """x (1, n) and a boolean --value cond; the then-branch pads x by the outer initializer
    ``pads`` [0, 0, 0, 4] (reflect), unsqueezes by the outer ``ax1`` and runs a Conv (2 filters of 3)
    then squeezes back: ONNX's inference of a subgraph does not see outer values (silero-vad's op18
    export)."""
    then = make_graph(
        [node("Pad", ["x", "pads"], ["xp"], mode="reflect"), node("Unsqueeze", ["xp", "ax1"], ["xu"]),
         node("Conv", ["xu", "w"], ["c"]), node("Squeeze", ["c", "ax0"], ["t"])],
        [], [("t", None)], name="then",
    )
    other = make_graph([node("Unsqueeze", ["x", "ax0"], ["e"])], [], [("e", None)], name="else")
    return make_model(
        [node("If", ["cond"], ["y"], then_branch=then, else_branch=other)],
        [("x", [1, "n"]), ("cond", [], BOOL)], [("y", None)],
        [("pads", np.array([0, 0, 0, 4], np.int64)), ("ax1", np.array([1], np.int64)),
         ("ax0", np.array([0], np.int64)), ("w", np.ones((2, 1, 3), np.float32))],
        opset=18,
    )


def test_a_branch_pads_and_unsqueezes_by_outer_initializers() -> None:
    p = edgeprof.profile(_if_with_outer_pads(), input_shapes={"x": (1, 8)}, values={"cond": 1})
    assert p.not_counted == ()
    rows = {x.op: x for x in p.layers}
    assert rows["Pad"].output_shape == (1, 12) and rows["Unsqueeze"].output_shape == (1, 1, 12)
    assert rows["Squeeze"].output_shape == (2, 10)
    # Conv 1 -> 2 channels, kernel 3, over 10 outputs: 3 MACs each
    assert (rows["Conv"].output_shape, rows["Conv"].macs) == ((1, 2, 10), 2 * 10 * 3)
