"""TFLite's recurrent kernels as the canonical ONNX ``LSTM`` / ``RNN`` nodes, so that the one
registry formula of ops/rnn.py counts every time step (no second formula).

* UNIDIRECTIONAL_SEQUENCE_LSTM, BIDIRECTIONAL_SEQUENCE_LSTM and LSTM (one step) -> ``LSTM``;
  UNIDIRECTIONAL_SEQUENCE_RNN, BIDIRECTIONAL_SEQUENCE_RNN and RNN (one step) -> ``RNN``.
* TFLite stores one weight tensor per gate (input-to-gate (H, I), recurrent-to-gate (H, H), the
  optional peephole vectors (H), one bias (H) per gate) and per direction. ONNX's operands are
  stacked: ``W`` (dirs, G·H, I), ``R`` (dirs, G·H, H), ``B``, ``P`` (dirs, 3H). The gate tensors
  are replaced by one stacked weight each (``<output>::W`` ...) whose storage is the gate
  tensors' buffers: the same parameters and bytes, no copy node, no activation memory. This is
  only done when every gate tensor is a constant that no other operator reads; otherwise the op
  is listed as not counted, with the reason.
* ``time_major`` -> ``layout`` 0 (X is (seq, batch, I)), batch-major -> ``layout=1``; the one-step
  LSTM / RNN read their (batch, I) input through an ``Unsqueeze`` view (seq = 1).
* ``fused_activation_function`` (TANH or RELU) is the cell-input and cell-output activation
  (``activations = (Sigmoid, act, act)``) of an LSTM, the hidden activation of an RNN.

What ONNX's formula does not cover is either counted by its own canonical node or listed:

* a layer-normalised LSTM (coefficients at inputs 20..23): the LSTM is counted, and a node
  ``tflite::<NAME>:layer_norm`` is listed as not counted;
* CIFG (no input gate), a projection layer, an auxiliary input (bidirectional ops) and any other
  activation than TANH/RELU: the whole op is listed as not counted (``tflite::<NAME>``), and a
  notice says why;
* ``cell_clip`` / ``proj_clip``: a notice (2 compares per clipped element per step not counted);
* the bias: TFLite adds one bias per gate element, ONNX's formula counts its two biases (Wb and
  Rb) whenever ``B`` is present, so the count is 4H (LSTM) / H (RNN) adds per step, batch element
  and direction above TFLite's kernel (docs/tflite.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod

from edgeprof.frontends.tflite._graph import GraphBuilder
from edgeprof.frontends.tflite._read import TfOperator
from edgeprof.ir import AttrValue, Shape, Value, Weight

_ACTIVATIONS = {1: "Relu", 4: "Tanh"}  # fused_activation_function -> the ONNX recurrent activation
_LSTM_STEP, _RNN_STEP = "LSTM", "RNN"


@dataclass(frozen=True)
class _LstmDir:
    w: tuple[int, ...]  # input-to-gate weights (input, forget, cell, output)
    r: tuple[int, ...]  # recurrent-to-gate weights
    p: tuple[int, ...]  # peepholes (cell-to-input, -forget, -output)
    bias: tuple[int, ...]
    projection: tuple[int, int]  # weights, bias
    h0: int
    c0: int


class _Skip(Exception):
    """The op cannot be written as the canonical node: listed as not counted, with this reason."""


def _padded(op: TfOperator, n: int) -> tuple[int, ...]:
    return (*op.inputs, *(-1,) * max(0, n - len(op.inputs)))


def _lstm_dirs(op: TfOperator, ins: tuple[int, ...]) -> list[_LstmDir]:
    if op.name == "BIDIRECTIONAL_SEQUENCE_LSTM":
        return [_lstm_dir(ins, 1, ins[35], ins[36]), _lstm_dir(ins, 18, ins[37], ins[38])]
    return [_lstm_dir(ins, 1, ins[18], ins[19])]


def _lstm_dir(ins: tuple[int, ...], base: int, h0: int, c0: int) -> _LstmDir:
    return _LstmDir(ins[base : base + 4], ins[base + 4 : base + 8], ins[base + 8 : base + 11],
                    ins[base + 11 : base + 15], (ins[base + 15], ins[base + 16]), h0, c0)


def _shape(b: GraphBuilder, index: int, what: str) -> tuple[int, ...]:
    v = b.value(index)
    if v.shape is None or not v.shape.is_static:
        raise _Skip(f"{what} {b.name(index)!r} has no static shape")
    return v.shape.static()


def _activation(op: TfOperator) -> str:
    code = op.options.get("FusedActivationFunction", 0)
    act = _ACTIVATIONS.get(int(code) if isinstance(code, int) else -1)
    if act is None:
        raise _Skip(f"fused activation {code} (only TANH and RELU have a recurrent formula)")
    return act


def _sequence(b: GraphBuilder, op: TfOperator, x: int, input_size: int) -> tuple[str, int]:
    """The canonical X (rank 3) and its layout: the sequence ops' input as is, the one-step ops'
    (batch, I) input through an Unsqueeze view to (1, batch, I)."""
    xs = _shape(b, x, "input")
    if op.name in (_LSTM_STEP, _RNN_STEP):
        if len(xs) != 2 or xs[1] != input_size:
            raise _Skip(f"input {xs} is not (batch, {input_size})")
        seq = b.temp(b.name(x), b.value(x), "steps", Shape((1, *xs)))
        b.node(op, "Unsqueeze", (b.name(x),), (seq,), {"axes": (0,)}, suffix="steps", source=f"{op.name} (one step)")
        return seq, 0
    if len(xs) != 3 or xs[2] != input_size:
        raise _Skip(f"input {xs} is not (time, batch, {input_size}) or (batch, time, {input_size})")
    return b.name(x), 0 if op.options.get("TimeMajor", False) else 1


class _Stacker:
    """Checks, then replaces, per-gate weight tensors by one stacked weight each."""

    def __init__(self, b: GraphBuilder, op: TfOperator) -> None:
        self.b, self.op = b, op
        self.plans: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
        others = [i for o in b.sg.operators if o.index != op.index for i in o.inputs]
        self.read_elsewhere = set(others) | set(b.sg.outputs)

    def plan(self, suffix: str, parts: tuple[int, ...], shape: tuple[int, ...]) -> str:
        b = self.b
        if len(set(parts)) != len(parts):
            raise _Skip(f"the {suffix} gate tensors are not distinct")
        weights = [b.weights.get(b.name(i)) for i in parts]
        if any(w is None or w.role == "buffer" for w in weights):
            raise _Skip(f"a {suffix} gate tensor is not a constant")
        if any(i in self.read_elsewhere for i in parts):
            raise _Skip(f"a {suffix} gate tensor is also read by another operator")
        if len({w.dtype for w in weights if w is not None}) != 1:
            raise _Skip(f"the {suffix} gate tensors have different dtypes")
        if sum(w.numel for w in weights if w is not None) != prod(shape):
            raise _Skip(f"the {suffix} gate tensors do not stack to {shape}")
        name = f"{b.name(self.op.outputs[0])}::{suffix}"
        self.plans.append((name, parts, shape))
        return name

    def commit(self) -> None:
        b = self.b
        for name, parts, shape in self.plans:
            weights = [b.weights.pop(b.name(i)) for i in parts]
            first = weights[0]
            key = "+".join(w.storage_key or w.name for w in weights)
            b.weights[name] = Weight(name, first.dtype, Shape(shape), role=first.role, storage_key=f"stacked:{key}")
            b.values[name] = Value(name, first.dtype, Shape(shape))


def lstm(b: GraphBuilder, op: TfOperator) -> None:
    """UNIDIRECTIONAL_SEQUENCE_LSTM, BIDIRECTIONAL_SEQUENCE_LSTM, LSTM -> LSTM (module docstring)."""
    ins = _padded(op, 48)
    try:
        if not op.outputs:
            raise _Skip("no output")
        dirs = _lstm_dirs(op, ins)
        if any(-1 in (*d.w, *d.r) for d in dirs):
            raise _Skip("CIFG (coupled input and forget gates, no input-gate weights): ONNX's LSTM computes the "
                        "input gate")
        if any(d.projection[0] >= 0 for d in dirs):
            raise _Skip("a projection layer (the recurrent state is the projected output; ONNX's LSTM has none)")
        if op.name == "BIDIRECTIONAL_SEQUENCE_LSTM" and ins[39] >= 0:
            raise _Skip("an auxiliary input")
        act = _activation(op)
        ws = _shape(b, dirs[0].w[0], "input-to-input weights")
        if len(ws) != 2:
            raise _Skip("the input-to-gate weights are not 2-D")
        hidden, input_size = ws
        n = len(dirs)
        stack = _Stacker(b, op)
        w = stack.plan("W", tuple(i for d in dirs for i in d.w), (n, 4 * hidden, input_size))
        r = stack.plan("R", tuple(i for d in dirs for i in d.r), (n, 4 * hidden, hidden))
        biases = tuple(i for d in dirs for i in d.bias)
        bias = stack.plan("B", biases, (n, 4 * hidden)) if -1 not in biases else ""
        peep = tuple(i for d in dirs for i in d.p)
        if any(i >= 0 for i in peep) and -1 in peep:
            raise _Skip("only some peephole weights are present")
        p = stack.plan("P", peep, (n, 3 * hidden)) if -1 not in peep else ""
        x, layout = _sequence(b, op, ins[0], input_size)
    except _Skip as why:
        _not_counted(b, op, str(why))
        return
    stack.commit()
    attrs: dict[str, AttrValue] = {
        "hidden_size": hidden, "direction": "bidirectional" if n == 2 else "forward",
        "activations": ("Sigmoid", act, act) * n, "layout": layout,
    }
    inputs = (x, w, r, bias, "", b.name(dirs[0].h0), b.name(dirs[0].c0), p)
    b.node(op, "LSTM", inputs, tuple(b.name(i) for i in op.outputs), attrs)
    _clip_notice(b, op)
    norms = ins[20:24] if op.name != "BIDIRECTIONAL_SEQUENCE_LSTM" else ()
    if any(i >= 0 for i in norms):
        b.node(op, f"tflite::{op.name}:layer_norm", tuple(b.name(i) for i in norms if i >= 0), (),
               suffix="layer_norm", source=f"{op.name} (layer normalisation of the gates)")


def rnn(b: GraphBuilder, op: TfOperator) -> None:
    """UNIDIRECTIONAL_SEQUENCE_RNN, BIDIRECTIONAL_SEQUENCE_RNN, RNN -> RNN (module docstring)."""
    ins = _padded(op, 12)
    bidir = op.name == "BIDIRECTIONAL_SEQUENCE_RNN"
    blocks = [(1, 2, 3, 4), (5, 6, 7, 8)] if bidir else [(1, 2, 3, 4)]
    try:
        if not op.outputs:
            raise _Skip("no output")
        if bidir and ins[9] >= 0:
            raise _Skip("an auxiliary input")
        act = _activation(op)
        ws = _shape(b, ins[1], "weights") if ins[1] >= 0 else ()
        if len(ws) != 2:
            raise _Skip("the input weights are not 2-D")
        hidden, input_size = ws
        n = len(blocks)
        stack = _Stacker(b, op)
        w = stack.plan("W", tuple(ins[k[0]] for k in blocks), (n, hidden, input_size))
        r = stack.plan("R", tuple(ins[k[1]] for k in blocks), (n, hidden, hidden))
        biases = tuple(ins[k[2]] for k in blocks)
        bias = stack.plan("B", biases, (n, hidden)) if -1 not in biases else ""
        x, layout = _sequence(b, op, ins[0], input_size)
    except _Skip as why:
        _not_counted(b, op, str(why))
        return
    stack.commit()
    attrs: dict[str, AttrValue] = {
        "hidden_size": hidden, "direction": "bidirectional" if n == 2 else "forward", "activations": (act,) * n,
        "layout": layout,
    }
    b.node(op, "RNN", (x, w, r, bias, "", b.name(ins[4])), tuple(b.name(i) for i in op.outputs), attrs)


def _clip_notice(b: GraphBuilder, op: TfOperator) -> None:
    clips = [k for k in ("CellClip", "ProjClip") if isinstance(op.options.get(k), float) and op.options[k] > 0]
    if clips:
        b.ctx.notices.append(
            f"{op.name} {b.name(op.outputs[0])!r}: {' and '.join(clips)} (a min and a max per clipped element per "
            "step) are not in the count"
        )


def _not_counted(b: GraphBuilder, op: TfOperator, reason: str) -> None:
    name = b.name(op.outputs[0]) if op.outputs else str(op.index)
    b.ctx.notices.append(f"{op.name} {name!r} is not counted: {reason}")
    b.node(op, f"tflite::{op.name}", tuple(b.name(i) for i in op.inputs if i >= 0),
           tuple(b.name(i) for i in op.outputs))
