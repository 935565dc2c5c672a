"""torch's recurrent layers (``torch.lstm``/``gru``/``rnn_tanh``/``rnn_relu``) as ONNX LSTM/GRU/RNN
nodes, one per layer, so that every time step is counted by the registry's recurrent formulas.

The weights are torch's per-layer, per-direction parameters; the ONNX operands ``W``, ``R``
and ``B`` are laid out from them as stored tensors the recurrent node reads (as the ONNX exporter's
initializers), so the node's row shows its parameters; weights computed in the forward are
stacked with zero-cost Unsqueeze/Concat nodes. The gate order differs between torch and ONNX; the cost does not depend on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from edgeprof.frontends.pytorch._graph import Builder, TranslateError, TRef

RnnKind = Literal["lstm", "gru", "rnn_tanh", "rnn_relu"]

_GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}
_ONNX_OP = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN", "rnn_relu": "RNN"}


@dataclass(frozen=True)
class RnnCall:
    """One call of ``torch.lstm``/``gru``/``rnn_*`` on a padded (not packed) input."""

    kind: RnnKind
    x: TRef
    h0: TRef
    c0: TRef | None
    weights: tuple[TRef, ...]
    has_bias: bool
    num_layers: int
    bidirectional: bool
    batch_first: bool
    outs: tuple[TRef, ...]  # (output, h_n) or (output, h_n, c_n)


def onnx_op(kind: RnnKind) -> str:
    return _ONNX_OP[kind]


def emit_rnn(b: Builder, call: RnnCall) -> None:
    """Emit the ONNX nodes of a (multi-layer, possibly bidirectional) recurrent call."""
    dirs = 2 if call.bidirectional else 1
    per = 4 if call.has_bias else 2
    if len(call.weights) != call.num_layers * dirs * per:
        raise TranslateError(f"{call.kind}: {len(call.weights)} weights for {call.num_layers} layer(s) x {dirs} "
                             "direction(s) (projections are not supported by ONNX)")
    hidden = int(call.h0.shape[-1])
    gates = _GATES[call.kind]
    out, h_n = call.outs[0], call.outs[1]
    c_n = call.outs[2] if len(call.outs) > 2 else None
    x = call.x
    x_dims = x.dims()
    seq, batch = (x_dims[1], x_dims[0]) if call.batch_first else (x_dims[0], x_dims[1])
    layer_in = b.use(x)
    if call.batch_first:
        t = b.tmp((seq, batch, x_dims[2]), x.dtype)
        b.node("Transpose", [layer_in], [t], perm=(1, 0, 2))
        layer_in = t.name
    in_size = x_dims[2]
    h_parts: list[str] = []
    c_parts: list[str] = []
    for layer in range(call.num_layers):
        ws = call.weights[layer * dirs * per:(layer + 1) * dirs * per]
        w = _stack(b, [ws[d * per] for d in range(dirs)], (gates * hidden, in_size))
        r = _stack(b, [ws[d * per + 1] for d in range(dirs)], (gates * hidden, hidden))
        bias = ""
        if call.has_bias:
            bias = b.derive_weight([ws[d * per + k] for d in range(dirs) for k in (2, 3)],
                                   (dirs, 2 * gates * hidden)) or ""
        if call.has_bias and not bias:
            pairs = []
            for d in range(dirs):
                both = b.tmp((2 * gates * hidden,), ws[d * per + 2].dtype)
                b.node("Concat", [b.use(ws[d * per + 2]), b.use(ws[d * per + 3])], [both], axis=0)
                pairs.append(both)
            bias = _stack(b, pairs, (2 * gates * hidden,))
        h_init = _layer_state(b, call.h0, layer, dirs, call.num_layers)
        c_init = _layer_state(b, call.c0, layer, dirs, call.num_layers) if call.c0 is not None else ""
        y = b.tmp((seq, dirs, batch, hidden), x.dtype)
        y_h = b.tmp((dirs, batch, hidden), x.dtype)
        outs = [y, y_h]
        ins = [layer_in, w, r, bias, "", h_init]
        if call.kind == "lstm":
            y_c = b.tmp((dirs, batch, hidden), x.dtype)
            outs.append(y_c)
            ins.append(c_init)
            c_parts.append(y_c.name)
        attrs: dict[str, object] = {"hidden_size": hidden, "direction": "bidirectional" if dirs == 2 else "forward"}
        if call.kind == "gru":
            attrs["linear_before_reset"] = 1
        if call.kind in ("rnn_tanh", "rnn_relu"):
            act = "Tanh" if call.kind == "rnn_tanh" else "Relu"
            attrs["activations"] = (act,) * dirs
        b.node(onnx_op(call.kind), ins, outs, **attrs)  # type: ignore[arg-type]
        h_parts.append(y_h.name)
        moved = b.tmp((seq, batch, dirs, hidden), x.dtype)
        b.node("Transpose", [y.name], [moved], perm=(0, 2, 1, 3))
        last = layer == call.num_layers - 1
        merged = b.tmp((seq, batch, dirs * hidden), x.dtype) if (not last or call.batch_first) else out
        b.node("Reshape", [moved.name, b.const_ints((seq, batch, dirs * hidden))], [merged])
        layer_in = merged.name
        in_size = dirs * hidden
    if call.batch_first:
        b.node("Transpose", [layer_in], [out], perm=(1, 0, 2))
    _concat_states(b, h_parts, h_n)
    if c_n is not None:
        _concat_states(b, c_parts, c_n)


def _stack(b: Builder, parts: Sequence[TRef], shape: tuple[int, ...]) -> str:
    """[dirs, *shape] from one tensor per direction: the module's parameters laid out as one
    stored tensor the recurrent op reads (its row then shows them), or, for tensors computed in
    the forward, Unsqueeze then Concat for two."""
    derived = b.derive_weight(parts, (len(parts), *shape))
    if derived is not None:
        return derived
    ups = []
    for p in parts:
        u = b.tmp((1, *shape), p.dtype)
        b.node("Unsqueeze", [b.use(p), b.const_ints([0])], [u])
        ups.append(u)
    if len(ups) == 1:
        return ups[0].name
    both = b.tmp((len(ups), *shape), ups[0].dtype)
    b.node("Concat", [u.name for u in ups], [both], axis=0)
    return both.name


def _layer_state(b: Builder, state: TRef | None, layer: int, dirs: int, layers: int) -> str:
    if state is None:
        return ""
    if layers == 1:
        return b.use(state)
    dims = state.dims()
    part = b.tmp((dirs, *dims[1:]), state.dtype)
    ins = [b.use(state), b.const_ints([layer * dirs]), b.const_ints([(layer + 1) * dirs]), b.const_ints([0])]
    b.node("Slice", ins, [part])
    return part.name


def _concat_states(b: Builder, parts: list[str], out: TRef) -> None:
    if len(parts) == 1:
        b.node("Identity", parts, [out])
    else:
        b.node("Concat", parts, [out], axis=0)


RNN_EMITS = ("LSTM", "GRU", "RNN", "Transpose", "Reshape", "Unsqueeze", "Concat", "Slice", "Identity")
