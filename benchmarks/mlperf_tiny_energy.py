"""Estimated vs published energy per inference of the MLPerf Tiny v1.x reference models on MCUs.

Builds the four reference models in code (ONNX, onnx.helper; random weights), in their deployed
form (BatchNorm folded into the conv/dense before it, ReLU kept), as float32 and as int8 (ONNX
Runtime ``quantize_static``, QOperator format, random calibration data: the costs do not depend on
the weights), profiles each with edgeprof, estimates its energy on the ``stm32h7`` and
``cortex-m4`` catalogue devices and prints it beside the published X-CUBE-AI 8.0 measurements
(MLPerf Tiny v1.1, Krai: NUCLEO-H7A3ZI and NUCLEO-L4R5ZI).

Architectures (the MLPerf Tiny training references as best known; see docs/energy.md):

* KWS DS-CNN: input 1x1x49x10; Conv 64 10x4 stride 2 pad (5,1) -> 25x5; 4 x [depthwise 3x3,
  ReLU, pointwise 1x1 64, ReLU]; average pool 25x5; dense 12.
* IC ResNet-8: input 1x3x32x32; Conv 16 3x3; three stacks (16, 32, 64 filters; stride 1, 2, 2) of
  two 3x3 convs with a residual add (a 1x1 stride-2 conv on the shortcut of stacks 2 and 3);
  average pool 8x8; dense 10.
* VWW MobileNetV1 0.25: input 1x3x96x96; Conv 8 3x3 stride 2; 13 depthwise-separable blocks
  (pointwise widths 16, 32, 32, 64, 64, 128 x 6, 256, 256; stride 2 at blocks 2, 4, 6, 12);
  average pool 3x3; dense 2.
* AD FC autoencoder: input 1x640; dense 128 x 4, 8, 128 x 4, 640 (ReLU after each hidden layer).

Run from the repository root::

    .venv/bin/python benchmarks/mlperf_tiny_energy.py            # table on stdout (Markdown)
    .venv/bin/python benchmarks/mlperf_tiny_energy.py --keep DIR # also keep the ONNX files
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

# MLPerf Tiny v1.1, closed, Krai, X-CUBE-AI 8.0 (mlcommons/tiny_results_v1.1/closed/Krai/results/README.md), uJ/inference
PUBLISHED_UJ = {
    "stm32h7": {"kws": 2362.0, "ic": 7615.0, "vww": 6928.0, "ad": 236.0},  # NUCLEO-H7A3ZI, Cortex-M7 @ 280 MHz
    "cortex-m4": {"kws": 5482.0, "ic": 17315.0, "vww": 16573.0, "ad": 529.0},  # NUCLEO-L4R5ZI, Cortex-M4 @ 120 MHz
}


class Builder:
    """A small onnx.helper graph builder: NCHW float32, deterministic random weights."""

    def __init__(self, name: str, input_shape: list[int]) -> None:
        self.name = name
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.rng = np.random.default_rng(0)
        self.inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, input_shape)]
        self.n = 0

    def _w(self, shape: list[int]) -> str:
        self.n += 1
        name = f"w{self.n}"
        self.inits.append(numpy_helper.from_array((self.rng.standard_normal(shape) * 0.1).astype(np.float32), name))
        return name

    def conv(self, x: str, cin: int, cout: int, k: tuple[int, int], stride: int = 1,
             pads: tuple[int, int, int, int] | None = None, groups: int = 1, relu: bool = True) -> str:
        w, b = self._w([cout, cin // groups, *k]), self._w([cout])
        if pads is None:
            pads = (k[0] // 2, k[1] // 2, k[0] // 2, k[1] // 2)
        y = f"conv{self.n}"
        self.nodes.append(helper.make_node("Conv", [x, w, b], [y], kernel_shape=list(k), strides=[stride, stride],
                                           pads=list(pads), group=groups, name=y))
        return self.relu(y) if relu else y

    def relu(self, x: str) -> str:
        y = f"{x}_relu"
        self.nodes.append(helper.make_node("Relu", [x], [y], name=y))
        return y

    def add(self, a: str, b: str) -> str:
        y = f"add{len(self.nodes)}"
        self.nodes.append(helper.make_node("Add", [a, b], [y], name=y))
        return y

    def pool_flatten(self, x: str, k: tuple[int, int]) -> str:
        y = f"pool{len(self.nodes)}"
        self.nodes.append(helper.make_node("AveragePool", [x], [y], kernel_shape=list(k), name=y))
        f = f"flat{len(self.nodes)}"
        self.nodes.append(helper.make_node("Flatten", [y], [f], name=f))
        return f

    def dense(self, x: str, fin: int, fout: int, relu: bool = True) -> str:
        w, b = self._w([fin, fout]), self._w([fout])
        m = f"matmul{self.n}"
        self.nodes.append(helper.make_node("MatMul", [x, w], [m], name=m))
        y = f"dense{self.n}"
        self.nodes.append(helper.make_node("Add", [m, b], [y], name=y))
        return self.relu(y) if relu else y

    def model(self, out: str, out_dim: int) -> onnx.ModelProto:
        self.nodes[-1].output[0] = "output"
        graph = helper.make_graph(self.nodes, self.name, self.inputs,
                                  [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, out_dim])],
                                  self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 9
        onnx.checker.check_model(model)
        return model


def kws_dscnn() -> onnx.ModelProto:
    b = Builder("kws_ds_cnn", [1, 1, 49, 10])
    x = b.conv("input", 1, 64, (10, 4), stride=2, pads=(5, 1, 4, 1))  # 25x5
    for _ in range(4):
        x = b.conv(x, 64, 64, (3, 3), groups=64)
        x = b.conv(x, 64, 64, (1, 1))
    x = b.pool_flatten(x, (25, 5))
    return b.model(b.dense(x, 64, 12, relu=False), 12)


def ic_resnet8() -> onnx.ModelProto:
    b = Builder("ic_resnet8", [1, 3, 32, 32])
    x = b.conv("input", 3, 16, (3, 3))
    cin = 16
    for cout, stride in ((16, 1), (32, 2), (64, 2)):
        y = b.conv(x, cin, cout, (3, 3), stride=stride)
        y = b.conv(y, cout, cout, (3, 3), relu=False)
        shortcut = x if stride == 1 else b.conv(x, cin, cout, (1, 1), stride=stride, pads=(0, 0, 0, 0), relu=False)
        x = b.relu(b.add(shortcut, y))
        cin = cout
    x = b.pool_flatten(x, (8, 8))
    return b.model(b.dense(x, 64, 10, relu=False), 10)


def vww_mobilenet_v1_025() -> onnx.ModelProto:
    b = Builder("vww_mobilenet_v1_0.25", [1, 3, 96, 96])
    x = b.conv("input", 3, 8, (3, 3), stride=2)  # 48x48
    cin = 8
    blocks = [(16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (128, 1), (128, 1), (128, 1),
              (128, 1), (256, 2), (256, 1)]
    for cout, stride in blocks:
        x = b.conv(x, cin, cin, (3, 3), stride=stride, groups=cin)
        x = b.conv(x, cin, cout, (1, 1))
        cin = cout
    x = b.pool_flatten(x, (3, 3))
    return b.model(b.dense(x, 256, 2, relu=False), 2)


def ad_autoencoder() -> onnx.ModelProto:
    b = Builder("ad_fc_autoencoder", [1, 640])
    x, fin = "input", 640
    for fout in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        x = b.dense(x, fin, fout)
        fin = fout
    return b.model(b.dense(x, fin, 640, relu=False), 640)


MODELS = {"kws": kws_dscnn, "ic": ic_resnet8, "vww": vww_mobilenet_v1_025, "ad": ad_autoencoder}


def quantize(src: Path, dst: Path, input_shape: list[int]) -> None:
    """int8 weights and activations (QOperator: QLinearConv, QLinearMatMul...), random calibration."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            rng = np.random.default_rng(1)
            self.items: Iterator[dict[str, np.ndarray]] = iter(
                [{"input": rng.random(input_shape, dtype=np.float32)} for _ in range(4)])

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.items, None)

    quantize_static(str(src), str(dst), Reader(), quant_format=QuantFormat.QOperator,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", metavar="DIR", help="keep the ONNX files in DIR")
    args = parser.parse_args(argv)

    from edgeprof import api

    workdir = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mlperf_tiny_"))
    workdir.mkdir(parents=True, exist_ok=True)
    print("| model | precision | MACs | params | device | estimated low .. high (mid) | ops + data mid | "
          "power x latency | published (Krai, X-CUBE-AI 8.0) | mid / published | ops+data mid / published |")
    print("|---|---|---:|---:|---|---|---:|---:|---:|---:|---:|")
    for key, build in MODELS.items():
        model = build()
        fp32 = workdir / f"{key}_fp32.onnx"
        onnx.save(model, fp32)
        shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
        int8 = workdir / f"{key}_int8.onnx"
        quantize(fp32, int8, shape)
        for precision, path in (("fp32", fp32), ("int8", int8)):
            prof = api.profile(str(path), memory=False)
            prof = api.predict_latency(prof, list(PUBLISHED_UJ))
            prof = api.estimate_energy(prof, list(PUBLISHED_UJ))
            assert prof.energy is not None
            for device, published in PUBLISHED_UJ.items():
                e = prof.energy.estimated[device]
                r, b = e.estimated_j, e.bottom_up_j
                pub = published[key]
                dev = f"{e.device_power_j * 1e6:.0f} uJ" if e.device_power_j is not None else "-"
                lb = ">= " if e.is_lower_bound else ""
                print(f"| {key} | {precision} | {prof.totals.macs:,} | {prof.totals.params:,} | {device} | "
                      f"{lb}{r.low * 1e6:.3g} .. {r.high * 1e6:.4g} ({r.mid * 1e6:.4g}) uJ | {b.mid * 1e6:.3g} uJ | "
                      f"{dev} | {pub:g} uJ | {r.mid * 1e6 / pub:.2f} | {b.mid * 1e6 / pub:.3g} |")
                if e.missing:
                    print(f"<!-- {key} {precision} {device}: {'; '.join(e.missing)} -->", file=sys.stderr)
    print(f"\nONNX files: {workdir}" if args.keep else "", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
