"""Closed-form tests of the conv family, including the seed's convolution example."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from edgeprof.ops.registry import Uncountable, lookup
from tests.opcall import cost

# --- Conv: the seed ---------------------------------------------------------------------------


def test_seed_conv_3x3_3_to_64_at_32x32() -> None:
    # K=3, Cin=3, Cout=64, Hout=Wout=32: MACs = 3·3·3·64·32·32 = 27·65536 = 1,769,472;
    # exact FLOPs = (2·27 - 1)·64·32·32 = 53·65536 = 3,473,408; with bias + 65,536 = 3,538,944.
    x, w, y = (1, 3, 32, 32), (64, 3, 3, 3), (1, 64, 32, 32)
    c = cost("Conv", [x, w], [y], pads=(1, 1, 1, 1))
    assert (c.macs, c.flops) == (1_769_472, 3_473_408)
    b = cost("Conv", [x, w, (64,)], [y], pads=(1, 1, 1, 1))
    assert (b.macs, b.flops) == (1_769_472, 3_538_944)
    assert c.category.value == "conv"


def test_seed_conv_batch_costs_n_times() -> None:
    c = cost("Conv", [(4, 3, 32, 32), (64, 3, 3, 3), (64,)], [(4, 64, 32, 32)], pads=(1, 1, 1, 1))
    assert (c.macs, c.flops) == (4 * 1_769_472, 4 * 3_538_944)


def test_resnet_stem_7x7_stride_2() -> None:
    # Kc = 3·7·7 = 147, numel(Y) = 64·112·112 = 802,816: MACs 118,013,952 (torchvision's figure
    # for conv1), FLOPs 293·802,816 = 235,225,088.
    c = cost("Conv", [(1, 3, 224, 224), (64, 3, 7, 7)], [(1, 64, 112, 112)], strides=(2, 2), pads=(3, 3, 3, 3))
    assert (c.macs, c.flops) == (118_013_952, 235_225_088)


@pytest.mark.parametrize(
    ("x", "w", "y", "attrs", "macs", "flops"),
    [
        # grouped: group 4, Cin/group = 2, Kc = 18, numel(Y) = 16·8·8 = 1024
        ((1, 8, 10, 10), (16, 2, 3, 3), (1, 16, 8, 8), {"group": 4}, 18 * 1024, 35 * 1024),
        # depthwise: group = Cin = 32, Kc = 9, numel(Y) = 8192
        ((1, 32, 16, 16), (32, 1, 3, 3), (1, 32, 16, 16), {"group": 32, "pads": (1, 1, 1, 1)}, 9 * 8192, 17 * 8192),
        # dilated 2: 20 - 2·2 = 16 out, Kc = 36, numel(Y) = 2048
        ((1, 4, 20, 20), (8, 4, 3, 3), (1, 8, 16, 16), {"dilations": (2, 2)}, 36 * 2048, 71 * 2048),
        # 1-D: Kc = 4·5 = 20, numel(Y) = 2·6·46 = 552
        ((2, 4, 50), (6, 4, 5), (2, 6, 46), {}, 20 * 552, 39 * 552),
        # 3-D: Kc = 2·27 = 54, numel(Y) = 4·216 = 864
        ((1, 2, 8, 8, 8), (4, 2, 3, 3, 3), (1, 4, 6, 6, 6), {}, 54 * 864, 107 * 864),
        # SAME_UPPER, stride 2: 15 -> 8, Kc = 27, numel(Y) = 512 (padded taps count, as the seed)
        ((1, 3, 15, 15), (8, 3, 3, 3), (1, 8, 8, 8), {"strides": (2, 2), "auto_pad": "SAME_UPPER"}, 27 * 512, 53 * 512),
        ((1, 3, 15, 15), (8, 3, 3, 3), (1, 8, 8, 8), {"strides": (2, 2), "auto_pad": "SAME_LOWER"}, 27 * 512, 53 * 512),
        ((1, 3, 15, 15), (8, 3, 3, 3), (1, 8, 7, 7), {"strides": (2, 2), "auto_pad": "VALID"}, 27 * 392, 53 * 392),
    ],
)
def test_conv_variants(
    x: tuple[int, ...], w: tuple[int, ...], y: tuple[int, ...], attrs: dict[str, object], macs: int, flops: int
) -> None:
    c = cost("Conv", [x, w], [y], **attrs)
    assert (c.macs, c.flops) == (macs, flops)


def test_depthwise_with_bias() -> None:
    c = cost("Conv", [(1, 32, 16, 16), (32, 1, 3, 3), (32,)], [(1, 32, 16, 16)], group=32, pads=(1, 1, 1, 1))
    assert (c.macs, c.flops) == (9 * 8192, 18 * 8192)


@pytest.mark.parametrize(
    ("x", "w", "y", "group"),
    [
        ((1, 8, 10, 10), (16, 3, 3, 3), (1, 16, 8, 8), 1),  # Cin 8 != 3·1
        ((1, 8, 10, 10), (16, 2, 3, 3), (1, 8, 8, 8), 4),  # Cout 8 != 16
        ((1, 8, 10, 10), (6, 2, 3, 3), (1, 6, 8, 8), 4),  # Cout 6 not divisible by 4
        ((1, 8, 10, 10), (16, 2, 3), (1, 16, 8, 8), 4),  # rank mismatch
    ],
)
def test_conv_shapes_that_do_not_fit_are_uncountable(
    x: tuple[int, ...], w: tuple[int, ...], y: tuple[int, ...], group: int
) -> None:
    with pytest.raises(Uncountable):
        cost("Conv", [x, w], [y], group=group)


@given(
    n=st.integers(1, 3),
    groups=st.integers(1, 4),
    cin_g=st.integers(1, 5),
    cout_g=st.integers(1, 5),
    k=st.integers(1, 5),
    h_out=st.integers(1, 9),
    w_out=st.integers(1, 9),
)
def test_conv_costs_exactly_its_im2col_matmul(
    n: int, groups: int, cin_g: int, cout_g: int, k: int, h_out: int, w_out: int
) -> None:
    conv = cost(
        "Conv",
        [(n, groups * cin_g, h_out + k - 1, w_out + k - 1), (groups * cout_g, cin_g, k, k)],
        [(n, groups * cout_g, h_out, w_out)],
        group=groups,
    )
    kc = cin_g * k * k
    mm = cost("MatMul", [(n, groups, cout_g, kc), (n, groups, kc, h_out * w_out)], [(n, groups, cout_g, h_out * w_out)])
    assert (conv.macs, conv.flops) == (mm.macs, mm.flops)


# --- ConvTranspose ------------------------------------------------------------------------------


def test_conv_transpose_stride_2() -> None:
    # X 5x5, kernel 3, stride 2: full output 11x11. Each input pixel meets 3·3·6 weights:
    # MACs = 4·25·54 = 5400. Per axis taps i·2+j cover all 11 positions, so every output
    # element receives products: FLOPs = 2·5400 - 6·121 = 10074.
    c = cost("ConvTranspose", [(1, 4, 5, 5), (4, 6, 3, 3)], [(1, 6, 11, 11)], strides=(2, 2))
    assert (c.macs, c.flops) == (5400, 10074)
    assert c.category.value == "conv"


def test_conv_transpose_output_padding_and_bias() -> None:
    # output_padding adds a row and a column that receive no product: same MACs and FLOPs;
    # the bias adds one op per output element: 6·12·12 = 864.
    x, w = (1, 4, 5, 5), (4, 6, 3, 3)
    c = cost("ConvTranspose", [x, w], [(1, 6, 12, 12)], strides=(2, 2), output_padding=(1, 1))
    assert (c.macs, c.flops) == (5400, 10074)
    b = cost("ConvTranspose", [x, w, (6,)], [(1, 6, 12, 12)], strides=(2, 2), output_padding=(1, 1))
    assert (b.macs, b.flops) == (5400, 10074 + 864)


def test_conv_transpose_stride_larger_than_kernel_leaves_gaps() -> None:
    # 1-D, 4 inputs, kernel 2, stride 3: taps at 0,1,3,4,6,7,9,10 of 11: each hit once, so
    # 8 multiplies and no add.
    c = cost("ConvTranspose", [(1, 1, 4), (1, 1, 2)], [(1, 1, 11)], strides=(3,))
    assert (c.macs, c.flops) == (8, 8)


def test_conv_transpose_dilation() -> None:
    # 1-D, 3 inputs, kernel 2, dilation 2: taps at 0,2 / 1,3 / 2,4: position 2 gets 2 products.
    # 6 multiplies + 1 add.
    c = cost("ConvTranspose", [(1, 1, 3), (1, 1, 2)], [(1, 1, 5)], dilations=(2,))
    assert (c.macs, c.flops) == (6, 7)


def test_conv_transpose_groups_and_batch() -> None:
    # N=2, Cin=4, group 2 -> Cout = 2·3 = 6; 3x3 input, kernel 2, stride 1 -> 4x4.
    # MACs = numel(X)·3·4 = 72·12 = 864. Per axis the counts of (i, j) with i+j=p are 1,2,2,1, so
    # each (n, co) gets 2·36 = 72 products on 16 covered pixels: 72 + 56 = 128 ops; ·12 = 1536.
    c = cost("ConvTranspose", [(2, 4, 3, 3), (4, 3, 2, 2)], [(2, 6, 4, 4)], group=2)
    assert (c.macs, c.flops) == (864, 1536)


def test_conv_transpose_pads_crop_but_products_are_computed() -> None:
    # 3x3 input, 3x3 kernel, pads 1: output 3x3, full 5x5 buffer all hit. MACs 81; FLOPs 162 - 25.
    c = cost("ConvTranspose", [(1, 1, 3, 3), (1, 1, 3, 3)], [(1, 1, 3, 3)], pads=(1, 1, 1, 1))
    assert (c.macs, c.flops) == (81, 137)
    same = cost("ConvTranspose", [(1, 1, 3, 3), (1, 1, 3, 3)], [(1, 1, 3, 3)], auto_pad="SAME_UPPER")
    assert (same.macs, same.flops) == (81, 137)


def test_conv_transpose_channel_mismatch_is_uncountable() -> None:
    with pytest.raises(Uncountable):
        cost("ConvTranspose", [(1, 4, 5, 5), (3, 6, 3, 3)], [(1, 6, 11, 11)])
    with pytest.raises(Uncountable):
        cost("ConvTranspose", [(1, 4, 5, 5), (4, 6, 3, 3)], [(1, 5, 11, 11)])


def _scatter_flops(size: int, k: int, s: int, d: int, cin_g: int) -> tuple[int, int]:
    """Brute force per (n, co), 1-D: (products, exact FLOPs) of the scatter over the full output."""
    hits: dict[int, int] = {}
    for i in range(size):
        for j in range(k):
            hits[i * s + j * d] = hits.get(i * s + j * d, 0) + cin_g
    return sum(hits.values()), sum(2 * m - 1 for m in hits.values())


@given(
    n=st.integers(1, 2),
    groups=st.integers(1, 3),
    cin_g=st.integers(1, 3),
    cout_g=st.integers(1, 3),
    size=st.integers(1, 8),
    k=st.integers(1, 4),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    pad=st.integers(0, 1),
    out_pad=st.integers(0, 2),
)
def test_conv_transpose_is_the_adjoint_conv_and_matches_brute_force(
    n: int, groups: int, cin_g: int, cout_g: int, size: int, k: int, s: int, d: int, pad: int, out_pad: int
) -> None:
    out_pad = min(out_pad, s - 1)
    y_len = s * (size - 1) + out_pad + d * (k - 1) + 1 - 2 * pad
    assume(y_len >= 1)
    cin, cout = groups * cin_g, groups * cout_g
    ct = cost(
        "ConvTranspose",
        [(n, cin, size), (cin, cout_g, k)],
        [(n, cout, y_len)],
        group=groups,
        strides=(s,),
        dilations=(d,),
        pads=(pad, pad),
        output_padding=(out_pad,),
    )
    # the adjoint conv maps the ConvTranspose output back to its input shape with the same weight
    adjoint = cost(
        "Conv",
        [(n, cout, y_len), (cin, cout_g, k)],
        [(n, cin, size)],
        group=groups,
        strides=(s,),
        dilations=(d,),
        pads=(pad, pad),
    )
    assert ct.macs == adjoint.macs == n * cin * size * cout_g * k
    products, flops = _scatter_flops(size, k, s, d, cin_g)
    assert ct.macs == n * cout * products
    assert ct.flops == n * cout * flops


# --- quantised convs ----------------------------------------------------------------------------


def test_qlinear_conv_int8_counts_integer_ops() -> None:
    # Kc = 27, numel(Y) = 4·6·6 = 144: core 53·144 = 7632; zero points numel(x)=192 +
    # numel(w)=108; bias 144; requantisation 4·144 = 576. All integer OPs at x's uint8.
    u8, i8, f = "uint8", "int8", "float32"
    ins = [
        ((1, 3, 8, 8), u8), ((), f), ((), u8),
        ((4, 3, 3, 3), i8), ((4,), f), ((4,), i8),
        ((), f), ((), u8), ((4,), "int32"),
    ]
    c = cost("QLinearConv", ins, [((1, 4, 6, 6), u8)])
    assert (c.flops, c.int_ops, c.macs, c.precision) == (0, 7632 + 300 + 144 + 576, 27 * 144, "uint8")
    no_bias = cost("QLinearConv", ins[:8], [((1, 4, 6, 6), u8)])
    assert no_bias.int_ops == 7632 + 300 + 576


def test_conv_integer_counts_present_zero_points_only() -> None:
    x, w, y = ((1, 3, 8, 8), "uint8"), ((4, 3, 3, 3), "uint8"), ((1, 4, 6, 6), "int32")
    c = cost("ConvInteger", [x, w, ((), "uint8")], [y])
    assert (c.flops, c.int_ops, c.macs, c.precision) == (0, 7632 + 192, 3888, "uint8")
    assert cost("ConvInteger", [x, w], [y]).int_ops == 7632


# --- DeformConv ---------------------------------------------------------------------------------


def test_deform_conv_2d() -> None:
    # The conv on sampled columns: Kc = 36, numel(Y) = 128: 71·128 = 9088 FLOPs, 4608 MACs.
    # Samples: N·C·out·taps = 4·16·9 = 576, each a bilinear sample of 19 ops = 10,944.
    x, w, off, y = (1, 4, 6, 6), (8, 4, 3, 3), (1, 18, 4, 4), (1, 8, 4, 4)
    c = cost("DeformConv", [x, w, off], [y])
    assert (c.macs, c.flops) == (4608, 9088 + 10_944)
    # a mask multiplies each sample (+576) and a bias adds per output (+128)
    m = cost("DeformConv", [x, w, off, (8,), (1, 9, 4, 4)], [y])
    assert (m.macs, m.flops) == (4608, 9088 + 10_944 + 576 + 128)


def test_deform_conv_1d_uses_linear_interpolation() -> None:
    # 1-D sample: add offset, floor, fraction, 1-f, 2 multiplies, 1 add = 7 ops.
    # Conv: Kc = 6, numel(Y) = 24: 11·24 = 264, 144 MACs. Samples 2·8·3 = 48 -> 336.
    c = cost("DeformConv", [(1, 2, 10), (3, 2, 3), (1, 3, 8)], [(1, 3, 8)])
    assert (c.macs, c.flops) == (144, 264 + 336)


# --- Col2Im -------------------------------------------------------------------------------------


def test_col2im_overlapping_blocks_cost_their_overlap_adds() -> None:
    # 4x4 image, 2x2 blocks, stride 1: 3x3 = 9 blocks. Per axis each pixel is hit 1,2,2,1 times:
    # 36 contributions onto 16 pixels -> 20 adds. Per (n, c): ·2·3.
    c = cost("Col2Im", [(2, 3 * 4, 9), (2,), (2,)], [(2, 3, 4, 4)])
    assert (c.flops, c.macs) == (6 * 20, 0)
    assert c.category.value == "conv"


def test_col2im_without_overlap_is_free() -> None:
    c = cost("Col2Im", [(1, 4, 4), (2,), (2,)], [(1, 1, 4, 4)], strides=(2, 2))
    assert c.flops == 0


def test_col2im_padding_drops_contributions() -> None:
    # 3x3 image, 3x3 block, pads 1 all round, stride 1: 3x3 blocks.
    # Per axis: block positions -1..1, taps in image: 2,3,2 = 7 contributions on 3 pixels.
    # 2-D: 49 contributions on 9 pixels -> 40 adds.
    c = cost("Col2Im", [(1, 9, 9), (2,), (2,)], [(1, 1, 3, 3)], pads=(1, 1, 1, 1))
    assert c.flops == 40


def test_col2im_ambiguous_block_shape_is_uncountable() -> None:
    # image 3x4, strides (2, 1), prod(block) = 3, L = 4: block (1,3) gives 4 adds, (3,1) gives 0.
    with pytest.raises(Uncountable, match="ambiguous"):
        cost("Col2Im", [(1, 3, 4), (2,), (2,)], [(1, 1, 3, 4)], strides=(2, 1))
    with pytest.raises(Uncountable, match="no block shape"):
        cost("Col2Im", [(1, 4, 7), (2,), (2,)], [(1, 1, 4, 4)])


def test_col2im_shape_inputs_are_meta() -> None:
    entry = lookup("Col2Im")
    assert entry is not None and entry.meta_inputs == frozenset({1, 2})


# --- CausalConvWithState ------------------------------------------------------------------------


def test_causal_conv_with_state() -> None:
    # depthwise, k = 4, numel(Y) = 2·8·10 = 160: 7·160 = 1120 FLOPs, 640 MACs
    x, w, y, state = (2, 8, 10), (8, 1, 4), (2, 8, 10), (2, 8, 3)
    c = cost("CausalConvWithState", [x, w], [y, state])
    assert (c.macs, c.flops) == (640, 1120)
    # + bias 160 + silu (sigmoid 4 + multiply 1) 5·160 = 800; past_state changes nothing
    s = cost("CausalConvWithState", [x, w, (8,), state], [y, state], activation="silu")
    assert (s.macs, s.flops) == (640, 1120 + 160 + 800)
    with pytest.raises(Uncountable, match="activation"):
        cost("CausalConvWithState", [x, w], [y, state], activation="gelu")


@given(
    image=st.tuples(st.integers(1, 7), st.integers(1, 7)),
    block=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    strides=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dilations=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    pads=st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2)),
    channels=st.integers(1, 3),
)
def test_col2im_matches_brute_force(
    image: tuple[int, int], block: tuple[int, int], strides: tuple[int, int], dilations: tuple[int, int],
    pads: tuple[int, int, int, int], channels: int,
) -> None:
    spans = [(block[a] - 1) * dilations[a] + 1 for a in (0, 1)]
    padded = [image[a] + pads[a] + pads[a + 2] for a in (0, 1)]
    assume(all(padded[a] >= spans[a] for a in (0, 1)))
    counts = [(padded[a] - spans[a]) // strides[a] + 1 for a in (0, 1)]
    hits: dict[tuple[int, int], int] = {}
    for bh in range(counts[0]):
        for bw in range(counts[1]):
            for i in range(block[0]):
                for j in range(block[1]):
                    y = bh * strides[0] + i * dilations[0] - pads[0]
                    x = bw * strides[1] + j * dilations[1] - pads[1]
                    if 0 <= y < image[0] and 0 <= x < image[1]:
                        hits[(y, x)] = hits.get((y, x), 0) + 1
    expected = channels * sum(m - 1 for m in hits.values())
    ins = [(1, channels * block[0] * block[1], counts[0] * counts[1]), (2,), (2,)]
    try:
        c = cost("Col2Im", ins, [(1, channels, *image)], strides=strides, dilations=dilations, pads=pads)
    except Uncountable as e:  # another block shape with the same product and L gives another answer
        assert "ambiguous" in str(e)
        return
    assert c.flops == expected
