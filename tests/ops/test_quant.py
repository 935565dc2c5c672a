"""Closed-form tests of the quantisation family: QuantizeLinear, DequantizeLinear and
DynamicQuantizeLinear at int8 and uint8, per-tensor, per-axis and blocked."""

from __future__ import annotations

import pytest

from tests.opcall import cost

F32_SCALAR = ((), "float32")


@pytest.mark.parametrize("qtype", ["int8", "uint8"])
def test_quantize_linear_per_tensor(qtype: str) -> None:
    # (2, 8) = 16 elements: divide, round, add zero point, min, max = 5 each; float precision
    c = cost("QuantizeLinear", [(2, 8), F32_SCALAR, ((), qtype)], [((2, 8), qtype)])
    assert (c.flops, c.int_ops, c.macs, c.precision) == (80, 0, 0, "float32")
    assert c.category.value == "quantisation"
    # reads 16 floats + scale (4) + zero point (1), writes 16 bytes
    assert (c.bytes_read, c.bytes_written) == (64 + 4 + 1, 16)


def test_quantize_linear_without_zero_point() -> None:
    # no zero point: divide, round, min, max = 4 (output uint8 by default)
    assert cost("QuantizeLinear", [(2, 8), F32_SCALAR], [((2, 8), "uint8")]).flops == 64


def test_quantize_linear_per_axis_and_blocked_cost_the_same_per_element() -> None:
    x, y = (4, 6), ((4, 6), "int8")
    per_axis = cost("QuantizeLinear", [x, ((4,), "float32"), ((4,), "int8")], [y], axis=0)
    blocked = cost("QuantizeLinear", [x, ((4, 2), "float32"), ((4, 2), "int8")], [y], axis=1, block_size=3)
    assert per_axis.flops == blocked.flops == 24 * 5


def test_quantize_linear_float8_without_saturation() -> None:
    y = ((10,), "float8e4m3fn")
    assert cost("QuantizeLinear", [(10,), F32_SCALAR], [y], saturate=0).flops == 20  # divide, round
    assert cost("QuantizeLinear", [(10,), F32_SCALAR], [y]).flops == 40  # + min, max


@pytest.mark.parametrize("qtype", ["int8", "uint8"])
def test_dequantize_linear(qtype: str) -> None:
    # (x - zero_point)·scale: 2 per element, reported as FLOPs at the float output's precision
    c = cost("DequantizeLinear", [((3, 5), qtype), F32_SCALAR, ((), qtype)], [(3, 5)])
    assert (c.flops, c.int_ops, c.precision) == (30, 0, "float32")
    assert (c.bytes_read, c.bytes_written) == (15 + 4 + 1, 60)


def test_dequantize_linear_int32_without_zero_point_and_fp16_output() -> None:
    c = cost("DequantizeLinear", [((3, 5), "int32"), ((), "float16")], [((3, 5), "float16")])
    assert (c.flops, c.precision) == (15, "float16")


def test_dequantize_linear_per_channel_weights() -> None:
    # a (64, 3, 3, 3) int8 conv weight, per-output-channel scale and zero point
    c = cost("DequantizeLinear", [((64, 3, 3, 3), "int8"), ((64,), "float32"), ((64,), "int8")], [(64, 3, 3, 3)])
    assert c.flops == 2 * 1728


def test_dynamic_quantize_linear() -> None:
    # n = 100: min and max 2·99 = 198, scale 4, zero point 5, quantise 5·100 = 500: 707 = 7n + 7
    ins = [(10, 10)]
    outs = [((10, 10), "uint8"), F32_SCALAR, ((), "uint8")]
    c = cost("DynamicQuantizeLinear", ins, outs)
    assert (c.flops, c.int_ops, c.precision) == (707, 0, "float32")
    assert (c.bytes_read, c.bytes_written) == (400, 100 + 4 + 1)
