"""TFLite's recurrent ops counted by the canonical LSTM / RNN formulas (ops/rnn.py): closed-form
counts, and the same layers written as ONNX LSTM / RNN nodes give the same MACs, FLOPs and
parameters. The models are those of scripts/make_tflite_models.py (tests/measure/test_litert.py
runs them on LiteRT)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import edgeprof
from tests.frontends.tflite_files import builders, write


def _onnx_recurrent(path: Path, op: str, *, seq: int, batch: int, n_in: int, hidden: int, gates: int,
                    dirs: int = 1, layout: int = 0, peepholes: bool = False, act: str = "Tanh") -> Path:
    """One ONNX LSTM / RNN node: TFLite's per-gate bias b becomes ONNX's B = [b, 0] (Wb, Rb)."""
    rng = np.random.default_rng(0)

    def init(name: str, *shape: int) -> TensorProto:
        return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)

    inits = [init("W", dirs, gates * hidden, n_in), init("R", dirs, gates * hidden, hidden),
             init("B", dirs, 2 * gates * hidden)]
    ins = ["X", "W", "R", "B"]
    if peepholes:
        inits.append(init("P", dirs, 3 * hidden))
        ins += ["", "", "", "P"]
    x_shape = [batch, seq, n_in] if layout else [seq, batch, n_in]
    acts = (["Sigmoid", act, act] if op == "LSTM" else [act]) * dirs
    node = helper.make_node(op, ins, ["Y"], hidden_size=hidden, layout=layout, activations=acts,
                            direction="bidirectional" if dirs == 2 else "forward")
    graph = helper.make_graph([node], "twin", [helper.make_tensor_value_info("X", TensorProto.FLOAT, x_shape)],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]), str(path))
    return path


def _core(p: edgeprof.Profile) -> list[tuple[str, int, int, int]]:
    return [(layer.op, layer.macs, layer.flops, layer.params) for layer in p.layers]


def test_lstm_closed_form_and_onnx_twin(tmp_path: Path) -> None:
    p = edgeprof.profile(write(tmp_path, "lstm"))
    # I = 2, H = 4, 3 steps, batch 1, one direction. Per step: gate matmuls (2(I+H)-1)·4H = 176,
    # 3H sigmoids ·4 = 48, 2H tanh ·5 = 40, cell and Ht 4H = 16, ONNX's two biases 8H = 32: 312.
    # MACs 4H(I+H) = 96 per step. Params: 4·(4·2) + 4·(4·4) + 4·4 = 112 (the states are buffers).
    assert _core(p) == [("LSTM", 3 * 96, 3 * 312, 112)]
    assert p.totals.params == 112 and p.not_counted == ()
    twin = edgeprof.profile(_onnx_recurrent(tmp_path / "lstm.onnx", "LSTM", seq=3, batch=1, n_in=2, hidden=4,
                                            gates=4, layout=1))
    assert twin.totals.macs == p.totals.macs and twin.totals.flops == p.totals.flops
    # ONNX's B holds 8H numbers (Wb, Rb), TFLite's biases 4H: the parameters differ by exactly that
    assert twin.totals.params == p.totals.params + 16


def test_time_major_lstm_with_peepholes(tmp_path: Path) -> None:
    path = tmp_path / "lstm_tm.tflite"
    path.write_bytes(builders().lstm_model(time_major=True, peepholes=True))
    p = edgeprof.profile(path)
    # peepholes: 3 multiplies and 3 adds of H each per step (+24); 3·4 more parameters
    assert _core(p) == [("LSTM", 288, 3 * (312 + 24), 124)]
    twin = edgeprof.profile(_onnx_recurrent(tmp_path / "lstm_tm.onnx", "LSTM", seq=3, batch=1, n_in=2, hidden=4,
                                            gates=4, peepholes=True))
    assert (twin.totals.macs, twin.totals.flops) == (p.totals.macs, p.totals.flops)


def test_rnn_and_bidirectional_rnn_closed_form_and_onnx_twins(tmp_path: Path) -> None:
    p = edgeprof.profile(write(tmp_path, "rnn"))
    # I = 3, H = 5, 4 steps x batch 2: (2·8-1)·5 + tanh 5·5 + biases 2·5 = 110 per step; MACs 5·8 = 40
    assert _core(p) == [("RNN", 8 * 40, 8 * 110, 15 + 25 + 5)]
    twin = edgeprof.profile(_onnx_recurrent(tmp_path / "rnn.onnx", "RNN", seq=4, batch=2, n_in=3, hidden=5, gates=1))
    assert (twin.totals.macs, twin.totals.flops) == (p.totals.macs, p.totals.flops)
    bi = edgeprof.profile(write(tmp_path, "birnn"))
    # I = 3, H = 2, 2 steps, 2 directions, RELU: (2·5-1)·2 + relu 2 + biases 4 = 24 per step and direction
    assert _core(bi) == [("RNN", 2 * 2 * 10, 2 * 2 * 24, 2 * (6 + 4 + 2))]
    bi_twin = edgeprof.profile(_onnx_recurrent(tmp_path / "birnn.onnx", "RNN", seq=2, batch=1, n_in=3, hidden=2,
                                               gates=1, dirs=2, act="Relu"))
    assert (bi_twin.totals.macs, bi_twin.totals.flops) == (bi.totals.macs, bi.totals.flops)


@pytest.mark.parametrize(("variant", "listed", "reason"), [
    ("cifg", "tflite::UNIDIRECTIONAL_SEQUENCE_LSTM", "CIFG"),
    ("projection", "tflite::UNIDIRECTIONAL_SEQUENCE_LSTM", "projection"),
    ("layer_norm", "tflite::UNIDIRECTIONAL_SEQUENCE_LSTM:layer_norm", ""),
])
def test_lstm_parts_onnx_cannot_express_are_listed(tmp_path: Path, variant: str, listed: str, reason: str) -> None:
    path = tmp_path / f"{variant}.tflite"
    path.write_bytes(builders().lstm_model(variant=variant))
    p = edgeprof.profile(path)
    assert [(n.op, n.count) for n in p.not_counted] == [(listed, 1)]
    if reason:  # the whole op is listed, with the reason; its weights are still parameters
        assert any(reason in n for n in p.notices)
        assert p.totals.flops == 0 and p.totals.params > 0
    else:  # the LSTM is counted; only the layer normalisation is listed
        assert p.totals.flops == 3 * 312 and p.totals.params == 112 + 16
