"""The deployed graph (passes/deploy.py): constants folded at load, BatchNormalization folded, epilogue
fusion decided from use-def chains (SiLU, HardSwish, GELU patterns), QDQ as integer kernels, views;
the latency model runs on it and the foldable note is read off it."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import numpy as np
import onnx
import pytest

import edgeprof
from edgeprof.devices.catalogue import load_catalogue
from edgeprof.frontends.base import LoadedModel
from edgeprof.ir import Graph
from edgeprof.passes.count import count
from edgeprof.passes.deploy import CONSTANT, VIEW, deploy
from edgeprof.passes.latency import predict
from edgeprof.passes.params import weight_table
from edgeprof.passes.summary import build_profile
from edgeprof.report.deploy import DeployedKernel, Deployment
from edgeprof.report.model import ModelInfo, Profile
from tests.frontends.onnx_builders import const, conv_net, make_model, node, save
from tests.irbuild import GraphBuilder

DEMO = Path(__file__).resolve().parents[2] / "models" / "demo.onnx"
S = (1, 8, 6, 6)  # the Conv output in the small graphs below


def _deploy(g: Graph) -> Deployment:
    return deploy(g, count(g, weight_table(g)).layers)


def _layers(g: Graph) -> dict[str, int]:
    """FLOPs + integer OPs of each node as given."""
    return {x.name: x.flops + x.int_ops for x in count(g, weight_table(g)).layers}


def _conv(b: GraphBuilder, src: str = "x", out: str = "c", name: str = "conv") -> str:
    b.weight(f"{name}.w", (8, 3 if src == "x" else 8, 3, 3))
    pads = (0, 0, 0, 0) if src == "x" else (1, 1, 1, 1)
    return b.node("Conv", [src, f"{name}.w"], out, S, name=name, kernel_shape=(3, 3), pads=pads)


def _start() -> GraphBuilder:
    b = GraphBuilder()
    b.input("x", (1, 3, 8, 8))
    return b


def _kernel(d: Deployment, name: str) -> DeployedKernel:
    return next(k for k in d.kernels if k.name == name)


# ---- fusion on use-def chains ------------------------------------------------------------------


def test_batchnorm_folds_and_relu_fuses_into_the_conv() -> None:
    b = _start()
    _conv(b)
    for p in ("scale", "bias", "mean", "var"):
        b.weight(f"bn.{p}", (8,))
    b.node("BatchNormalization", ["c", "bn.scale", "bn.bias", "bn.mean", "bn.var"], "n", S, name="bn")
    b.node("Relu", ["n"], "y", S, name="relu")
    g = b.build(["y"])
    d = _deploy(g)
    (k,) = d.kernels
    assert k.nodes == ("conv", "bn", "relu")
    assert k.fused == ("BatchNormalization into Conv", "Relu into Conv")
    ops = _layers(g)
    assert (k.flops, k.macs) == (ops["conv"] + ops["relu"], 8 * 27 * 36)  # the BN's ops are in the weights
    # bytes at the boundary: x and the weights in, y out; the conv and BN outputs never leave the kernel
    weights = 4 * (8 * 27 + 4 * 8)
    assert (k.bytes_read, k.bytes_written) == (4 * 3 * 64 + weights, 4 * 8 * 36)
    assert (d.given_nodes, d.deployed_kernels) == (3, 1)
    assert d.given_flops == sum(ops.values()) and d.deployed_flops == k.flops


@pytest.mark.parametrize("act", ["silu", "hardswish_op", "hardsigmoid_mul", "hardswish_clip", "gelu_erf"])
def test_activation_patterns_fuse_into_their_producer(act: str) -> None:
    b = _start()
    _conv(b)
    b.weight("k3", (), role="constant")
    b.weight("k6", (), role="constant")
    b.weight("k0", (), role="constant")
    if act == "silu":
        b.node("Sigmoid", ["c"], "s", S, name="sig")
        b.node("Mul", ["c", "s"], "y", S, name="mul")
        name, nodes = "SiLU", ("sig", "mul")
    elif act == "hardswish_op":
        b.node("HardSwish", ["c"], "y", S, name="hs")
        name, nodes = "HardSwish", ("hs",)
    elif act == "hardsigmoid_mul":
        b.node("HardSigmoid", ["c"], "s", S, name="hsig", alpha=1 / 6)
        b.node("Mul", ["s", "c"], "y", S, name="mul")
        name, nodes = "HardSwish", ("hsig", "mul")
    elif act == "hardswish_clip":  # x * clip(x + 3, 0, 6) / 6, as older exporters write it
        b.node("Add", ["c", "k3"], "a", S, name="add3")
        b.node("Clip", ["a", "k0", "k6"], "cl", S, name="clip")
        b.node("Mul", ["c", "cl"], "m", S, name="mul")
        b.node("Div", ["m", "k6"], "y", S, name="div6")
        name, nodes = "HardSwish", ("add3", "clip", "mul", "div6")
    else:  # 0.5 * x * (1 + erf(x / sqrt 2)), as torch.onnx writes nn.GELU
        b.node("Div", ["c", "k3"], "dv", S, name="div")
        b.node("Erf", ["dv"], "e", S, name="erf")
        b.node("Add", ["e", "k6"], "a", S, name="add1")
        b.node("Mul", ["c", "a"], "m", S, name="mul")
        b.node("Mul", ["m", "k0"], "y", S, name="half")
        name, nodes = "GELU", ("div", "erf", "add1", "mul", "half")
    g = b.build(["y"])
    d = _deploy(g)
    (k,) = d.kernels
    assert k.nodes == ("conv", *nodes)
    assert k.fused == (f"{name} into Conv",)
    assert k.flops == sum(_layers(g).values())  # the activation still runs, in the epilogue
    assert k.bytes_written == 4 * 8 * 36
    assert [(f.kind, f.count, f.nodes) for f in d.folded] == [(f"{name} into Conv", 1, len(nodes))]
    # the foldable note and the latency model read the same deployment
    p = build_profile(LoadedModel(g, ModelInfo("t", "onnx"), ()))
    assert p.deployment == d
    label = f"{name} into the preceding kernel"
    assert p.foldable.detail == (f"1 x {label}",) and p.foldable.nodes == len(nodes)


def test_a_conv_whose_output_has_two_readers_is_fused_with_neither() -> None:
    b = _start()
    _conv(b)
    b.node("Relu", ["c"], "r", S, name="relu")
    b.node("Sigmoid", ["c"], "s", S, name="sig")
    b.node("Add", ["r", "s"], "y", S, name="add")
    d = _deploy(b.build(["y"]))
    assert [k.nodes for k in d.kernels] == [("conv",), ("relu",), ("sig",), ("add",)]
    assert d.folded == ()


def test_silu_is_not_fused_when_its_input_has_a_third_reader() -> None:
    b = _start()
    _conv(b)
    b.node("Sigmoid", ["c"], "s", S, name="sig")
    b.node("Mul", ["c", "s"], "m", S, name="mul")
    b.node("Add", ["m", "c"], "y", S, name="add")
    d = _deploy(b.build(["y"]))
    assert len(d.kernels) == 4 and not d.folded


def test_a_residual_add_stays_a_kernel_and_an_activation_after_it_is_not_fused_into_a_conv() -> None:
    b = _start()
    _conv(b)
    b.node("Relu", ["c"], "r", S, name="relu")
    _conv(b, "r", "c2", "conv2")
    b.node("Add", ["r", "c2"], "a", S, name="residual")
    b.node("Relu", ["a"], "y", S, name="relu2")
    d = _deploy(b.build(["y"]))
    # relu is conv's only reader: fused; r then has two readers (conv2, residual): conv2 fuses nothing
    assert [k.nodes for k in d.kernels] == [("conv", "relu"), ("conv2",), ("residual",), ("relu2",)]


def test_a_bias_add_after_a_matmul_fuses_with_the_activation_after_it() -> None:
    b = GraphBuilder()
    b.input("x", (4, 16))
    b.weight("w", (16, 32))
    b.weight("bias", (32,))
    b.node("MatMul", ["x", "w"], "m", (4, 32), name="mm")
    b.node("Add", ["m", "bias"], "a", (4, 32), name="bias_add")
    b.node("Relu", ["a"], "y", (4, 32), name="relu")
    g = b.build(["y"])
    (k,) = _deploy(g).kernels
    assert k.fused == ("bias Add into MatMul", "Relu into MatMul")
    assert k.flops == sum(_layers(g).values())  # the bias add still runs


# ---- constants and views ------------------------------------------------------------------------


def test_shape_arithmetic_on_static_shapes_is_folded_at_load(tmp_path: Path) -> None:
    """x -> Conv -> Shape -> Gather -> Unsqueeze -> Concat -> Reshape -> Gemm, through the ONNX
    frontend: the shape chain is evaluated at load, the Reshape is a view, two kernels remain."""
    rng = np.random.default_rng(0)
    nodes = [
        node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[3, 3]),
        node("Shape", ["c"], ["s"], name="shape"),
        const("i0", np.array(0, dtype=np.int64), name="const_i0"),
        node("Gather", ["s", "i0"], ["n"], name="gather", axis=0),
        const("ax", np.array([0], dtype=np.int64), name="const_ax"),
        node("Unsqueeze", ["n", "ax"], ["nu"], name="unsqueeze"),
        const("minus1", np.array([-1], dtype=np.int64), name="const_m1"),
        node("Concat", ["nu", "minus1"], ["shp"], name="concat", axis=0),
        node("Reshape", ["c", "shp"], ["r"], name="reshape"),
        node("Gemm", ["r", "fw"], ["y"], name="fc", transB=1),
    ]
    model = make_model(nodes, inputs=[("x", [1, 3, 8, 8])], outputs=["y"],
                       initializers=[("w", rng.standard_normal((4, 3, 3, 3)).astype(np.float32)),
                                     ("fw", rng.standard_normal((2, 144)).astype(np.float32))])
    p = edgeprof.profile(save(model, tmp_path / "shape.onnx"))
    d = p.deployment
    assert d is not None
    assert [k.nodes for k in d.kernels] == [("conv",), ("fc",)]
    folded = {f.kind: f.nodes for f in d.folded}
    assert folded == {CONSTANT: 4, VIEW: 1}  # (the frontend reads Constant nodes as weights)
    assert set(d.removed) == {"shape", "gather", "unsqueeze", "concat", "reshape"}
    assert (d.given_nodes, d.deployed_kernels) == (7, 2)
    # 7 per-node overheads as given, 2 as deployed
    device = load_catalogue().get("rpi5")
    per_node = device.per_node_overhead_s
    assert per_node is not None
    deployed, as_given = predict(p, device), predict(p, device, fuse=False)
    assert as_given.overhead_s - deployed.overhead_s == pytest.approx(5 * per_node.value)
    assert [x.bound for x in deployed.layers].count("fused") == 5
    # Shape/Gather/Unsqueeze/Concat move data only: no FLOPs to fold, their cost was the per-node overhead
    assert p.foldable.detail == ()


def test_a_view_whose_input_has_two_readers_stays_a_kernel() -> None:
    b = GraphBuilder()
    b.input("x", (2, 8))
    b.weight("shape", (1,), dtype="int64", role="constant")
    b.node("Relu", ["x"], "r", (2, 8), name="relu")
    b.node("Reshape", ["r", "shape"], "v", (16,), name="view")
    b.node("Sigmoid", ["r"], "s", (2, 8), name="sig")
    d = _deploy(b.build(["v", "s"]))
    assert [k.name for k in d.kernels] == ["relu", "view", "sig"]


# ---- QDQ ----------------------------------------------------------------------------------------


def _quantise(src: Path, dst: Path, shape: tuple[int, ...], qoperator: bool = False) -> None:
    quantization = pytest.importorskip("onnxruntime.quantization")
    name = onnx.load(str(src)).graph.input[0].name

    class Reader(quantization.CalibrationDataReader):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            rng = np.random.default_rng(0)
            self._it = iter([{name: rng.standard_normal(shape).astype(np.float32)} for _ in range(2)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self._it, None)

    logging.getLogger().setLevel(logging.ERROR)
    fmt = quantization.QuantFormat.QOperator if qoperator else quantization.QuantFormat.QDQ
    quantization.quantize_static(str(src), str(dst), Reader(), quant_format=fmt,
                                 activation_type=quantization.QuantType.QUInt8,
                                 weight_type=quantization.QuantType.QInt8)


def _two_conv_net() -> onnx.ModelProto:
    """conv_net's Conv -> Relu -> GAP -> Flatten -> Gemm with a second Conv and a residual Add."""
    rng = np.random.default_rng(3)
    inits = [("w1", rng.standard_normal((8, 3, 3, 3)).astype(np.float32)),
             ("b1", rng.standard_normal((8,)).astype(np.float32)),
             ("w2", rng.standard_normal((8, 8, 3, 3)).astype(np.float32)),
             ("fw", rng.standard_normal((4, 8)).astype(np.float32)),
             ("fb", rng.standard_normal((4,)).astype(np.float32))]
    nodes = [
        node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", kernel_shape=[3, 3]),
        node("Relu", ["c1"], ["r1"], name="relu1"),
        node("Conv", ["r1", "w2"], ["c2"], name="conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        node("Add", ["r1", "c2"], ["a"], name="residual"),
        node("GlobalAveragePool", ["a"], ["p"], name="pool"),
        node("Flatten", ["p"], ["f"], name="flatten"),
        node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1),
    ]
    return make_model(nodes, inputs=[("x", [1, 3, 10, 10])], outputs=[("y", [1, 4])], initializers=inits)


@pytest.mark.parametrize("build", [conv_net, _two_conv_net])
def test_qdq_model_gives_integer_kernels_with_the_fp32_counts(tmp_path: Path, build: object) -> None:
    model = build()  # type: ignore[operator]
    shape = tuple(d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim)
    src = save(model, tmp_path / "f.onnx")
    dst = tmp_path / "q.onnx"
    _quantise(src, dst, shape)
    assert {"QuantizeLinear", "DequantizeLinear"} <= {n.op_type for n in onnx.load(str(dst)).graph.node}
    fp32, qdq = edgeprof.profile(src), edgeprof.profile(dst)
    assert qdq.totals.params == fp32.totals.params
    assert qdq.deployment is not None and fp32.deployment is not None
    fp32_ops = {x.name: x for x in fp32.layers}
    ints = [k for k in qdq.deployment.kernels if k.precision in ("int8", "uint8")]
    assert {k.name for k in ints} >= {"/conv/Conv" if build is conv_net else "conv1", "/fc/Gemm" if build is conv_net
                                      else "fc"}
    for k in ints:
        assert k.flops == 0
        core = [fp32_ops[n] for n in k.nodes if n in fp32_ops]
        # the integer OPs are the fp32 FLOPs of the same nodes (the registry's formulas), the MACs the same
        assert k.int_ops == sum(x.flops for x in core) and k.macs == sum(x.macs for x in core)
        assert k.fused[0] == f"QDQ into {k.precision} {k.op}"
    assert sum(k.macs for k in qdq.deployment.kernels) == sum(k.macs for k in fp32.deployment.kernels)
    # everything but the input's Quantize and the output's Dequantize is an integer kernel
    floats = [k.op for k in qdq.deployment.kernels if k not in ints]
    assert floats == ["QuantizeLinear", "DequantizeLinear"]
    given_qdq = sum(1 for x in qdq.layers if x.op in ("QuantizeLinear", "DequantizeLinear"))
    assert qdq.deployment.deployed_kernels <= fp32.deployment.deployed_kernels + 2 < given_qdq


@pytest.mark.parametrize("build", [conv_net, _two_conv_net])
def test_fp32_qdq_and_qoperator_versions_report_the_same_params_and_macs(tmp_path: Path, build: object) -> None:
    """#14 part 1: one network, three forms (fp32, QDQ, ONNX Runtime's QOperator ops): the same
    parameter count, the same MACs, every op counted; the quantised forms' core arithmetic in integer OPs."""
    model = build()  # type: ignore[operator]
    shape = tuple(d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim)
    src = save(model, tmp_path / "f.onnx")
    _quantise(src, tmp_path / "qdq.onnx", shape)
    _quantise(src, tmp_path / "qop.onnx", shape, qoperator=True)
    assert "QLinearConv" in {n.op_type for n in onnx.load(str(tmp_path / "qop.onnx")).graph.node}
    fp32, qdq, qop = (edgeprof.profile(tmp_path / f) for f in ("f.onnx", "qdq.onnx", "qop.onnx"))
    assert fp32.totals.params == qdq.totals.params == qop.totals.params
    assert fp32.totals.macs == qdq.totals.macs == qop.totals.macs
    assert not fp32.not_counted and not qdq.not_counted and not qop.not_counted
    assert qop.totals.int_ops > 0 and qop.deployment is not None
    assert any(k.precision in ("int8", "uint8") and k.op in ("QLinearConv", "com.microsoft::QLinearConv")
               for k in qop.deployment.kernels)


def test_the_deployment_round_trips_through_json() -> None:
    b = _start()
    _conv(b)
    b.node("Relu", ["c"], "y", S, name="relu")
    p = build_profile(LoadedModel(b.build(["y"]), ModelInfo("t", "onnx"), ()))
    assert p.deployment is not None
    again = Profile.from_json(p.to_json())
    assert again.deployment == p.deployment
    assert isinstance(again.deployment.kernels[0], DeployedKernel)


# ---- the demo model -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_profiles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Profile, Profile]:
    dst = tmp_path_factory.mktemp("demo") / "demo_qdq.onnx"
    _quantise(DEMO, dst, (1, 3, 224, 224))
    return edgeprof.profile(DEMO), edgeprof.profile(dst)


def test_demo_as_deployed(demo_profiles: tuple[Profile, Profile]) -> None:
    fp32, qdq = demo_profiles
    d = fp32.deployment
    assert d is not None
    assert d.given_nodes == len(fp32.layers) == 97
    assert d.deployed_kernels <= d.given_nodes // 2  # 48: every BN, activation and the Flatten fused away
    assert d.deployed_bytes < d.given_bytes // 2
    kinds = {f.kind for f in d.folded}
    assert {"BatchNormalization into Conv", "HardSwish into Conv", "Sigmoid into Conv"} <= kinds
    q = qdq.deployment
    assert q is not None and q.given_nodes > 3 * q.deployed_kernels
    assert qdq.totals.params == fp32.totals.params
    assert q.deployed_flops < q.deployed_int_ops // 50  # the input's Q and the output's DQ only


def test_demo_qdq_is_faster_than_fp32_on_rpi5(demo_profiles: tuple[Profile, Profile]) -> None:
    fp32, qdq = demo_profiles
    rpi5 = load_catalogue().get("rpi5")
    fast, slow = predict(qdq, rpi5), predict(fp32, rpi5)
    assert fast.total_s < slow.total_s
    # as given (every Q/DQ a kernel at fp32) the QDQ model was the slower one
    assert predict(qdq, rpi5, fuse=False).total_s > slow.total_s
    assert predict(dataclasses.replace(qdq, deployment=None), rpi5).total_s > slow.total_s


def test_shape_of_a_dynamic_value_is_not_a_constant() -> None:
    b = GraphBuilder()
    b.input("x", ("N", 8))
    b.weight("two", (), dtype="int64", role="constant")
    b.node("Shape", ["x"], "s", (2,), dtype="int64", name="shape")
    b.node("Mul", ["s", "two"], "s2", (2,), dtype="int64", name="double")
    b.node("Relu", ["x"], "y", ("N", 8), name="relu")
    d = _deploy(b.build(["y", "s2"]))
    assert [k.name for k in d.kernels] == ["shape", "double", "relu"] and d.removed == ()
    b2 = GraphBuilder()
    b2.input("x", (4, 8))
    b2.weight("two", (), dtype="int64", role="constant")
    b2.node("Shape", ["x"], "s", (2,), dtype="int64", name="shape")
    b2.node("Mul", ["s", "two"], "s2", (2,), dtype="int64", name="double")
    b2.node("Relu", ["x"], "y", (4, 8), name="relu")
    d2 = _deploy(b2.build(["y", "s2"]))
    assert [k.name for k in d2.kernels] == ["relu"] and d2.removed == ("shape", "double")
