"""Runtimes as partitions (passes/partition.py, devices/runtimes.toml): what the accelerator runs, what
falls back to the host CPU and why, the link and the parameter cache; the precision what-if."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import edgeprof
from edgeprof.devices.catalogue import load_catalogue
from edgeprof.devices.runtimes import load_runtimes
from edgeprof.errors import UsageError
from edgeprof.frontends.base import LoadedModel
from edgeprof.passes.latency import predict
from edgeprof.passes.summary import build_profile
from edgeprof.report.model import ModelInfo, Profile
from tests.frontends.onnx_builders import conv_net, save
from tests.irbuild import GraphBuilder

CAT = load_catalogue()


def _conv(b: GraphBuilder, src: str, cin: int, cout: int, size: int, *, k: int = 1, stride: int = 1,
          group: int = 1, name: str, act: str = "Relu") -> tuple[str, int]:
    out = size // stride
    b.weight(f"{name}.w", (cout, cin // group, k, k))
    pad = k // 2
    c = b.node("Conv", [src, f"{name}.w"], f"{name}.c", (1, cout, out, out), name=name, kernel_shape=(k, k),
               strides=(stride, stride), pads=(pad, pad, pad, pad), group=group)
    if not act:
        return c, out
    return b.node(act, [c], f"{name}.a", (1, cout, out, out), name=f"{name}.act"), out


def mobilenet_v1(odd: str = "", where: int = 6) -> Profile:
    """MobileNet v1 (224 x 224, width 1.0): 27 convolutions, GAP, FC 1000; ``odd`` puts that op after block ``where``."""
    b = GraphBuilder("mobilenet_v1")
    b.input("x", (1, 3, 224, 224))
    x, size = _conv(b, "x", 3, 32, 224, k=3, stride=2, name="conv0")
    cin = 32
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for i, (cout, stride) in enumerate(blocks):
        x, size = _conv(b, x, cin, cin, size, k=3, stride=stride, group=cin, name=f"dw{i}")
        x, size = _conv(b, x, cin, cout, size, name=f"pw{i}")
        cin = cout
        if odd and i == where:
            x = b.node(odd, [x], f"odd{i}", (1, cin, size, size), name=f"odd.{odd}")
    p = b.node("GlobalAveragePool", [x], "gap", (1, cin, 1, 1), name="gap")
    f = b.node("Flatten", [p], "flat", (1, cin), name="flatten", axis=1)
    b.weight("fc.w", (1000, cin))
    b.weight("fc.b", (1000,))
    y = b.node("Gemm", [f, "fc.w", "fc.b"], "y", (1, 1000), name="fc", transB=1)
    return build_profile(LoadedModel(b.build([y]), ModelInfo("mobilenet_v1", "onnx"), ()))


def test_every_catalogue_device_has_runtimes_with_sources() -> None:
    table = load_runtimes()
    for rt in table.runtimes.values():
        assert rt.source and rt.precisions and (rt.ops or rt.all_ops)
    for device_id in CAT.devices:
        entry = table.for_device(device_id)
        assert entry is not None, device_id
        assert entry.default in entry.runtimes
        if entry.host:
            assert entry.host in CAT.devices and entry.host_source
    assert table.for_device("coral").default == "edgetpu"  # type: ignore[union-attr]
    assert table.runtimes["edgetpu"].partition == "first-unsupported-to-end"
    assert table.runtimes["qnn"].partition == "per-op"
    assert table.runtimes["xnnpack"].partition == "whole-graph"


def test_coral_mobilenet_v1_int8_keeps_activations_on_chip() -> None:
    p = predict(mobilenet_v1(), CAT.get("coral"), precision="int8")
    part = p.partitioning
    assert part is not None and p.runtime == "edgetpu"
    assert part.host_kernels == 0 and len(part.partitions) == 1
    # weights (4.2 MB int8) fit the ~8 MB parameter cache: nothing streamed
    assert part.streamed_weight_bytes == 0 and 4e6 < part.cached_weight_bytes < 5e6
    # the link carries only the input image and the logits, never an activation in between
    assert part.link_bytes == 224 * 224 * 3 + 1000
    assert all(x.memory_s == 0 for x in p.layers if x.bound != "fused")
    # the published 2.4 ms (coral.ai/docs/edgetpu/benchmarks, USB 3, desktop host), not 100x that
    assert 1.0e-3 < p.total_s < 5e-3
    assert p.what_if and p.precision == "int8"


def test_coral_fp32_graph_falls_back_to_the_host_cpu_whole() -> None:
    p = predict(mobilenet_v1(), CAT.get("coral"))
    part = p.partitioning
    assert part is not None and part.device_kernels == 0
    assert part.fallback[0].startswith("precision fp32 not run by edgetpu (it runs int8)")
    assert not any("no rate" in m for m in p.missing) and not p.is_lower_bound
    assert {x.processor for x in p.layers if x.bound != "fused"} == {"host"}
    # predicted at the host's (rpi5) figures: what the rpi5 itself predicts, without the Edge TPU
    rpi5 = predict(mobilenet_v1(), CAT.get("rpi5"))
    assert p.total_s == pytest.approx(rpi5.total_s)
    assert p.link_s == 0


def test_edgetpu_first_unsupported_op_sends_the_rest_to_the_cpu() -> None:
    prof = mobilenet_v1(odd="Sinh", where=6)
    p = predict(prof, CAT.get("coral"), precision="int8")
    part = p.partitioning
    assert part is not None
    procs = [x.processor for x in part.placements]
    cut = next(i for i, x in enumerate(part.placements) if x.op == "Sinh")
    assert set(procs[:cut]) == {"device"} and set(procs[cut:]) == {"host"}
    assert part.placements[cut].reason == "op Sinh not supported by edgetpu"
    # the supported convolutions after it stay on the CPU
    assert all(x.reason.startswith("after the first unsupported op (odd.Sinh)") for x in part.placements[cut + 1:])
    assert [q.processor for q in part.partitions] == ["device", "host"]
    # the activation handed to the CPU crosses the link once
    assert part.link_bytes == 224 * 224 * 3 + part.partitions[0].boundary_bytes_out
    assert p.total_s > predict(mobilenet_v1(), CAT.get("coral"), precision="int8").total_s


def test_qnn_falls_back_per_op() -> None:
    prof = mobilenet_v1(odd="Sinh", where=6)
    p = predict(prof, CAT.get("sd8gen2-npu"), precision="int8")
    part = p.partitioning
    assert part is not None and p.runtime == "qnn"
    host = [x for x in part.placements if x.processor == "host"]
    assert [x.op for x in host] == ["Sinh"] and host[0].reason == "op Sinh not supported by qnn"
    assert [q.processor for q in part.partitions] == ["device", "host", "device"]
    assert part.host_device == "rpi5"
    # shared DRAM: no link bytes for the graph's input/output, only the two hand-offs around the fallback
    assert part.link_bytes == part.partitions[0].boundary_bytes_out + part.partitions[2].boundary_bytes_in
    assert p.link_s == 0  # no link figure: the SoC's NPU and CPU share memory (switch overhead only)


def test_qnn_runs_fp32_at_fp16_and_tensorrt_upcasts_a_missing_rate() -> None:
    p = predict(mobilenet_v1(), CAT.get("sd8gen2-npu"))
    assert not p.is_lower_bound and any("qnn runs fp32 at fp16 by default" in n for n in p.partitioning.notes)  # type: ignore[union-attr]
    # a TensorRT device without an fp16 figure (orin-nano has one now: taken away here)
    no_fp16 = dataclasses.replace(CAT.get("orin-nano"), peak_fp16_flop_per_s=None)
    o = predict(mobilenet_v1(), no_fp16, precision="fp16")
    assert not o.is_lower_bound
    assert any("no fp16 rate on orin-nano: run at the fp32 rate (upcast)" in n for n in o.partitioning.notes)  # type: ignore[union-attr]


def test_cpu_runtime_without_fp16_upcasts() -> None:
    p = predict(mobilenet_v1(), CAT.get("rpi4"), precision="fp16")
    assert not p.is_lower_bound
    assert any("upcast" in n for n in p.partitioning.notes)  # type: ignore[union-attr]


def test_runtime_choice_and_refusal() -> None:
    prof = mobilenet_v1()
    on_host = predict(prof, CAT.get("coral"), runtime="xnnpack", precision="int8")
    assert on_host.runtime == "xnnpack" and on_host.partitioning.device_kernels == 0  # type: ignore[union-attr]
    with pytest.raises(UsageError, match="does not offer runtime 'qnn'; it offers edgetpu, xnnpack"):
        predict(prof, CAT.get("coral"), runtime="qnn")
    with pytest.raises(UsageError, match="precision must be one of"):
        predict(prof, CAT.get("coral"), precision="int3")


def test_precision_what_if_retypes_bytes_and_ops() -> None:
    prof = mobilenet_v1()
    rpi5 = CAT.get("rpi5")
    base = predict(prof, rpi5)
    half = predict(prof, rpi5, precision="fp16")
    i8 = predict(prof, rpi5, precision="int8")
    w4 = predict(prof, rpi5, precision="w4a16")
    assert i8.total_s < base.total_s and i8.precision == "int8" and base.precision == "as-deployed"
    assert not base.what_if and half.what_if and w4.precision == "w4a16"
    conv = next(x for x in i8.layers if x.name == "pw12")
    assert conv.precision == "int8"
    assert next(x for x in half.layers if x.name == "pw12").precision == "float16"


def test_what_if_round_trips_through_json() -> None:
    prof = edgeprof.api.predict_latency(mobilenet_v1(), ["coral", "rpi5"], precision="int8")
    assert prof.latency is not None
    again = Profile.from_json(prof.to_json())
    assert again.latency == prof.latency
    coral = again.latency.predicted["coral"]  # type: ignore[union-attr]
    assert coral.precision == "int8" and coral.what_if and coral.partitioning is not None
    assert coral.partitioning.runtime == "edgetpu"


def test_real_qdq_model_on_coral(tmp_path: Path) -> None:
    from tests.passes.test_deploy import _quantise

    src = save(conv_net(size=32), tmp_path / "f.onnx")
    dst = tmp_path / "q.onnx"
    _quantise(src, dst, (1, 3, 32, 32))
    p = predict(edgeprof.profile(dst), CAT.get("coral"))
    part = p.partitioning
    assert part is not None
    # the input's QuantizeLinear and the output's DequantizeLinear on the host; the rest on the Edge TPU
    host = [x.op for x in part.placements if x.processor == "host"]
    assert host == ["QuantizeLinear", "DequantizeLinear"]
    assert part.device_kernels == len(part.placements) - 2
    assert not p.is_lower_bound


def test_energy_follows_the_what_if() -> None:
    prof = mobilenet_v1()
    a = edgeprof.api.estimate_energy(prof, ["rpi5"])
    b = edgeprof.api.estimate_energy(edgeprof.api.predict_latency(prof, ["rpi5"], precision="int8"), ["rpi5"],
                                     precision="int8")
    ea, eb = a.energy.estimated["rpi5"], b.energy.estimated["rpi5"]  # type: ignore[union-attr]
    assert eb.precision == "int8" and ea.precision == "as-deployed"
    assert eb.bottom_up_j.mid < ea.bottom_up_j.mid
