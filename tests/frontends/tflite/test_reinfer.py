"""TFLite shapes re-inferred beyond the batch: a file stores every tensor's shape for one input
size; profiled at another (a non-batch dim changed), the dims its shape_signature marks dynamic
follow the input through each kernel's shape rule (openWakeWord's melspectrogram: stored at 1x1,
run at 1x1280)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import edgeprof
from tests.frontends.tflite_files import builders


def _model(custom: bool = False) -> bytes:
    """x (1, h, w, 3), h and w dynamic (stored 4x4) -> CONV_2D 3x3 SAME 3->4 -> MEAN over H, W -> FC 4->2
    (or, with ``custom``, a CUSTOM op after the conv)."""
    m = builders()
    rng = np.random.default_rng(0)
    t = [
        m.Tensor("x", (1, 4, 4, 3), signature=(-1, -1, -1, 3)),  # 0
        m.Tensor("w", (4, 3, 3, 3), data=rng.standard_normal((4, 3, 3, 3)).astype(np.float32).tobytes()),  # 1
        m.Tensor("c", (1, 4, 4, 4), signature=(-1, -1, -1, 4)),  # 2
        m.Tensor("axes", (2,), m.INT32, data=np.array([1, 2], np.int32).tobytes()),  # 3
        m.Tensor("pooled", (1, 4), signature=(-1, 4)),  # 4
        m.Tensor("fc_w", (2, 4), data=rng.standard_normal((2, 4)).astype(np.float32).tobytes()),  # 5
        m.Tensor("y", (1, 2), signature=(-1, 2)),  # 6
        m.Tensor("z", (1, 4, 4, 4), signature=(-1, -1, -1, 4)),  # 7
    ]
    conv = m.Op("CONV_2D", (0, 1, -1), (2,), m._conv_opts(m.SAME, 1, m.NONE))
    if custom:
        ops = [conv, m.Op("CUSTOM:MyOp", (2,), (7,))]
        return bytes(m.build([m.Subgraph(t, (0,), (7,), ops, "main")]))
    ops = [
        conv,
        m.Op("MEAN", (2, 3), (4,), ("ReducerOptions", {"KeepDims": False})),
        m.Op("FULLY_CONNECTED", (4, 5, -1), (6,), ("FullyConnectedOptions", {"FusedActivationFunction": m.NONE})),
    ]
    return bytes(m.build([m.Subgraph(t, (0,), (6,), ops, "main")]))


def test_a_changed_spatial_size_is_re_inferred_through_the_graph(tmp_path: Path) -> None:
    path = tmp_path / "dyn.tflite"
    path.write_bytes(_model())
    p = edgeprof.profile(path, input_shapes={"x": (1, 8, 8, 3)})
    assert p.not_counted == ()
    rows = {x.name: x for x in p.layers}
    assert (rows["c"].output_shape, rows["c"].macs) == ((1, 8, 8, 4), 27 * 64 * 4)  # Kc = 27 per output
    assert rows["pooled"].output_shape == (1, 4) and rows["y"].macs == 8
    assert any("re-inferred" in n for n in p.notices)


def test_an_op_without_a_shape_rule_leaves_its_output_unknown(tmp_path: Path) -> None:
    path = tmp_path / "dyn_custom.tflite"
    path.write_bytes(_model(custom=True))
    p = edgeprof.profile(path, input_shapes={"x": (1, 8, 8, 3)})
    rows = {x.name: x for x in p.layers}
    assert rows["c"].output_shape == (1, 8, 8, 4)  # the conv still is
    assert rows["z"].output_shape == (1, "?", "?", 4)
    assert any("shape rules; the others" in n and "listed as not counted" in n for n in p.notices)
    assert [n.op for n in p.not_counted] == ["CUSTOM:MyOp"]
