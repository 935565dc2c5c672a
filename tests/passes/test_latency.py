"""Roofline prediction: closed-form times worked out by hand, and monotonicity."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeprof.devices.catalogue import Device, Figure
from edgeprof.devices.runtimes import Runtime, load_runtimes
from edgeprof.errors import UsageError
from edgeprof.passes.latency import conv_depth_efficiency, precision_class, predict, runtime_epilogue
from edgeprof.report.deploy import DeployedKernel, Deployment
from edgeprof.report.llm import LLMFigures, WeightBytes
from edgeprof.report.model import Foldable, LayerCost, ModelInfo, Profile, Totals


def fig(v: float) -> Figure:
    return Figure(v, "measured", "test")


DEVICE = Device(
    id="dev", name="Dev", soc="", device_class="host",
    peak_fp32_flop_per_s=fig(100e9),
    peak_int8_op_per_s=fig(400e9),
    memory_bandwidth_bytes_per_s=fig(10e9),
    bandwidth_efficiency=fig(0.5),
    per_node_overhead_s=fig(1e-5),
    per_inference_overhead_s=fig(1e-3),
    efficiency={"default": fig(0.5), "int8:default": fig(0.25)},
)


def layer(name: str, *, flops: int = 0, int_ops: int = 0, read: int = 0, written: int = 0, precision: str = "float32",
          category: str = "conv", calls: int = 1, state: str = "counted") -> LayerCost:
    return LayerCost(name, "Conv", category, state, (1,), flops=flops, int_ops=int_ops, bytes_read=read,  # type: ignore[arg-type]
                     bytes_written=written, precision=precision, calls=calls)


def profile(*layers: LayerCost) -> Profile:
    totals = Totals(sum(x.flops for x in layers), sum(x.int_ops for x in layers), 0, 0, 0, 0, 0, 0, 0, False)
    return Profile(ModelInfo("m", "onnx"), (), totals, (), (), tuple(layers), (), Foldable(0, 0))


def test_compute_bound_layer() -> None:
    # rate = 100e9 x 0.5 = 50e9 FLOP/s -> 1e9 / 50e9 = 0.02 s; memory = 1e6 / (10e9 x 0.5) = 2e-4 s
    p = predict(profile(layer("c", flops=10**9, read=600_000, written=400_000)), DEVICE)
    (lat,) = p.layers
    assert lat.compute_s == pytest.approx(0.02)
    assert lat.memory_s == pytest.approx(2e-4)
    assert lat.bound == "compute"
    assert lat.time_s == pytest.approx(0.02 + 1e-5)
    assert p.total_s == pytest.approx(0.02 + 1e-5 + 1e-3)
    assert p.fps == pytest.approx(1 / 0.02101)
    assert not p.is_lower_bound


def test_memory_bound_layer() -> None:
    # compute 1e6 / 50e9 = 2e-5 s; memory 12e6 / 5e9 = 2.4e-3 s
    p = predict(profile(layer("a", flops=10**6, read=8_000_000, written=4_000_000, category="elementwise")), DEVICE)
    assert p.layers[0].bound == "memory"
    assert p.total_s == pytest.approx(2.4e-3 + 1e-5 + 1e-3)
    assert p.memory_s == pytest.approx(2.4e-3)


def test_calls_multiply_the_node_overhead_and_empty_layers_are_overhead_bound() -> None:
    p = predict(profile(layer("r", calls=3, category="data_movement")), DEVICE)
    assert p.layers[0].bound == "overhead"
    assert p.total_s == pytest.approx(3e-5 + 1e-3)


def test_integer_layer_uses_the_int8_rate() -> None:
    # int8 rate = 400e9 x 0.25 = 100e9 op/s -> 2e9 ops = 0.02 s
    p = predict(profile(layer("q", int_ops=2 * 10**9, precision="int8")), DEVICE)
    assert p.layers[0].compute_s == pytest.approx(0.02)


def test_no_rate_is_not_zero_and_makes_a_lower_bound() -> None:
    no_int8 = dataclasses.replace(DEVICE, peak_int8_op_per_s=None)
    p = predict(profile(layer("q", int_ops=10**9, read=5_000_000, precision="uint8")), no_int8)
    (lat,) = p.layers
    assert lat.bound == "no-rate" and lat.compute_s is None
    assert lat.note == "no rate for precision int8 on device dev"
    assert lat.time_s == pytest.approx(1e-3 + 1e-5)  # memory time only: 5e6 / 5e9
    assert p.is_lower_bound
    assert any("no rate for precision int8 on device dev" in m for m in p.missing)


def test_dominant_layers_come_first() -> None:
    p = predict(profile(layer("small", flops=10**6), layer("big", flops=10**9)), DEVICE)
    assert p.dominant == ("big", "small")


def test_precision_classes() -> None:
    assert [precision_class(x) for x in ("float32", "float16", "bfloat16", "int8", "uint8", "int64", "bool")] == [
        "fp32", "fp16", "fp16", "int8", "int8", "fp32", "fp32"]


def test_llm_decode_is_bandwidth_bound() -> None:
    # weights 1e9 B fp16 + KV cache 1e8 B over 5e9 B/s = 0.22 s; decode compute 2e9 / (0 fp16 rate)... use fp32 weights
    llm = LLMFigures(
        context_len=128, batch=1, prefill_flops=10**12, prefill_macs=0, prefill_logits="last",
        decode_flops_per_token=2 * 10**9, decode_macs_per_token=10**9, kv_cache_bytes_per_token=0,
        kv_cache_bytes=10**8, kv_dtype="float32", num_layers=1, num_kv_heads=1, head_dim=1, params=0,
        weight_bytes=WeightBytes(fp32=10**9, fp16=0, int8=0, int4=0), is_lower_bound=False,
    )
    p = dataclasses.replace(profile(layer("x")), llm=llm)
    out = predict(p, DEVICE).llm
    assert out is not None
    overhead = 1e-5 + 1e-3  # one node + per inference
    # decode: compute 2e9 / 50e9 = 0.04 s; memory 1.1e9 / 5e9 = 0.22 s
    assert out.decode_bound == "memory"
    assert out.decode_s_per_token == pytest.approx(0.22 + overhead)
    # prefill: compute 1e12 / 50e9 = 20 s
    assert out.prefill_bound == "compute"
    assert out.prefill_s == pytest.approx(20 + overhead)


@given(
    st.integers(0, 10**12), st.integers(0, 10**10), st.integers(0, 10**12), st.integers(0, 10**10),
    st.sampled_from(["float32", "int8"]),
)
def test_more_work_is_never_faster(flops: int, moved: int, extra_ops: int, extra_bytes: int, precision: str) -> None:
    is_int = precision == "int8"
    base = layer("l", flops=0 if is_int else flops, int_ops=flops if is_int else 0, read=moved, precision=precision)
    more = dataclasses.replace(base, flops=base.flops + (0 if is_int else extra_ops),
                               int_ops=base.int_ops + (extra_ops if is_int else 0), bytes_read=moved + extra_bytes)
    assert predict(profile(more), DEVICE).total_s >= predict(profile(base), DEVICE).total_s


def test_batchnorm_and_activation_fused_by_the_deployment() -> None:
    # The deployment (passes/deploy.py, from use-def chains) says what fuses; the latency model only runs its
    # kernels. The fused Relu's FLOPs still run in the Conv's epilogue; the folded BatchNormalization's do not.
    conv = dataclasses.replace(layer("conv", flops=10**9), output_shape=(1, 8, 4, 4))
    bn = dataclasses.replace(layer("bn", flops=10**6, read=10**6, category="normalisation"), op="BatchNormalization",
                             output_shape=(1, 8, 4, 4))
    relu = dataclasses.replace(layer("relu", flops=10**6, read=10**6, category="activation"), op="Relu",
                               output_shape=(1, 8, 4, 4))
    other = dataclasses.replace(layer("relu2", flops=10**6, read=5 * 10**6, category="activation"), op="Relu",
                                output_shape=(1, 8, 4, 4))
    kernels = (
        DeployedKernel("conv", "Conv", ("conv", "bn", "relu"), "float32", flops=10**9 + 10**6, category="conv",
                       fused=("BatchNormalization into Conv", "Relu into Conv")),
        DeployedKernel("relu2", "Relu", ("relu2",), "float32", flops=10**6, bytes_read=5 * 10**6,
                       category="activation"),
    )
    dep = Deployment(kernels, 4, 0, 0, 0, 2, 0, 0, 0)
    p = predict(dataclasses.replace(profile(conv, bn, relu, other), deployment=dep), DEVICE)
    assert [x.bound for x in p.layers] == ["compute", "fused", "fused", "memory"]
    assert p.layers[1].note == "fused into conv"
    # conv (1e9 + 1e6) / 50e9 = 0.02002 s + 1e-5; relu2 memory 5e6 / 5e9 = 1e-3 s + 1e-5
    assert p.total_s == pytest.approx(0.02002 + 1e-5 + 1e-3 + 1e-5 + 1e-3)
    as_given = predict(dataclasses.replace(profile(conv, bn, relu, other), deployment=dep), DEVICE, fuse=False)
    assert as_given.total_s > p.total_s
    assert predict(profile(conv, bn, relu, other), DEVICE, deployment=dep).total_s == p.total_s


def test_prediction_carries_the_roofs_for_the_roofline_plot() -> None:
    p = predict(profile(layer("c", flops=10**6)), DEVICE)
    assert p.peak_op_per_s == {"fp32": 100e9, "int8": 400e9}  # no fp16 figure: no roof
    assert p.bandwidth_bytes_per_s == pytest.approx(10e9 * 0.5)
    no_bandwidth = Device(id="nb", name="NB", soc="", device_class="host", peak_fp32_flop_per_s=fig(1e9))
    assert predict(profile(layer("c", flops=10**6)), no_bandwidth).bandwidth_bytes_per_s is None


# ---- issue #14 part 8: the host as ONNX Runtime runs it ------------------------------------------------------------

def _conv_kernel(*acts: LayerCost, fused: tuple[str, ...]) -> tuple[DeployedKernel, dict[str, LayerCost]]:
    conv = dataclasses.replace(layer("conv", flops=10**6, read=4000, written=1000), output_shape=(1, 8, 4, 4))
    act_flops = sum(x.flops for x in acts)
    kernel = DeployedKernel("conv", "Conv", ("conv", *(x.name for x in acts)), "float32", flops=10**6 + act_flops,
                            bytes_read=4000, bytes_written=1000, category="conv", fused=fused)
    return kernel, {x.name: x for x in (conv, *acts)}


def _act(name: str, op: str, flops: int = 128) -> LayerCost:
    return dataclasses.replace(layer(name, flops=flops, read=1000, written=1000, category="elementwise"), op=op,
                               output_shape=(1, 8, 4, 4))


ORT = Runtime("ort-test", "ORT", "cpu", "whole-graph", ("fp32",), all_ops=True,
              epilogue_ops=frozenset({"Relu", "Clip"}), pattern_ops=frozenset({"SiLU"}), layout_copies=2)


def test_runtime_fusing_the_activation_keeps_the_kernel() -> None:
    kernel, by_name = _conv_kernel(_act("relu", "Relu"), fused=("Relu into Conv",))
    assert runtime_epilogue(kernel, by_name, ORT) == [kernel]
    plain = dataclasses.replace(ORT, epilogue_ops=frozenset())  # no rule: every fusion of the deploy pass
    silu, names = _conv_kernel(_act("sig", "Sigmoid"), _act("mul", "Mul"), fused=("SiLU into Conv",))
    assert runtime_epilogue(silu, names, plain) == [silu]


def test_a_pattern_the_runtime_runs_as_one_op_is_one_kernel_after_the_conv() -> None:
    kernel, by_name = _conv_kernel(_act("sig", "Sigmoid"), _act("mul", "Mul"), fused=("SiLU into Conv",))
    head, act = runtime_epilogue(kernel, by_name, ORT)
    assert (head.nodes, head.flops, head.bytes_read, head.bytes_written) == (("conv",), 10**6, 4000, 1000)
    assert act.nodes == ("sig", "mul") and act.flops == 256 and act.category == "activation"
    assert (act.bytes_read, act.bytes_written) == (1000, 1000)  # the conv's output in, the kernel's output out


def test_an_unfused_activation_runs_node_by_node_with_the_layout_copies() -> None:
    acts = (_act("add3", "Add"), _act("clip", "Clip"), _act("mul", "Mul"), _act("div6", "Div"))
    kernel, by_name = _conv_kernel(*acts, fused=("HardSwish into Conv",))
    head, *rest = runtime_epilogue(kernel, by_name, ORT)
    assert head.nodes == ("conv",) and head.flops == 10**6 and head.bytes_written == 1000
    assert [k.name for k in rest] == ["add3", "clip", "mul", "div6"]
    # two copies (read and written) of the conv's 1000-byte output: a reorder out of and back into its layout
    assert (rest[0].bytes_read, rest[0].bytes_written) == (3000, 3000)
    assert all((k.bytes_read, k.bytes_written) == (1000, 1000) for k in rest[1:])
    # predicted on "host", whose default runtime is ort-cpu (runtimes.toml: Clip fuses alone, not this pattern)
    dep = Deployment(kernels=(kernel,), given_nodes=5, given_flops=0, given_int_ops=0, given_bytes=0,
                     deployed_kernels=1, deployed_flops=0, deployed_int_ops=0, deployed_bytes=0, folded=(),
                     removed=(), method="test")
    prof = dataclasses.replace(profile(*by_name.values()), deployment=dep)
    host = dataclasses.replace(DEVICE, id="host")
    ort = predict(prof, host)
    assert [x.name for x in ort.layers if x.bound != "fused"] == ["conv", "add3", "clip", "mul", "div6"]
    assert ort.overhead_s == pytest.approx(5e-5 + 1e-3)
    whole = predict(prof, host, partitioned=False)  # no runtime: the deploy pass's one kernel
    assert [x.name for x in whole.layers if x.bound != "fused"] == ["conv"]
    assert whole.overhead_s == pytest.approx(1e-5 + 1e-3)


def test_conv_efficiency_follows_its_reduction_depth() -> None:
    device = dataclasses.replace(DEVICE, efficiency={"default": fig(0.5), "conv@k9": fig(0.25), "conv@k576": fig(1.0)})

    def conv(k: int) -> LayerCost:  # K = MACs per output element
        return dataclasses.replace(layer("c", flops=2 * k * 16), macs=k * 16, output_shape=(1, 1, 4, 4))

    assert conv_depth_efficiency(conv(9), device, "fp32").value == pytest.approx(0.25)  # type: ignore[union-attr]
    assert conv_depth_efficiency(conv(3), device, "fp32").value == pytest.approx(0.25)  # type: ignore[union-attr]
    assert conv_depth_efficiency(conv(72), device, "fp32").value == pytest.approx(0.5)  # type: ignore[union-attr]
    assert conv_depth_efficiency(conv(5000), device, "fp32").value == pytest.approx(1.0)  # type: ignore[union-attr]
    assert conv_depth_efficiency(conv(72), device, "int8") is None
    assert conv_depth_efficiency(conv(72), DEVICE, "fp32") is None  # no anchors: the "conv" efficiency as before
    assert conv_depth_efficiency(dataclasses.replace(conv(72), output_shape=("n", 4)), device, "fp32") is None
    # used by the prediction: 2 x 72 x 16 FLOPs at 100e9 x 0.5
    (lat,) = predict(profile(conv(72)), device).layers
    assert lat.compute_s == pytest.approx(2 * 72 * 16 / 50e9)


def test_bandwidth_follows_the_bytes_a_kernel_moves() -> None:
    # bandwidth 10e9 x 0.5; "bandwidth@<bytes>": the fraction attained at that working set, log-log between
    device = dataclasses.replace(DEVICE, efficiency={"default": fig(0.5), "bandwidth@1000": fig(1.0),
                                                     "bandwidth@100000": fig(0.25)})
    small, mid, large = (layer("m", read=n, category="elementwise") for n in (500, 10_000, 10**7))
    assert predict(profile(small), device).layers[0].memory_s == pytest.approx(500 / 5e9)
    assert predict(profile(mid), device).layers[0].memory_s == pytest.approx(10_000 / (5e9 * 0.5))
    assert predict(profile(large), device).layers[0].memory_s == pytest.approx(10**7 / (5e9 * 0.25))
    assert predict(profile(mid), DEVICE).layers[0].memory_s == pytest.approx(10_000 / 5e9)  # no anchors: as before


def test_the_ort_cpu_epilogue_rule_is_data_and_checked() -> None:
    table = load_runtimes()
    ort = table.runtimes["ort-cpu"]
    assert {"Relu", "Clip", "Sigmoid", "HardSigmoid"} <= ort.epilogue_ops and "HardSwish" not in ort.epilogue_ops
    assert ort.pattern_ops == {"SiLU", "GELU"} and ort.layout_copies == 2
    assert not table.runtimes["xnnpack"].epilogue_ops  # XNNPACK: every fusion of the deploy pass
    bad = ('schema_version = 1\n[[runtime]]\nid = "r"\nname = "R"\nkind = "cpu"\npartition = "whole-graph"\n'
           'ops = ["all"]\nprecisions = ["fp32"]\nsource = "s"\nlayout_copies = -1\n')
    with pytest.raises(UsageError, match="layout_copies"):
        load_runtimes(bad)
