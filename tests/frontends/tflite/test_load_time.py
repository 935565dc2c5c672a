"""Weights expanded at load, the form of most MediaPipe files: a DEQUANTIZE of a float16 (or int8)
constant and a DENSIFY of a sparse constant run once when the interpreter prepares the model. The
layer that reads such a weight holds its parameters (at the stored size: a sparse tensor's stored
values), and the expansion costs no per-inference FLOPs and is not "not counted"."""

from __future__ import annotations

from pathlib import Path

import edgeprof
from tests.frontends.tflite_files import write


def test_fp16_and_sparse_weights_belong_to_the_layers_that_read_them(tmp_path: Path) -> None:
    p = edgeprof.profile(write(tmp_path, "fp16_sparse"))
    rows = {layer.name: (layer.op, layer.flops, layer.macs, layer.params) for layer in p.layers}
    # no DEQUANTIZE / DENSIFY row: they run at load
    assert set(rows) == {"conv/out", "flat", "output"}
    # CONV 1x1 3->2 over 4x4: Kc = 3, 32 outputs: (2·3-1)·32 + 32 bias FLOPs, 96 MACs; 6 + 2 float16 params
    assert rows["conv/out"] == ("Conv", 5 * 32 + 32, 96, 8)
    # FC 32 -> 6, no bias: the dense MACs the runtime executes (192), and the 21 stored (non-zero) values
    assert rows["output"] == ("Gemm", 63 * 6, 192, 21)
    assert p.not_counted == () and not p.totals.is_lower_bound
    assert p.totals.params == 8 + 21
    # weight bytes are the stored bytes: 29 float16 values and the int32 shape operand
    assert p.totals.weight_bytes == 2 * 29 + 4 * 2
    assert {g.dtype: (g.elements, g.params, g.bytes) for g in p.weights_by_dtype}["float16"] == (29, 29, 58)
    assert any("1 DENSIFY" in n and "3 DEQUANTIZE" in n for n in p.notices)


def test_a_dequantize_of_a_computed_tensor_is_still_counted(tmp_path: Path) -> None:
    # int8_cnn's final DEQUANTIZE reads the FC's output: per-inference arithmetic, a row of its own
    p = edgeprof.profile(write(tmp_path, "int8_cnn"))
    assert [(layer.op, layer.flops) for layer in p.layers if layer.name == "logits"] == [("DequantizeLinear", 20)]
