"""The memory pass: model size, activation peak from lifetimes, timeline, precisions, MCU view.

Every expected figure is worked out by hand in the test (float32 = 4 bytes per element).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from edgeprof.errors import UsageError
from edgeprof.ir import Graph, Node, Shape, Value, Weight, WeightRole, dtype_by_name
from edgeprof.passes.memory import (
    analyse_memory,
    mcu_fit,
    model_size,
    with_device_fits,
    with_measurement,
    with_measurement_error,
)
from edgeprof.report.memory import MeasuredMemory, MeasuredTensorPeak, MemoryReport
from edgeprof.report.model import Provenance

Dims = Sequence[int | str] | None


class Net:
    """A tiny IR builder: values by name, nodes in source order, one output per node unless
    ``extra_outputs`` names more."""

    def __init__(self, name: str = "g") -> None:
        self.name = name
        self.values: dict[str, Value] = {}
        self.weights: dict[str, Weight] = {}
        self.nodes: list[Node] = []
        self.inputs: list[str] = []

    def _value(self, name: str, shape: Dims, dtype: str) -> None:
        self.values[name] = Value(name, dtype_by_name(dtype), None if shape is None else Shape(tuple(shape)))

    def input(self, name: str, shape: Dims, dtype: str = "float32") -> str:
        self._value(name, shape, dtype)
        self.inputs.append(name)
        return name

    def weight(
        self, name: str, shape: Sequence[int], dtype: str = "float32", role: WeightRole = "parameter", key: str = ""
    ) -> str:
        self._value(name, shape, dtype)
        self.weights[name] = Weight(name, dtype_by_name(dtype), Shape(tuple(shape)), role=role, storage_key=key)
        return name

    def op(
        self,
        op: str,
        inputs: Sequence[str],
        out: str,
        shape: Dims,
        dtype: str = "float32",
        *,
        name: str = "",
        subgraphs: dict[str, Graph] | None = None,
        extra_outputs: Sequence[tuple[str, Dims]] = (),
        **attrs: Any,
    ) -> str:
        self._value(out, shape, dtype)
        for extra, extra_shape in extra_outputs:
            self._value(extra, extra_shape, dtype)
        outs = (out, *(e for e, _ in extra_outputs))
        self.nodes.append(Node(name or out, op, tuple(inputs), outs, attrs, subgraphs or {}))
        return out

    def build(self, *outputs: str) -> Graph:
        return Graph(self.name, tuple(self.nodes), tuple(self.inputs), tuple(outputs), self.values, self.weights)


def during(r: MemoryReport) -> list[int]:
    return [p.op_peak_bytes for p in r.predicted.timeline]


def after(r: MemoryReport) -> list[int]:
    return [p.live_bytes for p in r.predicted.timeline]


# ---- chains ---------------------------------------------------------------------------------


def test_chain_of_equal_tensors_peaks_at_input_plus_output() -> None:
    n = Net()
    n.input("x", (1000,))
    n.op("Relu", ["x"], "a", (1000,))
    n.op("Relu", ["a"], "b", (1000,))
    n.op("Relu", ["b"], "c", (1000,))
    r = analyse_memory(n.build("c"), inputs_held=False)
    # each step holds its 4000-byte input and 4000-byte output; the input dies after it
    assert during(r) == [8000, 8000, 8000]
    assert after(r) == [4000, 4000, 4000]  # the output c lives to the end
    assert r.predicted.peak_activation_bytes == 8000
    assert r.predicted.peak_at == "a"  # the first step at the peak
    assert r.predicted.input_bytes == 4000
    assert r.predicted.weight_bytes == 0 and r.predicted.peak_bytes == 8000
    assert [t.value for t in r.predicted.live_at_peak] == ["a", "x"]  # by size, then name
    assert [p.node for p in r.predicted.timeline] == ["a", "b", "c"]
    assert r.predicted.unsized_values == () and not r.predicted.is_lower_bound and not r.predicted.inputs_held
    # by default the caller holds x (4000) for the whole run
    held = analyse_memory(n.build("c"))
    assert during(held) == [8000, 12000, 12000]
    assert after(held) == [8000, 8000, 8000]
    assert (held.predicted.peak_activation_bytes, held.predicted.peak_at, held.predicted.inputs_held) == (12000, "b", True)


def test_chain_of_changing_sizes_peaks_at_the_largest_neighbours() -> None:
    n = Net()
    n.input("x", (100,))
    n.op("Conv", ["x"], "a", (200,))
    n.op("Conv", ["a"], "b", (300,))
    n.op("GlobalAveragePool", ["b"], "c", (50,))
    r = analyse_memory(n.build("c"), inputs_held=False)
    # x+a = 400+800; a+b = 800+1200; b+c = 1200+200
    assert during(r) == [1200, 2000, 1400]
    assert after(r) == [800, 1200, 200]
    assert (r.predicted.peak_activation_bytes, r.predicted.peak_at, r.predicted.peak_at_op) == (2000, "b", "Conv")
    assert r.predicted.activation_total_bytes == 400 + 800 + 1200 + 200


def test_residual_block_keeps_the_skip_input_alive() -> None:
    n = Net()
    n.input("x", (1000,))
    n.op("Conv", ["x"], "c1", (1000,))
    n.op("Relu", ["c1"], "r", (1000,))
    n.op("Conv", ["r"], "c2", (1000,))
    n.op("Add", ["c2", "x"], "y", (1000,))
    g = n.build("y")
    r = analyse_memory(g, inputs_held=False)
    # conv1: x+c1; relu: x+c1+r; conv2: x+r+c2; add: x+c2+y; x is freed only after the Add
    assert during(r) == [8000, 12000, 12000, 12000]
    assert after(r) == [8000, 8000, 8000, 4000]
    held = analyse_memory(g)  # the caller keeps x to the end: the same peak, x still live after the Add
    assert during(held) == [8000, 12000, 12000, 12000]
    assert after(held) == [8000, 8000, 8000, 8000]
    assert (r.predicted.peak_activation_bytes, r.predicted.peak_at) == (12000, "r")
    assert sorted(t.value for t in r.predicted.live_at_peak) == ["c1", "r", "x"]


def test_in_place_op_shares_its_input_buffer() -> None:
    def build(inplace: bool) -> Graph:
        n = Net()
        n.input("x", (10,))
        n.op("Exp", ["x"], "a", (1000,))
        if inplace:
            n.op("Relu", ["a"], "b", (1000,), inplace=1)
        else:
            n.op("Relu", ["a"], "b", (1000,))
        n.op("ReduceSum", ["b"], "c", (10,))
        return n.build("c")

    copy = analyse_memory(build(False), inputs_held=False)
    assert during(copy) == [4040, 8000, 4040]
    assert (copy.predicted.peak_activation_bytes, copy.predicted.peak_at) == (8000, "b")
    shared = analyse_memory(build(True), inputs_held=False)
    # the in-place Relu writes into a: nothing new while it runs, and a lives until c is made
    assert during(shared) == [4040, 4000, 4040]
    assert after(shared) == [4000, 4000, 40]
    assert (shared.predicted.peak_activation_bytes, shared.predicted.peak_at) == (4040, "a")
    assert shared.predicted.activation_total_bytes == 40 + 4000 + 40


def test_chain_of_views_keeps_the_base_alive_until_the_last_alias_is_read() -> None:
    n = Net()
    n.input("x", (10,))
    n.weight("shape", (2,), "int64", role="constant")
    n.weight("axes", (1,), "int64", role="constant")
    n.op("Exp", ["x"], "e", (1000,))
    n.op("Reshape", ["e", "shape"], "v1", (10, 100))
    n.op("Unsqueeze", ["v1", "axes"], "v2", (1, 10, 100))
    n.op("Neg", ["x"], "t", (2000,))
    n.op("Add", ["v2", "t"], "y", (2000,))
    r = analyse_memory(n.build("y"), inputs_held=False)
    # e: 4000, t: 8000, y: 8000, x: 40. The views allocate nothing; e stays live through v2.
    assert during(r) == [4040, 4040, 4040, 12040, 20000]
    assert after(r) == [4040, 4040, 4040, 12000, 8000]
    assert (r.predicted.peak_activation_bytes, r.predicted.peak_at) == (20000, "y")
    live = {t.value: t for t in r.predicted.live_at_peak}
    assert sorted(live) == ["e", "t", "y"]
    assert live["e"].aliases == ("v1", "v2") and live["e"].size_bytes == 4000
    assert r.predicted.activation_total_bytes == 40 + 4000 + 8000 + 8000  # views add nothing
    assert r.predicted.weight_bytes == 16 + 8  # the int64 shape and axes are weights, not activations


def test_view_of_a_weight_is_not_an_activation() -> None:
    n = Net()
    n.input("x", (10,))
    n.weight("w", (10,))
    n.weight("shape", (1,), "int64", role="constant")
    n.op("Reshape", ["w", "shape"], "wv", (10,))
    n.op("Add", ["x", "wv"], "y", (10,))
    r = analyse_memory(n.build("y"))
    assert during(r) == [40, 80]
    assert r.predicted.weight_bytes == 40 + 8
    assert r.predicted.peak_bytes == 48 + 80


def test_branches_and_concatenation() -> None:
    n = Net()
    n.input("x", (100,))
    n.op("Conv", ["x"], "b1", (1000,))
    n.op("Conv", ["x"], "b2", (2000,))
    n.op("Conv", ["x"], "b3", (500,))
    n.op("Concat", ["b1", "b2", "b3"], "cat", (3500,), axis=0)
    r = analyse_memory(n.build("cat"), inputs_held=False)
    # x=400; b1=4000, b2=8000, b3=2000 all live into the Concat, which writes 14000 more
    assert during(r) == [4400, 12400, 14400, 28000]
    assert after(r) == [4400, 12400, 14000, 14000]
    assert (r.predicted.peak_activation_bytes, r.predicted.peak_at) == (28000, "cat")


def test_graph_output_lives_to_the_end_and_unread_output_only_while_written() -> None:
    n = Net()
    n.input("x", (100,))
    n.op("Relu", ["x"], "early", (1000,))  # a graph output nobody reads
    n.op("Dropout", ["x"], "d", (100,), extra_outputs=[("mask", (100,))])  # d aliases x; mask unread
    n.op("Exp", ["d"], "late", (100,))
    r = analyse_memory(n.build("early", "late"), inputs_held=False)
    # step 0: x 400 + early 4000; step 1: mask 400 appears and dies at once (d is a view of x);
    # step 2: x freed after it; early and late stay to the end
    assert during(r) == [4400, 4800, 4800]
    assert after(r) == [4400, 4400, 4400]


def test_graph_input_that_is_an_output_lives_throughout() -> None:
    n = Net()
    n.input("x", (100,))
    n.op("Relu", ["x"], "a", (100,))
    n.op("Relu", ["a"], "b", (100,))
    r = analyse_memory(n.build("b", "x"))
    assert during(r) == [800, 1200]
    assert after(r) == [800, 800]


# ---- sizes that cannot be known, and zero sizes -------------------------------------------------


def test_unshaped_and_symbolic_values_are_listed_and_make_a_lower_bound() -> None:
    n = Net()
    n.input("x", (10,))
    n.op("NonZero", ["x"], "nz", None, "int64")
    n.op("Cast", ["nz"], "f", ("n",))
    n.op("ReduceSum", ["f"], "s", (1,))
    r = analyse_memory(n.build("s"), inputs_held=False)
    assert r.predicted.unsized_values == ("nz", "f")
    assert r.predicted.is_lower_bound
    assert during(r) == [40, 0, 4]  # the sized part only: x, then nothing sized, then s
    unsized = [t for t in r.predicted.live_at_peak if not t.sized]
    assert [t.value for t in unsized] == ["nz"]


def test_zero_size_tensor_is_sized_zero() -> None:
    n = Net()
    n.input("x", (0, 8))
    n.op("Relu", ["x"], "y", (0, 8))
    r = analyse_memory(n.build("y"))
    assert r.predicted.peak_activation_bytes == 0
    assert not r.predicted.is_lower_bound and r.predicted.unsized_values == ()


def test_empty_graph_peak_is_its_inputs() -> None:
    n = Net()
    n.input("x", (25,))
    r = analyse_memory(n.build("x"))
    assert (r.predicted.peak_activation_bytes, r.predicted.peak_at, r.predicted.timeline) == (100, "", ())
    assert [t.value for t in r.predicted.live_at_peak] == ["x"]


# ---- subgraphs --------------------------------------------------------------------------------


def test_if_adds_the_larger_branch_peak_while_it_runs() -> None:
    then = Net("then")
    then.op("Exp", ["x"], "t1", (1000,))
    then.op("ReduceSum", ["t1"], "t2", (10,))
    other = Net("else")
    other.op("Neg", ["x"], "e1", (10,))
    outer = Net()
    outer.input("x", (10,))
    outer.input("cond", (), "bool")
    outer.op("If", ["cond"], "y", (10,), subgraphs={"then_branch": then.build("t2"), "else_branch": other.build("e1")})
    outer.op("Relu", ["y"], "z", (10,))
    r = analyse_memory(outer.build("z"), inputs_held=False)
    # then branch peak: t1 + t2 = 4040 (x is the outer graph's); else: 40
    # If step: x 40 + cond 1 + y 40 + 4040
    assert during(r) == [4121, 80]
    assert (r.predicted.peak_activation_bytes, r.predicted.peak_at, r.predicted.peak_at_op) == (4121, "y", "If")


# ---- weights and precisions -------------------------------------------------------------------


def _mlp() -> Graph:
    n = Net()
    n.input("x", (1, 100))
    n.weight("W", (100, 10))
    n.weight("b", (10,))
    n.weight("W_tied", (100, 10), key="W")  # the same storage as W: counted once
    n.weight("mean", (10,), role="buffer")
    n.weight("steps", (1,), "int64", role="buffer")
    n.weight("shape", (2,), "int64", role="constant")
    n.weight("eps", (1,), role="constant")
    n.op("MatMul", ["x", "W"], "h", (1, 10))
    n.op("Add", ["h", "b"], "hb", (1, 10))
    n.op("Sub", ["hb", "mean"], "hc", (1, 10))
    n.op("Add", ["hc", "eps"], "he", (1, 10))
    n.op("Reshape", ["he", "shape"], "hr", (10,))
    n.op("ArgMax", ["hr"], "i", (1,), "int64")
    n.op("Add", ["i", "steps"], "j", (1,), "int64")
    n.op("MatMul", ["x", "W_tied"], "k", (1, 10))
    return n.build("j", "k")


def test_without_the_search_there_is_no_best_order() -> None:
    r = analyse_memory(_mlp(), search=False)
    assert r.predicted.schedule is None
    assert all(p.best_order_peak_activation_bytes is None for p in r.predicted.by_precision)
    assert mcu_fit(r, 480, 4108).best_peak_activation_bytes == 480  # the default order's
    assert MemoryReport.from_json(r.to_json()) == r


def test_model_size_by_role_and_dtype() -> None:
    s = model_size(_mlp(), file_bytes=12345)
    assert s.params == 1000 + 10
    assert s.parameter_bytes == 4000 + 40
    assert s.buffer_bytes == 40 + 8
    assert s.constant_bytes == 16 + 4
    assert s.weight_bytes == 4040 + 48 + 20
    assert s.file_bytes == 12345
    assert s.external_bytes == 0
    groups = {g.dtype: (g.tensors, g.elements, g.params, g.bytes) for g in s.by_dtype}
    assert groups == {"float32": (4, 1021, 1010, 4084), "int64": (2, 3, 0, 24)}


def test_weights_and_activations_per_precision() -> None:
    r = analyse_memory(_mlp())
    # x (400) is read again by the last MatMul, so it stays; the float temporaries are 40 each,
    # i and j are int64[1] (8 each); hr is a view of he
    assert during(r) == [440, 480, 480, 480, 440, 448, 416, 448]
    assert r.predicted.peak_activation_bytes == 480 and r.predicted.peak_at == "hb"
    rows = {p.precision: p for p in r.predicted.by_precision}
    assert rows["stored"].weight_bytes == 4108
    # params (1010) and the float buffer (10) re-typed; int64 buffer 8 and constants 16 + 4 kept
    assert rows["fp32"].weight_bytes == 4040 + 40 + 8 + 20
    assert rows["fp16"].weight_bytes == 2020 + 20 + 8 + 20
    assert rows["int8"].weight_bytes == 1010 + 10 + 8 + 20
    # int4 per tensor, rounded up: W 1000 -> 500, b 10 -> 5, mean 10 -> 5
    assert rows["int4"].weight_bytes == 500 + 5 + 5 + 8 + 20
    # fp16: x 200 + two 20-byte temporaries; int8: 100 + 10 + 10; int4 keeps int8 activations
    assert (rows["fp32"].peak_activation_bytes, rows["fp16"].peak_activation_bytes) == (480, 240)
    assert rows["int8"].peak_activation_bytes == 120
    assert rows["int4"].activation_dtype == "int8" and rows["int4"].peak_activation_bytes == 120
    assert rows["fp16"].peak_bytes == 2068 + 240
    assert r.predicted.peak_bytes == 4108 + 480


def test_integer_activations_are_not_retyped() -> None:
    n = Net()
    n.input("ids", (1000,), "int64")
    n.weight("table", (50, 4))
    n.op("Gather", ["table", "ids"], "emb", (1000, 4))
    r = analyse_memory(n.build("emb"))
    rows = {p.precision: p.peak_activation_bytes for p in r.predicted.by_precision}
    assert rows == {"stored": 8000 + 16000, "fp32": 24000, "fp16": 8000 + 8000, "int8": 8000 + 4000,
                    "int4": 8000 + 4000}


# ---- microcontroller view, measured figures, JSON -------------------------------------------------


def _two_branches() -> Graph:
    n = Net()
    n.input("x", (10,))
    n.op("Conv", ["x"], "a1", (1000,))
    n.op("Conv", ["x"], "b1", (1000,))
    n.op("GlobalAveragePool", ["a1"], "a2", (10,))
    n.op("GlobalAveragePool", ["b1"], "b2", (10,))
    n.op("Add", ["a2", "b2"], "y", (10,))
    return n.build("y")


def test_mcu_fit_margins_for_default_and_best_order() -> None:
    r = analyse_memory(_two_branches(), inputs_held=False)
    # default order peak 8040 (a1, b1 and x live with b1 written); best 4080 (see test_schedule)
    fit = mcu_fit(r, sram_bytes=5000, flash_bytes=10)
    assert (fit.default_peak_activation_bytes, fit.best_peak_activation_bytes) == (8040, 4080)
    assert not fit.default_fits_sram and fit.default_sram_margin_bytes == 5000 - 8040
    assert fit.best_fits_sram and fit.best_sram_margin_bytes == 920
    assert fit.weights_fit_flash and fit.flash_margin_bytes == 10
    assert fit.fits
    small = mcu_fit(r, sram_bytes=4079, flash_bytes=0, precision="int8")
    # int8: the peak tensors are a quarter: default 2010, best 1020
    assert (small.default_peak_activation_bytes, small.best_peak_activation_bytes) == (2010, 1020)
    assert small.best_fits_sram
    with pytest.raises(UsageError):
        mcu_fit(r, 1, 1, precision="int3")
    with pytest.raises(UsageError):
        mcu_fit(r, -1, 1)


def test_device_fits_use_the_catalogue_sizes_of_devices_that_have_both() -> None:
    from edgeprof.devices.catalogue import Device, Figure

    r = analyse_memory(_two_branches(), inputs_held=False)

    def size(v: float) -> Figure:
        return Figure(v, "vendor", "test")

    mcu = Device(id="mcu", name="MCU", soc="", device_class="mcu", sram_bytes=size(5000), flash_bytes=size(10))
    no_flash = Device(id="nf", name="NF", soc="", device_class="mcu", sram_bytes=size(5000))
    fits = with_device_fits(r, [mcu, no_flash]).predicted.device_fits
    assert [(f.device_id, f.precision) for f in fits] == [("mcu", "stored"), ("mcu", "int8")]
    assert fits[0] == mcu_fit(r, 5000, 10, "stored", "mcu")
    assert (fits[0].best_peak_activation_bytes, fits[0].best_fits_sram) == (4080, True)
    assert fits[1].best_peak_activation_bytes == 1020
    assert MemoryReport.from_json(with_device_fits(r, [mcu]).to_json()).predicted.device_fits == fits


def test_measurement_is_set_beside_the_prediction_and_json_round_trips() -> None:
    r = analyse_memory(_mlp(), file_bytes=999)
    assert r.measured is None
    m = MeasuredMemory(
        runtime="onnxruntime 1.0 (CPUExecutionProvider)", peak_rss_increase_bytes=5000,
        load_peak_rss_increase_bytes=9000, session_rss_increase_bytes=4200, runs=3, baseline_rss_bytes=1 << 20,
        options=("enable_cpu_mem_arena=False",), inputs=("x: float32[1x100]",),
        provenance=Provenance("measured", "VmHWM"),
    )
    both = with_measurement(r, m)
    assert both.measured.rss.peak_rss_increase_bytes == 5000
    assert both.measured.measured_minus_predicted_bytes == 5000 - (4108 + 480)
    assert both.measured.runtime_overhead_bytes == 4200 - 4108  # the session's RSS minus the weights
    assert both.measured.peak_with_runtime_overhead_bytes == 4108 + 480 + 92
    assert MemoryReport.from_json(both.to_json()) == both
    torch_peak = MeasuredTensorPeak(
        runtime="torch 2.x eager (CPU)", peak_activation_bytes=700, peak_allocated_increase_bytes=300, input_bytes=400,
        weight_bytes=4108, runs=2, provenance=Provenance("measured", "torch.profiler"),
    )
    all_three = with_measurement(both, torch_peak)
    assert all_three.measured.tensor_peak_minus_predicted_bytes == 700 - 480
    assert all_three.measured.rss.peak_rss_increase_bytes == 5000  # the RSS figures stay
    assert MemoryReport.from_json(all_three.to_json()) == all_three
    failed = with_measurement_error(r, "onnxruntime could not load the model")
    assert failed.measured is None and failed.predicted.peak_bytes == r.predicted.peak_bytes
    assert MemoryReport.from_json(failed.to_json()) == failed
    assert both.predicted.provenance.kind == "counted" and m.provenance.kind == "measured"
