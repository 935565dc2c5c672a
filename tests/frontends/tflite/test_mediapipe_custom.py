"""MediaPipe's custom op Convolution2DTransposeBias (in every MediaPipe segmentation model): a
transposed convolution with a bias, counted by the ConvTranspose formula from its tensors' shapes
and its custom options (TfLiteTransposeConvParams: padding, stride_width, stride_height)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

import edgeprof
from tests.frontends.tflite_files import builders


def _model(padding: int = 1) -> bytes:
    """1x4x4x2 -> Convolution2DTransposeBias, filter 3x2x2x2 (OHWI), bias 3, stride 2, SAME -> 1x8x8x3."""
    m = builders()
    t = [
        m.Tensor("input", (1, 4, 4, 2)),  # 0
        m.Tensor("w", (3, 2, 2, 2), data=np.ones((3, 2, 2, 2), np.float32).tobytes()),  # 1
        m.Tensor("b", (3,), data=np.ones(3, np.float32).tobytes()),  # 2
        m.Tensor("output", (1, 8, 8, 3)),  # 3
    ]
    ops = [m.Op("CUSTOM:Convolution2DTransposeBias", (0, 1, 2), (3,), custom_options=struct.pack("<3i", padding, 2, 2))]
    data: bytes = m.build([m.Subgraph(t, (0,), (3,), ops, "main")])
    return data


def test_convolution_2d_transpose_bias_is_a_conv_transpose(tmp_path: Path) -> None:
    path = tmp_path / "seg.tflite"
    path.write_bytes(_model())
    p = edgeprof.profile(path)
    assert p.not_counted == ()
    (layer,) = p.layers
    # scatter form: numel(X)·Cout·k² = 32·3·4 MACs; each of the 8x8 output positions per channel receives
    # one product (2x2 kernel, stride 2): FLOPs = 2·MACs - 3·64, + 3·64 for the bias
    assert (layer.op, layer.macs, layer.flops, layer.params) == ("ConvTranspose", 384, 2 * 384, 24 + 3)
