"""Random calls of every registered op (fixed seed): random input and output shapes (dims up
to 2**62, symbolic, missing), dtypes and attributes (wrong types, negative, huge). Each call is
counted with non-negative integer figures or raises Uncountable (the node is then listed as
not counted); never another exception, never the registry's safety net (a formula bug).
Then whole one-node ONNX models of every registered ONNX op through the real frontend."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from edgeprof.ops.registry import OpCall, Uncountable, cost_of, lookup
from tests.hardening import fuzz_targets as ft

_SETTINGS = settings(max_examples=400, derandomize=True, deadline=None, database=None,
                     suppress_health_check=[HealthCheck.too_slow])


@_SETTINGS
@given(call=ft.op_calls)
def test_random_calls_of_every_registered_op(call: tuple[int, list[Any], list[Any], dict[str, Any]]) -> None:
    ft.check_op_call(*call)


@settings(max_examples=300, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(call=ft.graph_calls)
def test_random_one_node_models_give_a_profile_or_one_typed_line(call: dict[str, Any]) -> None:
    ft.check_graph(call)


def test_the_registry_safety_net_names_a_formula_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    """A formula that raises is listed as not counted with the reason (never a crash), and the
    fuzz check reports it as a failure."""
    entry = lookup("Relu")
    assert entry is not None and entry.fn is not None

    def broken(call: OpCall) -> Any:
        table: dict[str, int] = {}
        return table["x"]

    import dataclasses

    bad = dataclasses.replace(entry, fn=broken)
    with pytest.raises(Uncountable, match=r"the formula cannot cost this call \(KeyError"):
        cost_of(bad, OpCall("Relu", (), ()))


@pytest.mark.parametrize(("op", "ins", "outs", "attrs"), [
    # each of these hung or crashed before the hardening pass (found by this fuzzer)
    ("Det", [((2**40, 2**40), "float32")], [((), "float32")], {}),
    ("aten::adaptive_avg_pool1d", [((1, 2**40), "float32")], [((1, 2**40 - 1), "float32")], {}),
    ("aten::adaptive_max_pool2d", [((1, 1, 2**40, 7), "float32")], [((1, 1, 3, 2**40), "float32")], {}),
    ("MaxPool", [((1, 1, 2**40), "float32")], [((1, 1, 2**40), "float32")], {"kernel_shape": (3,), "pads": (1, 1)}),
    ("AveragePool", [((1, 1, 2**40), "float32")], [((1, 1, 2**39), "float32")],
     {"kernel_shape": (2,), "strides": (2,)}),
    ("ConvTranspose", [((1, 1, 2**40), "float32"), ((1, 1, 3), "float32")], [((1, 1, 2**40 + 2), "float32")], {}),
    ("LRN", [((1, 2**40, 2), "float32")], [((1, 2**40, 2), "float32")], {"size": 5}),
    ("Col2Im", [((1, 4, 2**40), "float32"), ((2,), "int64"), ((2,), "int64")], [((1, 1, 2**20 + 1, 2**20 + 1), "float32")],
     {"dilations": (0, 1)}),
    ("RandomNormal", [], [], {}),
    # found by the long run (scripts/fuzz_long.py): NaN and infinity where ints belong
    ("ReduceLogSum", [((2, 2), "float16")], [((2, 2), "float16")], {"noop_with_empty_axes": float("nan")}),
    ("MaxPool", [((2, 3, 1), "float32")], [((2, 3, 1), "float32")], {"kernel_shape": (float("inf"),)}),
    ("com.microsoft::SkipLayerNormalization", [((2, 8), "float32")], [((2, 8), "float32")], {}),
])
def test_calls_that_once_hung_or_crashed(op: str, ins: list[Any], outs: list[Any], attrs: dict[str, Any]) -> None:
    names = ft.registered_op_names()
    assert ft.check_op_call(names.index(op), ins, outs, attrs) in ("counted", "uncountable")


def test_counts_at_dim_2_to_the_40_are_exact_ints() -> None:
    """Closed forms, not loops: the same exact Python ints a brute force gives on small dims."""
    from math import gcd

    from edgeprof.ops.aten_only import adaptive_length_sum, adaptive_windows
    from edgeprof.ops.conv import covered_positions, taps_inside, window_taps, windows_with_taps
    from edgeprof.ops.misc import det_ops

    for n in range(1, 30):
        for m in range(1, 30):
            assert adaptive_length_sum(n, m) == sum(adaptive_windows(n, m)) == n + m - gcd(n, m)
    for args in [(7, 2, 3, 1, 1, 12), (5, 1, 4, 2, 3, 9), (9, 3, 2, 4, 0, 20), (4, 2, 5, 1, -2, 6)]:
        taps = window_taps(*args)
        assert taps_inside(*args) == sum(taps) and windows_with_taps(*args) == sum(1 for t in taps if t)
        hit = {i * args[1] + j * args[3] - args[4] for i in range(args[0]) for j in range(args[2])}
        assert covered_positions(*args) == len([p for p in hit if 0 <= p < args[5]])
    n = 2**40
    assert det_ops(n) == n * n - 1 + n * (n - 1) // 2 + n * (n - 1) * (2 * n - 1) // 3 + n - 1
    assert taps_inside(n, 1, 3, 1, 1, n) == 3 * n - 2  # 3 taps per window, one lost at each border
    assert covered_positions(n, 2, 3, 1, 0, 2 * n + 1) == 2 * n + 1


def test_a_slice_of_a_scalar_is_one_typed_outcome() -> None:
    """Found by the second long run: Slice of a rank-0 input leaked an IndexError."""
    call = {"index": ft.onnx_schema_ops().index("Slice"), "base": [], "symbolic": False, "dtype": "uint8",
            "inputs": ["same", "scalar", "scalar"], "consts": [[1], [1], [1], [], [], []], "cut": 0, "outputs": 2,
            "attrs": [None] * 12, "junk": {}}
    assert ft.check_graph(call) in ("profile", "error")
