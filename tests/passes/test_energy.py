"""Energy estimate: closed-form figures worked out by hand, the range rules, the user figures."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import onnx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from edgeprof.devices.catalogue import Device, Figure, load_catalogue
from edgeprof.passes.energy import (
    DEFAULT_BATTERY_WH,
    IDLE_FRACTION,
    LATENCY_UNCERTAINTY,
    MEMORY_ACTIVITY,
    POWER_UNCERTAINTY,
    SCENARIOS,
    energy_class,
    estimate,
    layer_energy,
    node_scale,
    sram_access_pj,
    user_figures,
    with_energy,
)
from edgeprof.report.energy import EnergyRange
from edgeprof.report.model import Foldable, LayerCost, ModelInfo, Profile, Totals

LOW, MID, HIGH = SCENARIOS


def fig(v: float) -> Figure:
    return Figure(v, "measured", "test")


# 45 nm (no scaling), 1 MB on chip (SRAM read 100 pJ per 64 bits), no power figure.
DEV = Device("dev", "Dev", "", "host", peak_fp32_flop_per_s=fig(1e9), memory_bandwidth_bytes_per_s=fig(1e9),
             per_node_overhead_s=fig(1e-6), per_inference_overhead_s=fig(1e-5),
             onchip_bytes=fig(1024 * 1024), process_node_nm=fig(45))


def layer(name: str = "l", *, flops: int = 0, int_ops: int = 0, macs: int = 0, read: int = 0, written: int = 0,
          precision: str = "float32", category: str = "conv", calls: int = 1, state: str = "counted") -> LayerCost:
    return LayerCost(name, "Conv", category, state, (1,), flops=flops, int_ops=int_ops, macs=macs,  # type: ignore[arg-type]
                     bytes_read=read, bytes_written=written, precision=precision, calls=calls)


def profile(*layers: LayerCost, lower: bool = False) -> Profile:
    totals = Totals(sum(x.flops for x in layers), sum(x.int_ops for x in layers), sum(x.macs for x in layers), 0, 0,
                    0, 0, 0, 0, lower)
    return Profile(ModelInfo("m", "onnx"), (), totals, (), (), tuple(layers), (), Foldable(0, 0))


def test_fp32_mac_layer_on_chip_by_hand() -> None:
    # 1,000 MACs x (3.7 + 0.9) pJ = 4.6 nJ compute; registers the same; 1,600 B = 200 words x 100 pJ = 20 nJ.
    e = layer_energy(layer(flops=2000, macs=1000, read=800, written=800), DEV, MID)
    assert e.compute_j == pytest.approx(4.6e-9)
    assert e.register_j == pytest.approx(4.6e-9)
    assert e.sram_j == pytest.approx(20e-9)
    assert e.dram_j == 0
    assert e.total_j == pytest.approx(29.2e-9)
    assert e.level == "on-chip"


def test_ops_beyond_the_macs_are_adds_and_multiplies_at_high() -> None:
    # 3,000 FLOPs, 1,000 MACs: 1,000 other ops: + 1,000 x 0.9 pJ (mid), + 1,000 x 3.7 pJ (high).
    lay = layer(flops=3000, macs=1000)
    assert layer_energy(lay, DEV, MID).compute_j == pytest.approx(4.6e-9 + 0.9e-9)
    assert layer_energy(lay, DEV, HIGH).compute_j == pytest.approx(4.6e-9 + 3.7e-9)
    # an elementwise layer: no MACs, every op an add
    assert layer_energy(layer(flops=500, category="elementwise"), DEV, MID).compute_j == pytest.approx(500 * 0.9e-12)


@pytest.mark.parametrize(("precision", "mac_pj", "add_pj"), [
    ("int8", 0.23, 0.03), ("uint8", 0.23, 0.03), ("float16", 1.5, 0.4), ("bfloat16", 1.5, 0.4),
    ("int32", 3.2, 0.1), ("int64", 3.2, 0.1), ("float64", 4.6, 0.9),
])
def test_precision_picks_the_row_of_the_table(precision: str, mac_pj: float, add_pj: float) -> None:
    ops = {"int_ops": 300} if precision.startswith(("int", "uint")) else {"flops": 300}
    e = layer_energy(layer(macs=100, precision=precision, **ops), DEV, MID)  # type: ignore[arg-type]
    assert e.compute_j == pytest.approx((100 * mac_pj + 100 * add_pj) * 1e-12)


def test_energy_class() -> None:
    assert [energy_class(p) for p in ("float32", "float16", "int8", "int4", "int16", "bool", "")] == [
        "fp32", "fp16", "int8", "int8", "int32", "int32", "fp32"]


def test_working_set_over_the_onchip_size_goes_to_dram() -> None:
    # 2 MB moved > 1 MB on chip: 262,144 words x 1.95 nJ (mid), 1.3 (low), 2.6 (high); DRAM is not node-scaled.
    big = layer(read=1024 * 1024, written=1024 * 1024, category="elementwise")
    words = 2 * 1024 * 1024 / 8
    assert layer_energy(big, DEV, MID).dram_j == pytest.approx(words * 1.95e-9)
    assert layer_energy(big, DEV, LOW).dram_j == pytest.approx(words * 1.3e-9)
    assert layer_energy(big, DEV, HIGH).dram_j == pytest.approx(words * 2.6e-9)
    assert layer_energy(big, DEV, MID).sram_j == 0
    # the same bytes over 4 calls: a working set of 512 KB per call fits
    assert layer_energy(dataclasses.replace(big, calls=4), DEV, MID).level == "on-chip"


def test_sram_energy_interpolates_horowitz_points() -> None:
    assert sram_access_pj(4 * 1024) == 10.0
    assert sram_access_pj(8 * 1024) == pytest.approx(10.0)
    assert sram_access_pj(16 * 1024) == pytest.approx(10.0 * math.sqrt(2))  # 10 -> 20 pJ over 4x: exponent 1/2
    assert sram_access_pj(32 * 1024) == pytest.approx(20.0)
    assert sram_access_pj(1024 * 1024) == pytest.approx(100.0)
    assert sram_access_pj(2 * 1024 * 1024) == pytest.approx(100.0 * 2 ** (math.log(5) / math.log(32)))


def test_sram_at_low_and_high_uses_the_smallest_and_largest_figure() -> None:
    small = dataclasses.replace(DEV, onchip_bytes=fig(32 * 1024))
    lay = layer(read=80, written=0)  # 10 words
    assert layer_energy(lay, small, LOW).sram_j == pytest.approx(10 * 10e-12)
    assert layer_energy(lay, small, MID).sram_j == pytest.approx(10 * 20e-12)
    assert layer_energy(lay, small, HIGH).sram_j == pytest.approx(10 * 100e-12)


def test_node_scaling_by_hand() -> None:
    s = node_scale(22.5)  # ratio 1/2: k = 1.5, 1, 0.5
    assert (s.low, s.mid, s.high) == pytest.approx((0.5**1.5, 0.5, 0.5**0.5))
    s = node_scale(90)  # ratio 2: a bigger node costs more; low is k = 0.5
    assert (s.low, s.mid, s.high) == pytest.approx((2**0.5, 2.0, 2**1.5))
    assert node_scale(None) == EnergyRange(1.0, 1.0, 1.0)
    dev = dataclasses.replace(DEV, process_node_nm=fig(22.5))
    lay = layer(flops=2000, macs=1000, read=8, written=0)
    assert layer_energy(lay, dev, MID).compute_j == pytest.approx(4.6e-9 * 0.5)
    assert layer_energy(lay, dev, MID).sram_j == pytest.approx(100e-12 * 0.5)
    assert layer_energy(lay, dev, LOW).compute_j == pytest.approx(4.6e-9 * 0.5**1.5)


def test_estimate_without_power_is_the_bottom_up_range_and_says_so() -> None:
    e = estimate(profile(layer(flops=2000, macs=1000, read=800, written=800)), DEV)
    assert e.device_power_j is None
    assert e.estimated_j == e.bottom_up_j
    assert e.estimated_j.mid == pytest.approx(29.2e-9)
    assert e.bottom_up_j.low < e.bottom_up_j.mid < e.bottom_up_j.high
    assert any("no power figure" in m for m in e.missing)
    assert not e.is_lower_bound


def test_estimate_with_power_puts_power_x_latency_in_the_range() -> None:
    # latency: 2,000 FLOPs / 1e9 = 2 us compute vs 1,600 B / 1e9 = 1.6 us memory -> 2 us + 1 us node + 10 us
    dev = dataclasses.replace(DEV, power_w=fig(2.0))
    e = estimate(profile(layer(flops=2000, macs=1000, read=800, written=800)), dev)
    assert e.latency_s == pytest.approx(13e-6)
    # busy 2 us of 13 (compute-bound); the host class idles at 0.3 of its loaded power
    idle = 2.0 * IDLE_FRACTION["host"][0]
    assert e.utilisation == pytest.approx(2 / 13) and e.idle_power_w == pytest.approx(idle)
    p_mid = idle + (2.0 - idle) * 2 / 13
    assert e.power_mid_w == pytest.approx(p_mid)
    assert e.device_power_j == pytest.approx(p_mid * 13e-6)
    assert e.estimated_j.mid == pytest.approx(p_mid * 13e-6)
    factor = LATENCY_UNCERTAINTY * (1 + POWER_UNCERTAINTY["measured"])  # no wider than its inputs' uncertainty
    assert e.range_factor == pytest.approx(factor)
    assert e.estimated_j.low == pytest.approx(p_mid * 13e-6 / factor)
    assert e.estimated_j.high == pytest.approx(p_mid * 13e-6 * factor)
    assert e.layers[0].device_j == pytest.approx(p_mid * 3e-6)  # the power x the layer's own time


def test_a_memory_bound_model_is_half_busy_and_an_assumed_power_widens_the_range() -> None:
    dev = dataclasses.replace(DEV, power_w=Figure(2.0, "assumed", "test"), per_inference_overhead_s=None,
                              per_node_overhead_s=None)
    e = estimate(profile(layer(flops=10, macs=0, read=8000, written=8000)), dev)  # 16 us memory, 0.01 us compute
    assert e.utilisation == pytest.approx(MEMORY_ACTIVITY)
    assert e.range_factor == pytest.approx(LATENCY_UNCERTAINTY * (1 + POWER_UNCERTAINTY["assumed"]))
    assert e.estimated_j.high / e.estimated_j.low == pytest.approx(e.range_factor**2)


def test_a_battery_only_where_there_is_one() -> None:
    board = estimate(profile(layer(flops=10)), dataclasses.replace(DEV, power_w=fig(2.0)))
    assert board.user.battery_wh is None and board.user.battery_share_per_hour is None
    assert "no battery" in board.user.battery_source
    phone = estimate(profile(layer(flops=10)), dataclasses.replace(DEV, power_w=fig(2.0), device_class="phone"))
    assert phone.user.battery_wh == DEFAULT_BATTERY_WH and phone.user.battery_share_per_hour is not None
    given = estimate(profile(layer(flops=10)), dataclasses.replace(DEV, power_w=fig(2.0)), battery_wh=50.0)
    assert given.user.battery_wh == 50.0 and given.user.battery_source == "given by the user"


def test_not_counted_layers_make_a_lower_bound() -> None:
    p = profile(layer(flops=10, macs=0), layer("x", state="not_counted"), lower=True)
    e = estimate(p, DEV)
    assert e.is_lower_bound
    assert any("not counted" in m for m in e.missing)


def test_unknown_node_and_onchip_are_named() -> None:
    bare = Device("bare", "Bare", "", "host", peak_fp32_flop_per_s=fig(1e9))
    lay = layer(read=8, written=0)
    e = estimate(profile(lay), bare)
    assert any("no process node" in m for m in e.missing)
    assert any("no on-chip memory figure" in m for m in e.missing)
    assert layer_energy(lay, bare, LOW).level == "on-chip"
    assert layer_energy(lay, bare, MID).level == "off-chip"


def test_mcu_sram_counts_as_onchip() -> None:
    mcu = load_catalogue().get("cortex-m4")  # 640 KB SRAM, no onchip_bytes figure
    e = estimate(profile(layer(read=8, written=0)), mcu)
    assert e.onchip_bytes == 640 * 1024
    assert e.layers[0].level == "on-chip"


def test_user_figures_by_hand() -> None:
    u = user_figures(EnergyRange(0.5e-3, 1e-3, 2e-3), fps=30, battery_wh=15)
    assert u.energy_per_hour_j.mid == pytest.approx(108.0)  # 1 mJ x 30 x 3600
    assert u.battery_share_per_hour.mid == pytest.approx(108.0 / 54_000)  # 15 Wh = 54,000 J
    assert (u.inferences_per_j.low, u.inferences_per_j.mid, u.inferences_per_j.high) == pytest.approx((500, 1000, 2000))
    slow = user_figures(EnergyRange(1, 1, 1), fps=30, latency_s=0.1, device_id="d")
    assert "10 FPS on d" in slow.note
    assert user_figures(EnergyRange(0, 0, 0)).inferences_per_j.mid == 0.0  # never infinity in JSON


def test_categories_sum_to_the_mid_total() -> None:
    p = profile(layer("a", flops=2000, macs=1000, read=80), layer("b", flops=100, category="activation", read=800))
    e = estimate(p, DEV)
    assert sum(c.total_j for c in e.by_category) == pytest.approx(e.bottom_up_j.mid)
    assert sum(c.share for c in e.by_category) == pytest.approx(1.0)
    assert e.compute_j + e.register_j + e.sram_j + e.dram_j == pytest.approx(e.bottom_up_j.mid)


def test_tiny_onnx_matmul_by_hand(tmp_path: Path) -> None:
    """X[1,4] @ W[4,3] in float32: 12 MACs, (2x4-1) x 3 = 21 FLOPs (no op beyond the MACs);
    bytes read 16 + 48, written 12: 76 B = 9.5 words. At 45 nm with 1 MB on chip:
    12 x 4.6 pJ compute + the same in registers + 9.5 x 100 pJ SRAM = 1,060.4 pJ."""
    from edgeprof import api

    w = numpy_helper.from_array(__import__("numpy").ones((4, 3), dtype="float32"), "W")
    graph = helper.make_graph([helper.make_node("MatMul", ["X", "W"], ["Y"], name="mm")], "g",
                              [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 3])], [w])
    path = tmp_path / "mm.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    p = api.profile(str(path), memory=False)
    (mm,) = p.layers
    assert (mm.macs, mm.flops, mm.bytes_read, mm.bytes_written) == (12, 21, 64, 12)
    e = estimate(p, DEV)
    assert e.bottom_up_j.mid == pytest.approx(1060.4e-12)


def test_with_energy_reuses_the_latency_prediction_and_round_trips() -> None:
    from edgeprof.passes.latency import with_predictions
    from edgeprof.report.model import Profile as P

    dev = dataclasses.replace(DEV, power_w=fig(1.0))
    p = with_predictions(profile(layer(flops=2000, macs=1000, read=800, written=800)), [dev])
    assert p.latency is not None
    out = with_energy(p, [dev], fps=10, battery_wh=5)
    assert out.energy is not None
    e = out.energy.estimated["dev"]
    assert e.latency_s == p.latency.predicted["dev"].total_s
    assert (e.user.fps, e.user.battery_wh) == (10, 5)
    assert P.from_json(out.to_json()) == out
    p_mid = 0.3 + 0.7 * 2 / 13  # 1 W loaded, 0.3 W idle, busy 2 us of 13
    assert json.loads(out.to_json())["energy"]["estimated"]["dev"]["estimated_j"]["mid"] == pytest.approx(p_mid * 13e-6)


@given(st.integers(0, 10**9), st.integers(0, 10**6), st.integers(0, 10**8))
def test_more_ops_or_bytes_never_cost_less(flops: int, extra: int, moved: int) -> None:
    base = estimate(profile(layer(flops=flops, read=moved)), DEV)
    more_ops = estimate(profile(layer(flops=flops + extra, read=moved)), DEV)
    assert more_ops.bottom_up_j.mid >= base.bottom_up_j.mid
    assert base.estimated_j.low <= base.estimated_j.mid <= base.estimated_j.high


def test_api_refuses_a_bad_fps_or_battery() -> None:
    from edgeprof import api
    from edgeprof.errors import UsageError

    p = profile(layer(flops=10))
    with pytest.raises(UsageError, match="fps"):
        api.estimate_energy(p, ["rpi5"], fps=-1)
    with pytest.raises(UsageError, match="battery_wh"):
        api.estimate_energy(p, ["rpi5"], battery_wh=float("nan"))
    assert api.estimate_energy(p, ["rpi5"], battery_wh=4).energy.estimated["rpi5"].user.battery_wh == 4  # type: ignore[union-attr]
