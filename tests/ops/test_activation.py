"""Closed-form tests of the activation family, including the seed's ReLU n and Sigmoid 4n."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeprof.ops import primitives, rnn
from edgeprof.ops.registry import Uncountable
from tests.opcall import cost

shapes = st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple)


def _numel(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


@given(shape=shapes)
def test_seed_relu_is_n_and_sigmoid_is_4n(shape: tuple[int, ...]) -> None:
    n = _numel(shape)
    relu = cost("Relu", [shape], [shape])
    assert (relu.flops, relu.macs, relu.int_ops) == (n, 0, 0)
    assert relu.category.value == "activation"
    assert cost("Sigmoid", [shape], [shape]).flops == 4 * n
    assert cost("Tanh", [shape], [shape]).flops == 5 * n


def test_shared_constants_have_the_agreed_values() -> None:
    assert (primitives.RELU_OPS, primitives.SIGMOID_OPS, primitives.TANH_OPS) == (1, 4, 5)
    # the recurrent family takes its activation costs from the same primitives
    assert (rnn.ACTIVATION_OPS["relu"], rnn.ACTIVATION_OPS["sigmoid"], rnn.ACTIVATION_OPS["tanh"]) == (1, 4, 5)


def test_primitives_is_a_leaf_that_imports_no_op_family() -> None:
    import ast
    from pathlib import Path

    tree = ast.parse(Path(primitives.__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    families = {m for m in imported if m and m.startswith("edgeprof.ops.") and m != "edgeprof.ops.registry"}
    assert not families, f"ops/primitives.py must not import an op family: {sorted(families)}"


@pytest.mark.parametrize(
    ("onnx_op", "rnn_name"),
    [("HardSigmoid", "hardsigmoid"), ("Elu", "elu"), ("Softsign", "softsign"), ("Softplus", "softplus"),
     ("LeakyRelu", "leakyrelu"), ("ThresholdedRelu", "thresholdedrelu"), ("Relu", "relu"), ("Sigmoid", "sigmoid"),
     ("Tanh", "tanh")],
)
def test_recurrent_activation_costs_agree_with_the_activation_ops(onnx_op: str, rnn_name: str) -> None:
    assert cost(onnx_op, [(7,)], [(7,)]).flops == 7 * rnn.ACTIVATION_OPS[rnn_name]


@pytest.mark.parametrize(
    ("op", "attrs", "per_element"),
    [
        ("LeakyRelu", {"alpha": 0.1}, 2),  # multiply, max
        ("ThresholdedRelu", {}, 1),  # comparison
        ("HardSigmoid", {}, 4),  # multiply, add, min, max
        ("HardSwish", {}, 5),  # x + 3, max 0, min 6, · x, / 6
        ("Elu", {}, 4),  # comparison, exp, subtract, multiply
        ("Selu", {}, 5),  # comparison, exp, subtract, · alpha, · gamma
        ("Celu", {}, 7),  # max, divide, exp, subtract, multiply, min, add
        ("Softplus", {}, 3),  # exp, add, log
        ("Softsign", {}, 3),  # abs, add, divide
        ("Mish", {}, 9),  # softplus 3 + tanh 5 + multiply 1
        ("Swish", {}, 5),  # alpha = 1: sigmoid 4 + multiply
        ("Swish", {"alpha": 1.702}, 6),  # + alpha · x
        ("Gelu", {}, 5),  # x/√2, erf, + 1, · x, · 0.5
        ("Gelu", {"approximate": "none"}, 5),
        ("Gelu", {"approximate": "tanh"}, 13),  # x², x³, ·c, + x, ·k, tanh 5, + 1, · x, · 0.5
        ("Shrink", {"lambd": 0.5, "bias": 0.1}, 3),  # two comparisons, one add/subtract
    ],
)
def test_compound_activation_per_element(op: str, attrs: dict[str, object], per_element: int) -> None:
    c = cost(op, [(2, 3, 4)], [(2, 3, 4)], **attrs)
    assert c.flops == 24 * per_element
    assert c.macs == 0
    assert c.category.value == "activation"


def test_prelu_counts_the_output_with_a_broadcast_slope() -> None:
    # X (1, 8, 4, 4), slope (8, 1, 1): 128 outputs, multiply + max each
    c = cost("PRelu", [(1, 8, 4, 4), (8, 1, 1)], [(1, 8, 4, 4)])
    assert c.flops == 256
    assert c.bytes_read == 4 * (128 + 8)


def test_swiglu_is_swish_of_a_times_b() -> None:
    # 2x10: swish 5 + multiply by B 1 = 6 per element; alpha != 1 adds one multiply
    assert cost("SwiGLU", [(2, 10), (2, 10)], [(2, 10)]).flops == 120
    assert cost("SwiGLU", [(2, 10), (2, 10)], [(2, 10)], alpha=2.0).flops == 140


def test_gelu_unknown_approximation_is_uncountable() -> None:
    with pytest.raises(Uncountable, match="approximate"):
        cost("Gelu", [(4,)], [(4,)], approximate="erf")


def test_clip_counts_one_comparison_per_bound() -> None:
    x = (3, 5)
    scalar = ((), "float32")
    assert cost("Clip", [x, scalar, scalar], [x]).flops == 30  # ReLU6-style: min and max
    assert cost("Clip", [x, scalar], [x]).flops == 15  # lower bound only
    assert cost("Clip", [x, None, scalar], [x]).flops == 15  # upper bound only
    assert cost("Clip", [x], [x]).flops == 0  # no bound: a copy
    assert cost("Clip", [x], [x], min=0.0, max=6.0).flops == 30  # opset 6: bounds as attributes


def test_int8_clip_is_integer_ops() -> None:
    c = cost("Clip", [((4, 4), "int8"), ((), "int8"), ((), "int8")], [((4, 4), "int8")])
    assert (c.flops, c.int_ops, c.precision) == (0, 32, "int8")


def test_relu_bytes_and_half_precision() -> None:
    c = cost("Relu", [((2, 64), "float16")], [((2, 64), "float16")])
    assert (c.flops, c.bytes_read, c.bytes_written, c.precision) == (128, 256, 256, "float16")


# --- softmax family ------------------------------------------------------------------------


def test_softmax_last_axis_is_5n_minus_2_per_row() -> None:
    # (2, 3, 10), axis -1: 6 rows of 10: 6·(5·10 - 2) = 288
    assert cost("Softmax", [(2, 3, 10)], [(2, 3, 10)]).flops == 288


def test_softmax_other_axis() -> None:
    # axis 1 of (2, 3, 10): rows = 2·10 = 20 of length 3: 20·13 = 260
    assert cost("Softmax", [(2, 3, 10)], [(2, 3, 10)], axis=1).flops == 260
    assert cost("Softmax", [(2, 3, 10)], [(2, 3, 10)], axis=-2).flops == 260


def test_log_softmax_is_5n_minus_1_per_row() -> None:
    # max 9, subtract 10, exp 10, sum 9, log 1, subtract 10 = 49 per row of 10; 6 rows
    assert cost("LogSoftmax", [(2, 3, 10)], [(2, 3, 10)]).flops == 6 * 49


def test_hardmax_is_n_minus_1_comparisons_per_row() -> None:
    assert cost("Hardmax", [(4, 7)], [(4, 7)]).flops == 4 * 6
    assert cost("Hardmax", [(4, 7)], [(4, 7)], axis=0).flops == 7 * 3


def test_softmax_bad_axis_is_uncountable() -> None:
    with pytest.raises(Uncountable, match="axis"):
        cost("Softmax", [(2, 3)], [(2, 3)], axis=2)


@given(rows=st.integers(1, 50), n=st.integers(1, 200))
def test_softmax_matches_the_convention(rows: int, n: int) -> None:
    assert cost("Softmax", [(rows, n)], [(rows, n)]).flops == rows * (5 * n - 2)
    assert cost("LogSoftmax", [(rows, n)], [(rows, n)]).flops == rows * (5 * n - 1)


def test_legacy_softmax_rows_span_every_dim_from_axis() -> None:
    # Before opset 13 (coerce_2d, set by the ONNX frontend) a (2, 3, 4) input at axis 1 is 2 rows of 12.
    c = cost("Softmax", [(2, 3, 4)], [(2, 3, 4)], axis=1, coerce_2d=1)
    assert c.flops == 2 * (5 * 12 - 2)
    assert cost("Softmax", [(2, 3, 4)], [(2, 3, 4)], axis=1).flops == 8 * (5 * 3 - 2)
