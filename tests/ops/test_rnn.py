"""Closed-form tests of the recurrent family (LSTM, GRU, RNN) over steps and directions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeprof.ops.registry import Uncountable
from tests.opcall import cost

# LSTM: seq 3, batch 2, input 4, hidden 5. Per step and batch element:
# gate matmuls: 4H = 20 dot products over [x, h] of length 9: 17·20 = 340 FLOPs, 180 MACs;
# elementwise: sigmoid 3H·4 = 60, tanh H·5 (cell) + H·5 (output) = 50, Ct 3H = 15, Ht H = 5 -> 130.
LSTM_X, LSTM_W, LSTM_R = (3, 2, 4), (1, 20, 4), (1, 20, 5)
LSTM_OUT = [(3, 1, 2, 5)]


def test_lstm_forward_without_bias() -> None:
    c = cost("LSTM", [LSTM_X, LSTM_W, LSTM_R], LSTM_OUT, hidden_size=5)
    assert (c.flops, c.macs) == (6 * (340 + 130), 6 * 180)
    assert c.category.value == "recurrent"


def test_lstm_bias_peepholes_clip() -> None:
    # bias: Wb and Rb added to 4 gates = 8H = 40 per step
    b = cost("LSTM", [LSTM_X, LSTM_W, LSTM_R, (1, 40)], LSTM_OUT, hidden_size=5)
    assert b.flops == 6 * (340 + 130 + 40)
    # peepholes (input 7): 3 gates · (multiply + add) = 6H = 30
    p = cost("LSTM", [LSTM_X, LSTM_W, LSTM_R, None, None, None, None, (1, 15)], LSTM_OUT, hidden_size=5)
    assert p.flops == 6 * (340 + 130 + 30)
    # clip: min and max on the 5 activation inputs (4 gates + h(Ct)) = 10H = 50
    c = cost("LSTM", [LSTM_X, LSTM_W, LSTM_R], LSTM_OUT, hidden_size=5, clip=3.0)
    assert c.flops == 6 * (340 + 130 + 50)


def test_lstm_bidirectional_with_bias() -> None:
    c = cost("LSTM", [LSTM_X, (2, 20, 4), (2, 20, 5), (2, 40)], [(3, 2, 2, 5)], hidden_size=5, direction="bidirectional")
    assert (c.flops, c.macs) == (2 * 6 * 510, 2 * 6 * 180)


def test_lstm_input_forget_couples_the_gates() -> None:
    # f = 1 - i: the forget gate's sigmoid (4H) becomes one subtract (H): 130 - 20 + 5 = 115
    c = cost("LSTM", [LSTM_X, LSTM_W, LSTM_R], LSTM_OUT, hidden_size=5, input_forget=1)
    assert c.flops == 6 * (340 + 115)
    # with bias only 3 gates get Wb + Rb: 6H = 30
    b = cost("LSTM", [LSTM_X, LSTM_W, LSTM_R, (1, 40)], LSTM_OUT, hidden_size=5, input_forget=1)
    assert b.flops == 6 * (340 + 115 + 30)


def test_lstm_layout_1_and_custom_activations() -> None:
    assert cost("LSTM", [(2, 3, 4), LSTM_W, LSTM_R], [(2, 3, 1, 5)], hidden_size=5, layout=1).flops == 6 * 470
    # Relu for the gates (1 op): 3H·1 + 5H + 5H + 4H = 17H = 85
    c = cost("LSTM", [LSTM_X, LSTM_W, LSTM_R], LSTM_OUT, hidden_size=5, activations=("Relu", "Tanh", "Tanh"))
    assert c.flops == 6 * (340 + 85)
    with pytest.raises(Uncountable, match="Gelu"):
        cost("LSTM", [LSTM_X, LSTM_W, LSTM_R], LSTM_OUT, hidden_size=5, activations=("Gelu", "Tanh", "Tanh"))
    with pytest.raises(Uncountable, match="activations"):
        cost("LSTM", [LSTM_X, LSTM_W, LSTM_R], LSTM_OUT, hidden_size=5, activations=("Relu", "Tanh"))


def test_lstm_weights_that_do_not_fit_are_uncountable() -> None:
    with pytest.raises(Uncountable, match="hidden_size"):
        cost("LSTM", [LSTM_X, LSTM_W, LSTM_R], LSTM_OUT, hidden_size=6)
    with pytest.raises(Uncountable, match="direction"):
        cost("LSTM", [LSTM_X, LSTM_W, LSTM_R], LSTM_OUT, hidden_size=5, direction="bidirectional")


def test_gru_bidirectional_multi_step() -> None:
    # seq 4, batch 1, input 3, hidden 2. Gate matmuls: 3H = 6 dots of 5: 54 FLOPs, 30 MACs.
    # Elementwise: reset multiply H, sigmoids 2H·4, tanh H·5, Ht = (1-z)⊙h + z⊙H 4H = 18H = 36;
    # bias 6H = 12. Steps 4 · 2 directions.
    x, w, r = (4, 1, 3), (2, 6, 3), (2, 6, 2)
    attrs = {"hidden_size": 2, "direction": "bidirectional"}
    c = cost("GRU", [x, w, r, (2, 12)], [(4, 2, 1, 2)], **attrs)
    assert (c.flops, c.macs) == (8 * (54 + 36 + 12), 8 * 30)
    assert cost("GRU", [x, w, r], [(4, 2, 1, 2)], **attrs).flops == 8 * (54 + 36)
    # linear_before_reset moves the reset multiply, it does not change the count
    assert cost("GRU", [x, w, r, (2, 12)], [(4, 2, 1, 2)], linear_before_reset=1, **attrs).flops == 8 * 102


def test_rnn_bidirectional_multi_step() -> None:
    # seq 5, batch 3, input 4, hidden 6: H = 6 dots of 10 = 114 FLOPs, 60 MACs; tanh 5H = 30;
    # bias 2H = 12. 15 step·batch pairs · 2 directions.
    x, w, r = (5, 3, 4), (2, 6, 4), (2, 6, 6)
    c = cost("RNN", [x, w, r, (2, 12)], [(5, 2, 3, 6)], hidden_size=6, direction="bidirectional")
    assert (c.flops, c.macs) == (30 * 156, 30 * 60)
    assert cost("RNN", [x, w, r], [(5, 2, 3, 6)], hidden_size=6, direction="bidirectional").flops == 30 * 144
    # forward only, with clip (2H = 12): 15 · (114 + 30 + 12)
    f = cost("RNN", [x, (1, 6, 4), (1, 6, 6)], [(5, 1, 3, 6)], hidden_size=6, clip=1.0)
    assert f.flops == 15 * 156
    # per-direction activations: forward Relu (1), reverse Tanh (5)
    mixed = cost("RNN", [x, w, r], [(5, 2, 3, 6)], hidden_size=6, direction="bidirectional", activations=("Relu", "Tanh"))
    assert mixed.flops == 15 * (114 + 6) + 15 * (114 + 30)


@given(
    seq=st.integers(1, 5), batch=st.integers(1, 3), inp=st.integers(1, 8), hidden=st.integers(1, 8),
    op=st.sampled_from([("RNN", 1), ("GRU", 3), ("LSTM", 4)]), dirs=st.integers(1, 2),
)
def test_recurrent_macs_are_the_gate_matmuls(
    seq: int, batch: int, inp: int, hidden: int, op: tuple[str, int], dirs: int
) -> None:
    name, gates = op
    direction = "bidirectional" if dirs == 2 else "forward"
    c = cost(
        name,
        [(seq, batch, inp), (dirs, gates * hidden, inp), (dirs, gates * hidden, hidden)],
        [(seq, dirs, batch, hidden)],
        hidden_size=hidden,
        direction=direction,
    )
    # per step: x·W^T (gates·H × I) and h·R^T (gates·H × H)
    x_w = cost("MatMul", [(batch, inp), (inp, gates * hidden)], [(batch, gates * hidden)])
    h_r = cost("MatMul", [(batch, hidden), (hidden, gates * hidden)], [(batch, gates * hidden)])
    assert c.macs == seq * dirs * (x_w.macs + h_r.macs)
