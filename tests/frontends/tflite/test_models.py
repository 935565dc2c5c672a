"""The TFLite frontend on the repo's own .tflite files: closed-form FLOPs, MACs, integer OPs and
parameters, worked out by hand below each test's model."""

from __future__ import annotations

from pathlib import Path

import pytest

import edgeprof
from edgeprof.report.model import Profile
from tests.frontends.tflite_files import write


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tflite")


def _layers(p: Profile) -> dict[str, tuple[str, int, int, int]]:
    return {layer.name: (layer.op, layer.flops, layer.int_ops, layer.macs) for layer in p.layers}


def test_float_cnn_closed_form(folder: Path) -> None:
    p = edgeprof.profile(write(folder, "float_cnn"))
    assert p.model.format == "tflite"
    layers = _layers(p)
    # CONV_2D 3x3, 3 -> 4, SAME, 8x8: Kc = 27, numel(Y) = 256: MACs 27·256, FLOPs (2·27-1)·256 + 256 (bias)
    assert layers["conv/out"] == ("Conv", 53 * 256 + 256, 0, 27 * 256)
    # the fused RELU is its own node: 256 comparisons, written in place
    assert layers["conv/out/Relu"] == ("Relu", 256, 0, 0)
    # DEPTHWISE 3x3, 4 -> 8 (multiplier 2), stride 2 SAME -> 4x4x8 = 128 outputs of 9 taps: (2·9-1)·128 + 128 bias
    assert layers["dw/out"] == ("Conv", 17 * 128 + 128, 0, 9 * 128)
    # AVERAGE_POOL 2x2 stride 2 VALID: 32 outputs of (3 adds + 1 divide)
    assert layers["pool/out"] == ("AveragePool", 4 * 32, 0, 0)
    assert layers["flat"] == ("Reshape", 0, 0, 0)
    # FULLY_CONNECTED 32 -> 10 with bias: 2·32·10 FLOPs, 320 MACs (the seed's FC rule)
    assert layers["logits"] == ("Gemm", 2 * 32 * 10, 0, 320)
    # SOFTMAX over 10: 5n - 2
    assert layers["probs"] == ("Softmax", 48, 0, 0)
    assert p.totals.flops == 13824 + 256 + 2304 + 128 + 640 + 48
    assert p.totals.macs == 6912 + 1152 + 320
    # conv 108 + 4, depthwise 72 + 8, FC 320 + 10; the int32 shape tensor is a constant
    assert p.totals.params == 522
    assert p.not_counted == ()


def test_float_cnn_batch_flag_scales_every_layer(folder: Path) -> None:
    path = write(folder, "float_cnn")
    one = edgeprof.profile(path)
    four = edgeprof.profile(path, input_shapes={"input": (4, 8, 8, 3)})
    assert four.totals.flops == 4 * one.totals.flops and four.totals.macs == 4 * one.totals.macs
    assert four.inputs[0].shape == (4, 8, 8, 3) and four.inputs[0].source == "flag"
    assert one.inputs[0].source == "default-batch"
    assert edgeprof.profile(path, dims={"batch": 4}).totals.flops == four.totals.flops


def test_int8_cnn_integer_ops_and_params_by_dtype(folder: Path) -> None:
    p = edgeprof.profile(write(folder, "int8_cnn"))
    layers = _layers(p)
    # QUANTIZE 192 floats: divide, round, + zero point, min, max = 5 FLOPs each
    assert layers["input_q"] == ("QuantizeLinear", 5 * 192, 0, 0)
    # int8 CONV: (2·27-1)·256 dot products + 192 (input zero point -128; the weights' zero points are 0,
    # not subtracted) + 256 bias + 4·256 requantise; the fused RELU narrows the clamp: no node
    assert layers["conv/out"] == ("QLinearConv", 0, 53 * 256 + 192 + 256 + 4 * 256, 27 * 256)
    assert "conv/out/Relu" not in layers
    # int8 FC 256 -> 10: (2·256-1)·10 + 256 (input zero point) + 10 bias + 4·10 requantise
    assert layers["logits_q"] == ("com.microsoft::QGemm", 0, 511 * 10 + 256 + 10 + 40, 2560)
    # DEQUANTIZE 10: (x - zero point)·scale
    assert layers["logits"] == ("DequantizeLinear", 20, 0, 0)
    by_dtype = {d.dtype: (d.params, d.bytes) for d in p.weights_by_dtype}
    assert by_dtype["int8"] == (108 + 2560, 108 + 2560)
    assert by_dtype["int32"] == (4 + 10, 4 * (4 + 10 + 2))  # biases are parameters, the shape tensor is not
    assert by_dtype["float32"][0] == 0  # scales are quantisation metadata
    precisions = {layer.name: layer.precision for layer in p.layers}
    assert precisions["conv/out"] == "int8" and precisions["input_q"] == "float32"


def test_transpose_conv_closed_form(folder: Path) -> None:
    p = edgeprof.profile(write(folder, "transpose_conv"))
    (layer,) = p.layers
    # scatter form: numel(X)·Cout·k² = 32·3·9 MACs; every one of the 9x9 uncropped positions per
    # output channel receives a product: FLOPs = 2·MACs - 3·81
    assert (layer.op, layer.macs, layer.flops) == ("ConvTranspose", 864, 2 * 864 - 243)
    assert p.totals.params == 54


def test_custom_op_is_listed_by_name(folder: Path) -> None:
    p = edgeprof.profile(write(folder, "custom_op"))
    assert [(n.op, n.count) for n in p.not_counted] == [("CUSTOM:MyOp", 1)]
    assert p.totals.flops == 32  # the two RELUs over 16 elements; MyOp is listed, not zero


def test_while_loop_counts_cond_and_body_per_iteration(folder: Path) -> None:
    p = edgeprof.profile(write(folder, "while_loop"))
    rows = {(layer.op, layer.calls): layer for layer in p.layers if layer.op != "Loop"}
    # i < 3 from 0: the body runs 3 times, the condition 4 times
    assert rows[("Less", 4)].int_ops == 4
    body_adds = sorted((layer.flops, layer.int_ops) for layer in p.layers if layer.op == "Add")
    assert body_adds == [(0, 3), (12, 0)]  # i + 1 (int32) and x + x over 1x4, 3 times each
    assert p.not_counted == ()


def test_while_loop_with_another_limit(tmp_path: Path) -> None:
    from tests.frontends.tflite_files import builders

    path = tmp_path / "w.tflite"
    path.write_bytes(builders().while_model(limit=7))
    p = edgeprof.profile(path)
    assert p.totals.flops == 7 * 4


def test_shared_buffer_is_counted_once(folder: Path) -> None:
    p = edgeprof.profile(write(folder, "shared_weights"))
    assert p.totals.params == 16  # two weight tensors, one buffer
    assert p.totals.macs == 2 * 16
    assert p.totals.flops == 2 * 28 + 4  # two FC 4->4 without bias ((2·4-1)·4) and the fused RELU


def test_int8_transpose_conv_pool_and_mean_follow_the_quantised_conventions(folder: Path) -> None:
    p = edgeprof.profile(write(folder, "int8_misc"))
    layers = _layers(p)
    # TRANSPOSE_CONV int8 (no canonical quantised op): the input zero point (-128) once per input
    # element (1x4x4x2 = 32), in place ...
    assert layers["tconv/out/zero_point"] == ("Sub", 0, 32, 0)
    # ... the scatter into the int32 accumulator: MACs 32·3·9 = 864, 2·864 - 3·81 + 192 bias ...
    assert layers["tconv/out/accumulate"] == ("ConvTranspose", 0, 2 * 864 - 243 + 192, 864)
    # ... and the requantise: 4 per output element (REQUANT_OPS), 8x8x3 = 192
    assert layers["tconv/out"] == ("QuantizeLinear", 0, 4 * 192, 0)
    # AVERAGE_POOL_2D int8 on equal scales: 3 adds + 1 divide per output, as integer OPs
    assert layers["pool/out"] == ("AveragePool", 0, 4 * 48, 0)
    # MEAN int8 over H, W (4x4 = 16) of 3 channels: QLinearGlobalAveragePool's (m-1) + 1 + 4 per output
    assert layers["mean_q/reduced_block"] == ("Reshape", 0, 0, 0)
    assert layers["mean_q"] == ("com.microsoft::QLinearGlobalAveragePool", 0, 3 * (15 + 1 + 4), 0)
    assert p.totals.params == 54 + 3 and p.not_counted == ()
