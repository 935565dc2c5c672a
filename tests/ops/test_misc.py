"""Closed-form tests of the misc family: Fourier transforms, windows, random generators,
losses, Det, Range, NonZero, and the ops that are not countable from shapes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeprof.ops.registry import Uncountable, lookup
from tests.opcall import cost

I64 = ((), "int64")

# --- DFT --------------------------------------------------------------------------------------


def test_dft_power_of_two_is_the_radix2_fft() -> None:
    # N = 8: 3 stages of 4 butterflies of 10 ops = 5·8·3 = 120; one transform
    c = cost("DFT", [(1, 8, 1)], [(1, 8, 2)])
    assert (c.flops, c.macs) == (120, 0)
    assert c.category.value == "other"


def test_dft_other_lengths_are_direct() -> None:
    # N = 6, complex, 2 transforms: 6 bins of 6 complex products (36) and 5 complex adds (10)
    assert cost("DFT", [(2, 6, 2)], [(2, 6, 2)]).flops == 2 * 6 * 46


def test_dft_onesided_forward() -> None:
    # direct: only the 6//2+1 = 4 returned bins are computed
    assert cost("DFT", [(1, 6, 1)], [(1, 4, 2)], onesided=1).flops == 4 * 46
    # FFT: the full transform is computed, half is returned
    assert cost("DFT", [(1, 8, 1)], [(1, 5, 2)], onesided=1).flops == 120


def test_dft_inverse_scales_every_output_component() -> None:
    assert cost("DFT", [(1, 8, 2)], [(1, 8, 2)], inverse=1).flops == 120 + 16
    # IRFFT: 5 bins -> N = 2·(5-1) = 8 real samples: 120 + 8 divides
    assert cost("DFT", [(1, 5, 2)], [(1, 8, 1)], inverse=1, onesided=1).flops == 128


def test_dft_length_input_read_back_from_the_output() -> None:
    # 6 samples zero-padded to dft_length = 8
    assert cost("DFT", [(1, 6, 1), I64], [(1, 8, 2)]).flops == 120
    # one-sided with a dft_length value: 5 bins could be N = 8 (120) or N = 9 (5·70): not fixed
    with pytest.raises(Uncountable, match="do not fix"):
        cost("DFT", [(1, 10, 1), I64], [(1, 5, 2)], onesided=1)


def test_dft_axis() -> None:
    # opset 17 attribute: axis 2 of (1, 3, 8, 1): 3 transforms of 8
    assert cost("DFT", [(1, 3, 8, 1)], [(1, 3, 8, 2)], axis=2).flops == 3 * 120
    # axis as an input value: every signal axis of (4, 4, 2) gives 4 transforms of 4 = 4·40
    assert cost("DFT", [(4, 4, 2), None, I64], [(4, 4, 2)]).flops == 160
    # ... but not for (2, 4, 4, 2): axis 0 gives 16·10, axis 1 gives 8·40
    with pytest.raises(Uncountable):
        cost("DFT", [(2, 4, 4, 2), None, I64], [(2, 4, 4, 2)])
    # no axis at all on rank 4: opset 17 defaults to 1 (N = 3), opset 20 to -2 (N = 8)
    with pytest.raises(Uncountable):
        cost("DFT", [(2, 3, 8, 2)], [(2, 3, 8, 2)])


def test_dft_bad_shapes() -> None:
    with pytest.raises(Uncountable, match="signals"):
        cost("DFT", [(1, 8, 3)], [(1, 8, 2)])


# --- STFT -------------------------------------------------------------------------------------


def test_stft_with_window_onesided() -> None:
    # 3 frames of N = 8: window 8 multiplies + FFT 120
    c = cost("STFT", [(1, 16, 1), I64, (8,)], [(1, 3, 5, 2)])
    assert c.flops == 3 * 128


def test_stft_complex_two_sided_direct() -> None:
    # N = 6: window 2·6 (complex samples) + direct 6·46; 2 frames
    assert cost("STFT", [(1, 16, 2), I64, (6,)], [(1, 2, 6, 2)], onesided=0).flops == 2 * (12 + 276)


def test_stft_frame_length_defaults() -> None:
    # neither window nor frame_length: N = signal length 16, one frame: 5·16·4 = 320
    assert cost("STFT", [(1, 16, 1), I64], [(1, 1, 9, 2)]).flops == 320
    # frame_length as a value, two-sided: N = bins = 8
    assert cost("STFT", [(1, 16, 1), I64, None, I64], [(1, 3, 8, 2)], onesided=0).flops == 360
    # one-sided: 5 bins could be N = 8 or 9
    with pytest.raises(Uncountable, match="frame length"):
        cost("STFT", [(1, 16, 1), I64, None, I64], [(1, 3, 5, 2)])


# --- windows and the mel matrix ---------------------------------------------------------------


@pytest.mark.parametrize("op", ["HannWindow", "HammingWindow"])
def test_cosine_windows(op: str) -> None:
    # 4 per element (multiply, cos, multiply, subtract) + 1 divide (2π/N); symmetric + 1 subtract
    c = cost(op, [I64], [(10,)])
    assert (c.flops, c.int_ops, c.precision) == (41, 0, "float32")
    assert cost(op, [I64], [(10,)], periodic=0).flops == 42


def test_blackman_window() -> None:
    assert cost("BlackmanWindow", [I64], [((10,), "float16")]).flops == 81


def test_mel_weight_matrix() -> None:
    # 5 bins x 3 mel bins: 6·15 + 5·5 + 2·(3+2) + 10 = 135
    c = cost("MelWeightMatrix", [I64, I64, I64, ((), "float32"), ((), "float32")], [(5, 3)])
    assert (c.flops, c.int_ops) == (135, 0)


# --- random generators ------------------------------------------------------------------------


def test_random_uniform_and_normal() -> None:
    c = cost("RandomUniform", [], [(4, 5)], shape=(4, 5))
    assert (c.flops, c.bytes_read, c.bytes_written) == (60, 0, 80)
    assert cost("RandomNormal", [], [(4, 5)], shape=(4, 5)).flops == 140


def test_random_like_reads_only_the_shape_and_uses_the_output_precision() -> None:
    c = cost("RandomUniformLike", [((4, 5), "int64")], [(4, 5)], dtype=1)
    assert (c.flops, c.int_ops, c.precision, c.bytes_read) == (60, 0, "float32", 0)
    assert cost("RandomNormalLike", [(4, 5)], [(4, 5)]).flops == 140


def test_bernoulli_and_multinomial() -> None:
    c = cost("Bernoulli", [(3, 4)], [((3, 4), "bool")])
    assert (c.flops, c.precision) == (24, "float32")
    # per row of 5 classes: exp 5 + running sum 4; per sample draw, multiply, ceil(log2 5) = 3 compares
    assert cost("Multinomial", [(2, 5)], [((2, 10), "int32")], sample_size=10).flops == 2 * (9 + 10 * 5)


# --- losses -----------------------------------------------------------------------------------

NLL_IN = [(2, 3, 4), ((2, 4), "int64")]  # N = 2, C = 3, d1 = 4: S = 8 samples


@pytest.mark.parametrize(
    ("extra", "attrs", "expected"),
    [
        ([], {"reduction": "none"}, 8),  # 8 negations
        ([], {"reduction": "sum"}, 8 + 7),
        ([], {}, 8 + 7 + 1),  # mean: sum and one divide
        ([(3,)], {}, 16 + 7 + 7 + 1),  # weighted mean: negate + multiply; sum of losses and of weights; divide
        ([], {"ignore_index": -1}, 16 + 7 + 7 + 1),  # compare per sample; the divisor counts the kept samples
        ([(3,)], {"ignore_index": -1, "reduction": "sum"}, 24 + 7),
    ],
)
def test_negative_log_likelihood_loss(extra: list[object], attrs: dict[str, object], expected: int) -> None:
    out = (2, 4) if attrs.get("reduction") == "none" else ()
    assert cost("NegativeLogLikelihoodLoss", NLL_IN + extra, [out], **attrs).flops == expected


def test_softmax_cross_entropy_loss() -> None:
    # log-softmax over C = 3 for 8 samples: 8·(5·3-1) = 112; then the mean NLL: 16
    c = cost("SoftmaxCrossEntropyLoss", NLL_IN, [(), (2, 3, 4)])
    assert c.flops == 128


def test_loss_unknown_reduction() -> None:
    with pytest.raises(Uncountable, match="reduction"):
        cost("NegativeLogLikelihoodLoss", NLL_IN, [()], reduction="max")


# --- Det, Range, NonZero ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((2, 2), 7),  # |a00|, |a10|, compare; l = a10/a00; a11 -= l·a01 (2); det = a00·a11
        ((3, 3), 23),  # pivots 5 + 3, eliminate 10 + 3, product 2
        ((4, 3, 3), 4 * 23),
        ((5, 5), 98),  # pivots 24, eliminate 3 + 10 + 21 + 36 = 70, product 4
        ((1, 1), 0),
    ],
)
def test_det_lu(shape: tuple[int, ...], expected: int) -> None:
    assert cost("Det", [shape], [shape[:-2]]).flops == expected


@given(n=st.integers(1, 60))
def test_det_closed_form(n: int) -> None:
    # pivots n²-1, divides n(n-1)/2, updates 2·Σm² = n(n-1)(2n-1)/3, product n-1
    expected = (n * n - 1) + n * (n - 1) // 2 + n * (n - 1) * (2 * n - 1) // 3 + (n - 1)
    assert cost("Det", [(n, n)], [()]).flops == expected


def test_det_needs_square_matrices() -> None:
    with pytest.raises(Uncountable, match="M, M"):
        cost("Det", [(3, 4)], [()])


def test_range() -> None:
    # 7 elements: 7 adds of delta + (subtract, divide, ceil, max) for the count
    c = cost("Range", [I64, I64, I64], [((7,), "int64")])
    assert (c.flops, c.int_ops) == (0, 11)
    assert cost("Range", [((), "float32")] * 3, [(7,)]).flops == 11


def test_non_zero() -> None:
    c = cost("NonZero", [(3, 4)], [((2, 5), "int64")])
    assert (c.flops, c.bytes_read, c.bytes_written) == (12, 48, 80)
    with pytest.raises(Uncountable, match="non-zero"):
        cost("NonZero", [(3, 4)], [((2, "nnz"), "int64")])


# --- not countable ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "op",
    ["NonMaxSuppression", "Unique", "StringConcat", "StringNormalizer", "StringSplit", "RegexFullMatch",
     "TfIdfVectorizer", "ImageDecoder"],
)
def test_data_dependent_ops_are_not_countable_with_a_reason(op: str) -> None:
    entry = lookup(op)
    assert entry is not None and entry.state == "not_countable" and entry.reason
    with pytest.raises(Uncountable, match=re.escape(entry.reason)):
        cost(op, [(4,)], [(4,)])


def test_sequence_map_recurses_into_its_body() -> None:
    entry = lookup("SequenceMap")
    assert entry is not None and entry.state == "subgraph"
