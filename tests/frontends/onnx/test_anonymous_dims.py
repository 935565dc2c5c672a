"""Unnamed dynamic dims and the hints for unset dims (issue #15, items 1 and 2).

Paddle2ONNX marks every unknown dim ``dim_param: "?"``; other exporters write ``""`` or ``-1``.
Each such dim is its own unknown (only a real name ties dims together), and when dims are left
unset one error names all of them with a command line that can be pasted as is."""

from __future__ import annotations

import re
import shlex

import numpy as np
import onnx
import pytest
from onnx import helper

from edgeprof.cli import parse_input_spec
from edgeprof.errors import ShapeError
from edgeprof.frontends.base import ShapeRequest
from edgeprof.frontends.onnx import load_onnx
from edgeprof.ir import Shape
from tests.frontends.onnx_builders import make_model, node, tensor, vinfo


def _paddle_like(x_dims: list[int | str], y_dims: list[int | str] | None = None, imgsz: str | None = None) -> onnx.ModelProto:
    """A conv net whose input and output dims are written the way Paddle2ONNX writes them."""
    w = np.ones((4, 3, 3, 3), np.float32)
    model = make_model(
        [node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])],
        inputs=[vinfo("x", x_dims)],
        outputs=[vinfo("y", y_dims if y_dims is not None else ["?", 4, "?", "?"])],
        initializers=[tensor("w", w)],
    )
    if imgsz is not None:
        helper.set_model_props(model, {"imgsz": imgsz})
    return model


def _error(model: onnx.ModelProto, request: ShapeRequest | None = None) -> str:
    with pytest.raises(ShapeError) as info:
        load_onnx(model, request or ShapeRequest())
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def _command(msg: str) -> list[str]:
    """The suggested command line of an error, split as a shell splits it; every word pasteable."""
    tail = msg.split("use your own): ", 1)[1]
    words = shlex.split(tail)
    for word in words:
        assert word == "--input" or re.fullmatch(r"[A-Za-z0-9_.]+=[0-9]+(x[0-9]+)*", word), (word, msg)
        assert "?" not in word and "N" not in word.split("=")[-1]
    return words


def _request(words: list[str]) -> ShapeRequest:
    specs = [parse_input_spec(w) for w in words if w != "--input"]
    return ShapeRequest(inputs=tuple(specs))


@pytest.mark.parametrize("anonymous", ["?", "", "-1"])
def test_each_anonymous_dim_is_its_own_unknown(anonymous: str) -> None:
    x = helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 48, 1])
    dims = x.type.tensor_type.shape.dim
    dims[0].dim_param = anonymous  # dim_param "" / "?" / "-1", as the exporters write them
    dims[3].dim_param = anonymous
    model = make_model([node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])], inputs=[x],
                       outputs=[vinfo("y", ["?", 4, "?", "?"])], initializers=[tensor("w", np.ones((4, 3, 3, 3), np.float32))])
    lm = load_onnx(model, ShapeRequest(inputs=(("x", (1, 3, 48, 192)),)))
    assert lm.inputs[0].shape == (1, 3, 48, 192)
    assert lm.graph.values["y"].shape == Shape((1, 4, 48, 192))


def test_paddle_rec_model_takes_a_non_square_input() -> None:
    lm = load_onnx(_paddle_like(["?", 3, 48, "?"]), ShapeRequest(inputs=(("x", (1, 3, 48, 192)),)))
    assert lm.graph.values["y"].shape == Shape((1, 4, 48, 192))
    # the default batch still applies to an anonymous leading dim
    lm = load_onnx(_paddle_like(["?", 3, 48, "?"]), ShapeRequest(inputs=((None, (2, 3, 48, 320)),)))
    assert lm.graph.values["y"].shape == Shape((2, 4, 48, 320))


def test_named_dims_still_tie_dims_together() -> None:
    msg = _error(_paddle_like(["b", 3, "side", "side"]), ShapeRequest(inputs=(("x", (1, 3, 48, 192)),)))
    assert "one name is one size" in msg
    # exporter-generated distinct names are distinct dims
    lm = load_onnx(_paddle_like(["p2o.DynamicDimension.0", 3, "p2o.DynamicDimension.1", "p2o.DynamicDimension.2"]),
                   ShapeRequest(inputs=(("x", (1, 3, 48, 192)),)))
    assert lm.graph.values["y"].shape == Shape((1, 4, 48, 192))


def test_every_unset_dim_is_reported_at_once_with_a_pasteable_command() -> None:
    msg = _error(_paddle_like(["?", 3, "?", "?"]))
    assert "2 input dims are not set" in msg and "dim 2 (unnamed), dim 3 (unnamed)" in msg
    assert "suggested sizes from common defaults" in msg
    words = _command(msg)
    assert words == ["--input", "x=1x3x224x224"]
    lm = load_onnx(_paddle_like(["?", 3, "?", "?"]), _request(words))  # the command works as printed
    assert lm.graph.values["y"].shape == Shape((1, 4, 224, 224))


def test_generated_names_are_not_pasted_into_the_hint() -> None:
    msg = _error(_paddle_like(["p2o.DynamicDimension.0", 3, 48, "p2o.DynamicDimension.2"]))
    assert "dim 3 ('p2o.DynamicDimension.2')" in msg
    assert _command(msg) == ["--input", "x=1x3x48x224"]


def test_metadata_image_size_is_suggested() -> None:
    msg = _error(_paddle_like(["?", 3, "height", "width"], imgsz="[640, 480]"))
    assert "'height'" in msg and "'width'" in msg and "metadata" in msg
    assert _command(msg) == ["--input", "x=1x3x640x480"]


def test_unset_dims_of_several_inputs_in_one_error() -> None:
    model = make_model(
        [node("Add", ["a", "b"], ["s"]), node("MatMul", ["s", "c"], ["y"])],
        inputs=[vinfo("a", ["batch", "seq", 8]), vinfo("b", ["batch", "seq", 8]), vinfo("c", [8, "?"])],
        outputs=["y"],
    )
    msg = _error(model)
    assert "3 input dims are not set" in msg
    words = _command(msg)
    assert words == ["--input", "a=1x128x8", "--input", "b=1x128x8", "--input", "c=8x128"]
    lm = load_onnx(model, _request(words))
    assert lm.graph.values["y"].shape == Shape((1, 128, 128))


def test_batch_notice_is_pasteable() -> None:
    lm = load_onnx(_paddle_like(["?", 3, 48, 96]), ShapeRequest())
    assert lm.notices == ("input 'x': dim 0 (unnamed) not set, assumed 1 (the batch); for a batch of 8: --input x=8x3x48x96",)
