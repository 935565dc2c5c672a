"""Op family: everything else: signal processing, random generators, losses, Det, Range,
NonZero, and the ops whose cost the shapes cannot tell (strings, NMS, Unique, images).

**Fourier transforms** (DFT, STFT). A transform of length N is counted as the algorithm a
direct implementation picks (ONNX Runtime does the same):

* N a power of two: the radix-2 FFT, N/2 butterflies in each of log2 N stages, each a complex
  multiply (4 multiplies + 2 adds) and a complex add and subtract (4): **5·N·log2 N**, the
  standard FFT FLOP count, exact for this algorithm; all N bins are computed even when only a
  one-sided half is returned;
* any other N: the direct DFT, per computed bin N complex products (6 each) and N-1 complex
  adds (2 each): **8N-2 per bin**, over N bins (N/2+1 when one-sided);
* an inverse divides every output value by N (2 per complex output, 1 per real output).

A real input is transformed as complex with a zero imaginary part (no real-FFT savings are
assumed); twiddle factors are constants and are not counted. STFT multiplies each frame by the
window first (1 op per real, 2 per complex sample).

**Windows** (HannWindow, HammingWindow: a0 - a1·cos(2πn/N): multiply, cos, multiply, subtract
= 4 per element; BlackmanWindow adds + a2·cos(4πn/N): 8 per element), + 1 divide for 2π/N
and + 1 subtract for a symmetric window's N = size - 1. The index n is the loop counter.

**Random generators**, per generated element: a uniform draw in [0, 1) is 1 op (the
generator's own integer arithmetic is implementation-specific and not counted).
RandomUniform: draw, multiply by (high - low), add low = 3. RandomNormal: Box-Muller, 10 ops
per pair of outputs (2 draws, log, multiply by -2, sqrt, multiply by 2π, cos, sin, 2
multiplies) = 5 per element, then scale and mean = 7. Bernoulli: draw, compare = 2.
Multinomial: per batch row of C classes exp C and a running sum C-1; per sample a draw,
a multiply by the total and a binary search of ceil(log2 C) comparisons.
"""

from __future__ import annotations

from math import prod

from edgeprof.ops.primitives import softmax_ops
from edgeprof.ops.registry import Arith, Category, Example, OpCall, Uncountable, formula, not_countable, subgraph_op

FFT_BUTTERFLY_OPS = 10
"""One radix-2 butterfly: complex multiply (4 multiplies, 2 adds) + complex add and subtract (4)."""
RANDOM_DRAW_OPS = 1
"""One uniform draw in [0, 1) (the generator's integer state update is not counted)."""
RANDOM_UNIFORM_OPS = RANDOM_DRAW_OPS + 2
"""low + (high - low)·u: draw, multiply, add."""
RANDOM_NORMAL_OPS = 5 + 2
"""Box-Muller 5 per element (10 per pair), then mean + scale·z: multiply, add."""
BERNOULLI_OPS = RANDOM_DRAW_OPS + 1
"""u < p: draw, comparison."""
COSINE_TERM_OPS = 4
"""a·cos(k·n·(2π/N)) folded into the sum: multiply by the increment, cos, multiply by a, add/subtract."""


# --- Fourier transforms ---------------------------------------------------------------------


def transform_ops(n: int, bins: int) -> int:
    """Ops of one complex transform of length ``n`` returning ``bins`` bins:
    5·n·log2 n for a power of two (radix-2 FFT), otherwise bins·(8n-2) (direct DFT)."""
    if n <= 1:
        return 0
    if n & (n - 1) == 0:
        return FFT_BUTTERFLY_OPS * (n // 2) * (n.bit_length() - 1)
    return bins * (8 * n - 2)


def _dft_axes(call: OpCall, rank: int) -> list[int]:
    """The signal axes the transform may run along: the attribute (opset 17), the defaults when
    the axis input is omitted (1 in opset 17, -2 from opset 20), or every signal axis when the
    axis is an input value the formula cannot see."""
    attr = call.attrs.get("axis")
    if attr is not None:
        axis = call.attr_int("axis", 1)
        if not -rank <= axis <= rank - 2 or axis == -1:
            raise Uncountable(f"DFT: axis {axis} is not a signal axis of rank {rank}")
        return [axis % rank]
    if not call.has_input(2):
        return sorted({a for a in (1, rank - 2) if 0 <= a <= rank - 2})
    return list(range(rank - 1))


@formula("DFT", category=Category.OTHER, meta_inputs=(1, 2), example=Example(((2, 8, 1),), ((2, 8, 2),), ops=240))
def dft(call: OpCall) -> Arith:
    """Per transform of length N: 5·N·log2 N if N is a power of two (radix-2 FFT), else (8N-2) per bin (direct); inverse + N divides per component."""
    x, y = call.in_shape(0), call.out_shape()
    rank = len(x)
    if rank < 2 or len(y) != rank or x[-1] not in (1, 2) or y[-1] not in (1, 2):
        raise Uncountable(f"DFT: input {x} and output {y} are not [..., N, 1|2] signals")
    inverse, onesided = bool(call.attr_int("inverse", 0)), bool(call.attr_int("onesided", 0))
    irfft, rfft = inverse and onesided, onesided and not inverse
    counts: set[int] = set()
    for axis in _dft_axes(call, rank):
        if any(x[i] != y[i] for i in range(rank - 1) if i != axis):
            continue
        in_len, out_len = x[axis], y[axis]
        if call.has_input(1):  # dft_length is a value: read N back from the output
            lengths = {2 * (out_len - 1), 2 * out_len - 1} if rfft else {out_len}
        else:
            n = 2 * (in_len - 1) if irfft else in_len
            if (n // 2 + 1 if rfft else n) != out_len:
                continue
            lengths = {n}
        lines = prod(x[:-1]) // in_len if in_len else 0
        for n in lengths:
            if n < 1:
                continue
            bins = n // 2 + 1 if rfft else n
            scale = (n if irfft else 2 * n) if inverse else 0
            counts.add(lines * (transform_ops(n, bins) + scale))
    if len(counts) != 1:
        why = "no signal axis fits the shapes" if not counts else "the count depends on an axis or length the shapes do not fix"
        raise Uncountable(f"DFT: {why} (input {x}, output {y})")
    return Arith(ops=counts.pop())


@formula(
    "STFT", category=Category.OTHER, meta_inputs=(1, 3),
    example=Example(((1, 16, 1), ((), "int64")), ((1, 1, 9, 2),), ops=320),
)
def stft(call: OpCall) -> Arith:
    """batch·frames·(window N or 2N + one transform of N: 5·N·log2 N if N is a power of two, else (8N-2)·bins)."""
    signal, y = call.in_shape(0), call.out_shape()
    if len(signal) != 3 or signal[2] not in (1, 2) or len(y) != 4:
        raise Uncountable(f"STFT: signal {signal} and output {y} do not fit [batch, length, 1|2]")
    batch, frames, bins = y[0], y[1], y[2]
    onesided = bool(call.attr_int("onesided", 1))
    window = 0
    if call.has_input(2):
        lengths = {call.in_shape(2)[0]}
        window = signal[2]
    elif not call.has_input(3):
        lengths = {signal[1]}
    else:  # frame_length is a value: read N back from the bins
        lengths = {2 * (bins - 1), 2 * bins - 1} if onesided else {bins}
    counts = {
        batch * frames * (window * n + transform_ops(n, bins))
        for n in lengths
        if n >= 1 and (n // 2 + 1 if onesided else n) == bins
    }
    if len(counts) != 1:
        raise Uncountable(f"STFT: the frame length is not fixed by the shapes (signal {signal}, output {y})")
    return Arith(ops=counts.pop())


def _window(call: OpCall, terms: int) -> Arith:
    n = call.out_numel()
    setup = 1 + (0 if call.attr_int("periodic", 1) else 1)
    return Arith(ops=setup + terms * COSINE_TERM_OPS * n, precision=call.outputs[0].dtype)


@formula(
    "HannWindow", "HammingWindow", category=Category.OTHER, meta_inputs=(0,),
    example=Example((((), "int64"),), ((8,),), ops=33),
)
def cosine_window(call: OpCall) -> Arith:
    """a0 - a1·cos(2πn/N): 4 per element (multiply, cos, multiply, subtract) + 1 divide (+1 subtract if symmetric)."""
    return _window(call, 1)


@formula(
    "BlackmanWindow", category=Category.OTHER, meta_inputs=(0,),
    example=Example((((), "int64"),), ((8,),), ops=65),
)
def blackman_window(call: OpCall) -> Arith:
    """0.42 - 0.5·cos(2πn/N) + 0.08·cos(4πn/N): 8 per element + 1 divide (+1 subtract if symmetric)."""
    return _window(call, 2)


MEL_ELEMENT_OPS = 6
"""One triangle weight, dense: two slopes (2 subtracts, 2 divides), min, max(0, ·)."""
MEL_BIN_OPS = 5
"""One spectrogram bin to mel: bin·(rate/N) to hertz, then 2595·log10(1 + f/700): divide, add, log, multiply."""
MEL_EDGE_OPS = 2
"""One of the num_mel_bins + 2 band edges: lower_mel + i·step: multiply, add."""
MEL_SETUP_OPS = 10
"""Both edge frequencies to mel (divide, add, log, multiply: 4 each) and the step (subtract, divide)."""


@formula(
    "MelWeightMatrix", category=Category.OTHER, meta_inputs=(0, 1, 2, 3, 4),
    example=Example(
        (((), "int64"), ((), "int64"), ((), "int64"), ((), "float32"), ((), "float32")), ((9, 4),), ops=283,
    ),
)
def mel_weight_matrix(call: OpCall) -> Arith:
    """Dense triangles, B = bins, M = mel bins: 6·B·M (two slopes, min, max) + 5·B (bin to mel) + 2·(M+2) (edges) + 10."""
    y = call.out_shape()
    if len(y) != 2:
        raise Uncountable(f"MelWeightMatrix: output must be 2-D, got {y}")
    bins, mels = y
    ops = MEL_ELEMENT_OPS * bins * mels + MEL_BIN_OPS * bins + MEL_EDGE_OPS * (mels + 2) + MEL_SETUP_OPS
    return Arith(ops=ops, precision=call.outputs[0].dtype)


# --- random generators ----------------------------------------------------------------------


def _generated(call: OpCall, per_element: int) -> Arith:
    """``per_element`` ops per output element at the output's precision; no input data is read
    (the *Like ops read only their input's shape)."""
    numel = call.out_numel()  # Uncountable when the output is missing or not static
    y = call.outputs[0]
    written = y.dtype.nbytes_for(numel)
    return Arith(ops=per_element * call.out_numel(), precision=y.dtype, bytes_read=0, bytes_written=written)


@formula("RandomUniform", category=Category.OTHER, example=Example((), ((2, 3, 4),), {"shape": (2, 3, 4)}, ops=72))
def random_uniform(call: OpCall) -> Arith:
    """3 per element: a uniform draw, multiply by (high - low), add low."""
    return _generated(call, RANDOM_UNIFORM_OPS)


@formula("RandomUniformLike", category=Category.OTHER, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=72))
def random_uniform_like(call: OpCall) -> Arith:
    """3 per element: a uniform draw, multiply by (high - low), add low; reads only the input's shape."""
    return _generated(call, RANDOM_UNIFORM_OPS)


@formula("RandomNormal", category=Category.OTHER, example=Example((), ((2, 3, 4),), {"shape": (2, 3, 4)}, ops=168))
def random_normal(call: OpCall) -> Arith:
    """7 per element: Box-Muller 5 (10 per pair: 2 draws, log, ·-2, sqrt, ·2π, cos, sin, 2 multiplies) + scale, mean."""
    return _generated(call, RANDOM_NORMAL_OPS)


@formula("RandomNormalLike", category=Category.OTHER, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=168))
def random_normal_like(call: OpCall) -> Arith:
    """7 per element as RandomNormal (Box-Muller 5 + scale, mean); reads only the input's shape."""
    return _generated(call, RANDOM_NORMAL_OPS)


@formula("Bernoulli", category=Category.OTHER, example=Example(((2, 3, 4),), ((2, 3, 4),), ops=48))
def bernoulli(call: OpCall) -> Arith:
    """2 per element: a uniform draw and a comparison with p (float precision of p)."""
    return Arith(ops=BERNOULLI_OPS * call.in_numel(0))


@formula("Multinomial", category=Category.OTHER, example=Example(((2, 5),), (((2, 3), "int32"),), ops=48))
def multinomial(call: OpCall) -> Arith:
    """Per row of C: exp C + running sum C-1; per sample: draw, multiply by the total, ceil(log2 C) comparisons."""
    x, y = call.in_shape(0), call.out_shape()
    if len(x) != 2 or len(y) != 2 or x[0] != y[0]:
        raise Uncountable(f"Multinomial: input {x} and output {y} are not [batch, C] and [batch, samples]")
    batch, classes = x
    samples = y[1]
    if classes == 0:
        raise Uncountable("Multinomial over 0 classes")
    search = (classes - 1).bit_length()  # ceil(log2 C)
    return Arith(ops=batch * ((2 * classes - 1) + samples * (RANDOM_DRAW_OPS + 1 + search)))


# --- losses ---------------------------------------------------------------------------------


def _nll_ops(call: OpCall, samples: int) -> int:
    """Negate (+ weight multiply, + ignore_index comparison) per sample, then the reduction."""
    weighted = call.has_input(2)
    ignore = call.attrs.get("ignore_index") is not None
    per_sample = 1 + int(weighted) + int(ignore)
    reduction = call.attr_str("reduction", "mean")
    adds = max(samples - 1, 0)
    if reduction == "none":
        tail = 0
    elif reduction == "sum":
        tail = adds
    elif reduction == "mean":
        tail = 2 * adds + 1 if weighted or ignore else adds + 1
    else:
        raise Uncountable(f"{call.op}: unknown reduction {reduction!r}")
    return per_sample * samples + tail


def _class_dims(call: OpCall) -> tuple[int, int]:
    """(samples, classes) of an (N, C, d1, ...) input."""
    x = call.in_shape(0)
    if len(x) < 2:
        raise Uncountable(f"{call.op}: input must be (N, C, ...), got {x}")
    return x[0] * prod(x[2:]), x[1]


@formula(
    "NegativeLogLikelihoodLoss", category=Category.OTHER, meta_inputs=(1,),
    example=Example(((2, 5), ((2,), "int64")), ((),), ops=4),
)
def negative_log_likelihood_loss(call: OpCall) -> Arith:
    """S = N·d1·…: per sample negate (+ weight multiply, + ignore_index comparison); sum S-1; mean S (weighted or ignore_index: 2S-1)."""
    samples, _ = _class_dims(call)
    return Arith(ops=_nll_ops(call, samples))


@formula(
    "SoftmaxCrossEntropyLoss", category=Category.OTHER, meta_inputs=(1,),
    example=Example(((2, 5), ((2,), "int64")), ((),), ops=52),
)
def softmax_cross_entropy_loss(call: OpCall) -> Arith:
    """LogSoftmax over C per sample (5C-1) + NegativeLogLikelihoodLoss on it; S = N·d1·… samples."""
    samples, classes = _class_dims(call)
    return Arith(ops=softmax_ops(samples, classes) + samples + _nll_ops(call, samples))


# --- linear algebra and sequences -------------------------------------------------------------


def det_ops(n: int) -> int:
    """LU with partial pivoting, then the product of the pivots, for one n×n matrix."""
    if n <= 1:
        return 0
    # Σ over k = 1..n-1 rows below the pivot, in closed form (n may be 2**40):
    pivot_search = n * n - 1  # Σ (2k + 1): k+1 abs, k comparisons
    eliminate = n * (n - 1) // 2 + n * (n - 1) * (2 * n - 1) // 3  # Σ k·(1 + 2k): k divides, k·k multiply-subtracts
    return pivot_search + eliminate + (n - 1)


@formula("Det", category=Category.OTHER, example=Example(((2, 3, 3),), ((2,),), ops=46))
def det(call: OpCall) -> Arith:
    """Per n×n matrix, LU with partial pivoting: pivots n²-1, eliminate n(n-1)/2 + n(n-1)(2n-1)/3, product n-1."""
    x = call.in_shape(0)
    if len(x) < 2 or x[-1] != x[-2]:
        raise Uncountable(f"Det needs [..., M, M] matrices, got {x}")
    return Arith(ops=prod(x[:-2]) * det_ops(x[-1]))


@formula(
    "Range", category=Category.OTHER, meta_inputs=(0, 1, 2),
    example=Example((((), "float32"), ((), "float32"), ((), "float32")), ((5,),), ops=9),
)
def range_(call: OpCall) -> Arith:
    """n + 4: n = max(ceil((limit - start)/delta), 0) (subtract, divide, ceil, max) and one add of delta per element."""
    return Arith(ops=call.out_numel() + 4)


@formula("NonZero", category=Category.OTHER, example=Example(((2, 3),), (((2, 4), "int64"),), ops=6))
def non_zero(call: OpCall) -> Arith:
    """numel(X) comparisons with zero; the output's size depends on the values (counted when known statically)."""
    if not call.outputs or not call.outputs[0].is_static:
        raise Uncountable("NonZero: the output size depends on how many values are non-zero")
    return Arith(ops=call.in_numel(0))


subgraph_op(
    "SequenceMap",
    reason="counts the sequence length x body (a loop over the sequence; the frontend gives the trip count)",
)


# --- not countable from shapes -----------------------------------------------------------------

not_countable(
    "NonMaxSuppression",
    reason="the boxes compared and kept depend on the scores and overlaps (data), not on shapes",
)
not_countable("Unique", reason="the output size and the sort/hash work depend on the values (data)")
not_countable(
    "StringConcat", "StringNormalizer", "StringSplit", "RegexFullMatch",
    reason="string processing: not floating-point or integer arithmetic; its cost depends on string lengths",
)
not_countable(
    "TfIdfVectorizer",
    reason="n-gram matching is hash lookups whose hits depend on the token values, not arithmetic on shapes",
)
not_countable("ImageDecoder", reason="decoding a compressed image costs what its encoded bytes (data) hold")
