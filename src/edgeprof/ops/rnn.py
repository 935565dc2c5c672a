"""Op family: recurrent layers (LSTM, GRU, RNN), over every time step and direction.

Per time step, batch element and direction, with hidden size H, input size I and G gates
(LSTM 4, GRU 3, RNN 1):

* gate matmuls: x·W^T and h·R^T, summed: G·H dot products of length I+H, i.e.
  (2(I+H)-1)·G·H FLOPs and G·H·(I+H) MACs (the only MACs of the op);
* biases (input B present): Wb and Rb are both added: 2·H adds per gate;
* clip (attribute present): a min and a max on every activation input;
* activations at their per-element cost (:data:`ACTIVATION_OPS`; defaults Sigmoid 4, Tanh 5);
* the gate arithmetic of each cell, stated in each formula's docstring.

Every step is counted in full: an omitted initial state is a zero state the direct
implementation still multiplies, and ``sequence_lens`` (data) is not read: all
seq_length steps are counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from edgeprof.ops.primitives import (
    AFFINE_OPS,
    CLIP_OPS,
    ELU_OPS,
    HARD_SIGMOID_OPS,
    LEAKY_RELU_OPS,
    RELU_OPS,
    SCALED_TANH_OPS,
    SIGMOID_OPS,
    SOFTPLUS_OPS,
    SOFTSIGN_OPS,
    TANH_OPS,
    THRESHOLDED_RELU_OPS,
    dot_products,
)
from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, formula

ACTIVATION_OPS: dict[str, int] = {
    "relu": RELU_OPS,
    "tanh": TANH_OPS,
    "sigmoid": SIGMOID_OPS,
    "affine": AFFINE_OPS,
    "leakyrelu": LEAKY_RELU_OPS,
    "thresholdedrelu": THRESHOLDED_RELU_OPS,
    "scaledtanh": SCALED_TANH_OPS,
    "hardsigmoid": HARD_SIGMOID_OPS,
    "elu": ELU_OPS,
    "softsign": SOFTSIGN_OPS,
    "softplus": SOFTPLUS_OPS,
}
"""Per-element cost of each activation the ONNX recurrent ops accept (case-insensitive names),
from :mod:`edgeprof.ops.primitives` like the activation family's ops."""


@dataclass(frozen=True)
class _Recurrence:
    seq: int
    batch: int
    input_size: int
    hidden: int
    activations: tuple[tuple[str, ...], ...]  # per direction
    has_bias: bool
    clip: bool


def _recurrence(call: OpCall, gates: int, defaults: tuple[str, ...]) -> _Recurrence:
    x, w, r = call.in_shape(0), call.in_shape(1), call.in_shape(2)
    if len(x) != 3 or len(w) != 3 or len(r) != 3:
        raise Uncountable(f"{call.op} needs rank-3 X, W, R; got {x}, {w}, {r}")
    direction = call.attr_str("direction", "forward")
    if direction not in ("forward", "reverse", "bidirectional"):
        raise Uncountable(f"{call.op}: unknown direction {direction!r}")
    dirs = 2 if direction == "bidirectional" else 1
    seq, batch = (x[1], x[0]) if call.attr_int("layout", 0) else (x[0], x[1])
    hidden = call.attr_int("hidden_size", r[2])
    if w[0] != dirs or r[0] != dirs or w[1] != gates * hidden or r[1] != gates * hidden or r[2] != hidden:
        raise Uncountable(f"{call.op}: W {w} / R {r} do not fit {dirs} direction(s) and hidden_size {hidden}")
    if w[2] != x[2]:
        raise Uncountable(f"{call.op}: W {w} does not fit input size {x[2]}")
    names = call.attrs.get("activations")
    if names is None:
        acts = defaults * dirs
    elif isinstance(names, (tuple, list)):
        acts = tuple(_activation_name(call, a) for a in names)
    else:
        raise Uncountable(f"{call.op}: activations attribute is not a list of names")
    if len(acts) != len(defaults) * dirs:
        raise Uncountable(f"{call.op}: {len(acts)} activations for {dirs} direction(s), expected {len(defaults) * dirs}")
    per_dir = tuple(tuple(acts[d * len(defaults) : (d + 1) * len(defaults)]) for d in range(dirs))
    return _Recurrence(
        seq, batch, x[2], hidden, per_dir, call.has_input(3), call.attrs.get("clip") is not None
    )


def _activation_name(call: OpCall, name: object) -> str:
    if isinstance(name, bytes):
        return name.decode("utf-8", "replace")
    if not isinstance(name, str):
        raise Uncountable(f"{call.op}: activation {name!r} is not a name")
    return name


def activation_ops(call: OpCall, name: str) -> int:
    """Per-element cost of the recurrent activation ``name``."""
    ops = ACTIVATION_OPS.get(name.lower())
    if ops is None:
        raise Uncountable(f"{call.op}: unknown activation {name!r}")
    return ops


def _total(rec: _Recurrence, gates: int, elementwise: list[int]) -> Arith:
    """Sum over directions (``elementwise[d]``: the non-matmul ops of one step of direction d)."""
    steps = rec.seq * rec.batch
    mm = dot_products(gates * rec.hidden, rec.input_size + rec.hidden)
    ops = sum(steps * (mm.ops + e) for e in elementwise)
    return Arith(ops=ops, macs=len(elementwise) * steps * mm.macs)


@formula(
    "LSTM", category=Category.RECURRENT, meta_inputs=(4,),
    example=Example(((3, 2, 4), (1, 20, 4), (1, 20, 5)), ((3, 1, 2, 5),), {"hidden_size": 5}, ops=2820, macs=1080),
)
def lstm(call: OpCall) -> Arith:
    """Per step·batch·direction: (2(I+H)-1)·4H + 3H·f + H·g + H·h + 4H (cell, Ht) [+8H bias, +6H peepholes, +10H clip]; MACs 4H(I+H)."""
    rec = _recurrence(call, 4, ("Sigmoid", "Tanh", "Tanh"))
    h = rec.hidden
    coupled = bool(call.attr_int("input_forget", 0))
    # With input_forget the forget gate is 1 - i: its bias, peephole, clip and activation are
    # replaced by one subtract per element (its matmul rows are still computed).
    piped = 3 if coupled else 4  # gates whose pre-activation gets biases and clip
    peepholes = 2 if coupled else 3  # P[i], P[f], P[o] ⊙ cell: a multiply and an add each
    per_dir = []
    for f, g, hh in rec.activations:
        gate_acts = (2 if coupled else 3) * h * activation_ops(call, f) + (h if coupled else 0)
        e = gate_acts + h * activation_ops(call, g) + h * activation_ops(call, hh)
        e += 3 * h + h  # Ct = ft⊙Ct-1 + it⊙ct; Ht = ot⊙h(Ct)
        e += 2 * piped * h if rec.has_bias else 0
        e += 2 * peepholes * h if call.has_input(7) else 0
        e += CLIP_OPS * (piped + 1) * h if rec.clip else 0
        per_dir.append(e)
    return _total(rec, 4, per_dir)


@formula(
    "GRU", category=Category.RECURRENT, meta_inputs=(4,),
    example=Example(
        ((4, 1, 3), (2, 6, 3), (2, 6, 2), (2, 12)), ((4, 2, 1, 2),), {"hidden_size": 2, "direction": "bidirectional"}, ops=816, macs=240,
    ),
)
def gru(call: OpCall) -> Arith:
    """Per step·batch·direction: (2(I+H)-1)·3H + H (reset ⊙) + 2H·f + H·g + 4H (Ht) [+6H bias, +6H clip]; MACs 3H(I+H)."""
    rec = _recurrence(call, 3, ("Sigmoid", "Tanh"))
    h = rec.hidden
    per_dir = []
    for f, g in rec.activations:
        # The reset multiply is rt⊙Ht-1 (linear_before_reset=0) or rt⊙(Ht-1·Rh^T + Rbh) (=1):
        # H multiplies either way. Ht = (1 - zt)⊙ht + zt⊙Ht-1: subtract, 2 multiplies, add.
        e = h + 2 * h * activation_ops(call, f) + h * activation_ops(call, g) + 4 * h
        e += 6 * h if rec.has_bias else 0
        e += CLIP_OPS * 3 * h if rec.clip else 0
        per_dir.append(e)
    return _total(rec, 3, per_dir)


@formula(
    "RNN", category=Category.RECURRENT, meta_inputs=(4,),
    example=Example(
        ((5, 3, 4), (2, 6, 4), (2, 6, 6), (2, 12)), ((5, 2, 3, 6),), {"hidden_size": 6, "direction": "bidirectional"}, ops=4680, macs=1800,
    ),
)
def rnn(call: OpCall) -> Arith:
    """Per step·batch·direction: (2(I+H)-1)·H + H·f (default Tanh 5) [+2H bias, +2H clip]; MACs H(I+H)."""
    rec = _recurrence(call, 1, ("Tanh",))
    h = rec.hidden
    per_dir = []
    for (f,) in rec.activations:
        e = h * activation_ops(call, f)
        e += 2 * h if rec.has_bias else 0
        e += CLIP_OPS * h if rec.clip else 0
        per_dir.append(e)
    return _total(rec, 1, per_dir)
