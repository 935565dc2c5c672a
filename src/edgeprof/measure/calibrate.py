"""Calibrate this machine as a device: micro-benchmarks of single-op ONNX models built in code,
run on ONNX Runtime (CPU) exactly as ``edgeprof bench`` runs a model, saved as a device TOML file
(id ``host``, every figure tagged ``measured``), stored in the user's config folder
(:func:`stored_calibration`: ``EDGEPROF_CONFIG_DIR``, else platformdirs' user config folder, e.g.
``~/.config/edgeprof/host.toml``) where ``--device host`` finds it, or any file ``--devices-file``
loads (which then takes the stored file's place).

What is measured (each model timed in a fresh subprocess; the counts come from edgeprof's own
formulas on the same model, so the rates are in the units the prediction divides by):

* per-inference overhead: one tiny ``Add`` on a 1-element tensor minus one such node's cost (a chain
  of :data:`CHAIN` of them: (chain - one) / (CHAIN - 1));
* per-node (per-kernel) overhead: a chain of :data:`KERNEL_BLOCKS` blocks of the kernels networks are
  made of (a 1x1 ``Conv`` + ``Relu``, a ``Mul`` by a constant, a residual ``Add``) on tiny tensors, minus
  one block, over the extra kernels of the deployed graph: the runtime's dispatch cost of a real kernel
  (shape checks, output allocation, its layout handling), about twice the 1-element ``Add``'s;
* attainable memory bandwidth: a chain of ``Add`` nodes on activation-sized tensors (1 MiB each,
  the size of a typical CNN activation; it mostly stays in the cache hierarchy), bytes read +
  written / (time - overheads); a DRAM-sized ``Add`` (32 MiB tensors) is recorded as an anchor;
* conv efficiency by reduction depth K (MACs per output element): chains of :data:`CONV_CHAIN`
  depthwise 3x3 convs (K = 9) and 1x1 convs (K = 64) on 64 channels at 56x56, and the dense 3x3 conv
  (K = 576), as the ``conv@k9``/``conv@k64``/``conv@k576`` efficiencies (interpolated in log K by
  :func:`edgeprof.passes.latency.conv_depth_efficiency`): a depthwise conv runs at a fraction of a
  dense one's rate;
* compute rates: a large ``Gemm`` (linear), a 3x3 ``Conv`` (conv), an ``LSTM`` (recurrent: its
  time steps are small sequential matrix-vector products), a chain of ``Sigmoid`` (activation) and of
  ``Add`` on cache-sized tensors (256 KiB; the default for the other categories), FLOPs / (time -
  overheads); the FP32 peak is the fastest of them and each category's efficiency is its rate / that
  peak;
* int8: ``MatMulInteger`` and ``QLinearConv`` when ONNX Runtime runs them (else no int8 rate).
"""

from __future__ import annotations

import datetime
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeprof.errors import MeasurementError
from edgeprof.measure.latency import LatencyOptions, measure_onnx_latency
from edgeprof.report.model import Profile

__all__ = ["CHAIN", "CONFIG_DIR_ENV", "CONV_CHAIN", "KERNEL_BLOCKS", "Calibration", "calibrate", "config_dir", "render_toml",
           "stored_calibration"]

CONFIG_DIR_ENV = "EDGEPROF_CONFIG_DIR"


def config_dir() -> Path:
    """edgeprof's folder of user settings: ``$EDGEPROF_CONFIG_DIR`` when set, else the platform's
    user config folder (``$XDG_CONFIG_HOME/edgeprof``, ``~/.config/edgeprof`` on Linux,
    ``~/Library/Application Support/edgeprof`` on macOS, ``%APPDATA%\\edgeprof`` on Windows)."""
    env = os.environ.get(CONFIG_DIR_ENV, "")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("edgeprof", appauthor=False))


def stored_calibration() -> Path:
    """Where ``edgeprof calibrate`` stores this machine's device file (it may not exist yet)."""
    return config_dir() / "host.toml"

CHAIN = 200
KERNEL_BLOCKS = 50  # blocks of the kernel chain (3 deployed kernels each)
CONV_CHAIN = 8  # convolutions in the depthwise and 1x1 chains


@dataclass(frozen=True)
class Calibration:
    """Measured figures of this host (seconds, FLOP/s, op/s, bytes/s) and where they came from."""

    cpu_model: str
    runtime: str
    threads: int
    date: str
    command: str
    per_inference_overhead_s: float
    per_node_overhead_s: float
    bandwidth_bytes_per_s: float
    dram_bandwidth_bytes_per_s: float
    rates_flop_per_s: dict[str, float]  # category -> attainable FP32 rate
    int8_rates_op_per_s: dict[str, float]  # category -> attainable int8 rate (empty: not run)
    notes: tuple[str, ...]
    logical_cores: int

    def to_toml(self) -> str:
        """This calibration as the device file ``--devices-file`` loads (:func:`render_toml`)."""
        return render_toml(self)


def _model(build: Callable[[Any, Any], tuple[list[Any], list[Any], list[Any], list[Any]]], name: str) -> Any:
    import onnx
    from onnx import helper

    nodes, inputs, outputs, inits = build(helper, onnx.TensorProto)
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def _rand(shape: tuple[int, ...], dtype: str = "float32", seed: int = 0) -> Any:
    import numpy as np

    rng = np.random.default_rng(seed)
    if dtype == "float32":
        return rng.random(shape, dtype=np.float32) - 0.5
    return rng.integers(-8, 8, shape).astype(dtype)


def _init(name: str, array: Any) -> Any:
    from onnx import numpy_helper

    return numpy_helper.from_array(array, name)


def _add_chain(n: int, size: int) -> Any:
    def build(h: Any, tp: Any) -> Any:
        nodes = [h.make_node("Add", ["x" if i == 0 else f"t{i - 1}", "c"], [f"t{i}" if i < n - 1 else "y"],
                             name=f"add{i}") for i in range(n)]
        return (nodes, [h.make_tensor_value_info("x", tp.FLOAT, [size])],
                [h.make_tensor_value_info("y", tp.FLOAT, [size])], [_init("c", _rand((size,), seed=1))])
    return _model(build, f"add_chain_{n}_{size}")


def _unary_chain(op: str, n: int, size: int) -> Any:
    def build(h: Any, tp: Any) -> Any:
        nodes = [h.make_node(op, ["x" if i == 0 else f"t{i - 1}"], [f"t{i}" if i < n - 1 else "y"], name=f"n{i}")
                 for i in range(n)]
        return (nodes, [h.make_tensor_value_info("x", tp.FLOAT, [size])],
                [h.make_tensor_value_info("y", tp.FLOAT, [size])], [])
    return _model(build, f"{op}_chain")


def _lstm(seq: int, inp: int, hidden: int) -> Any:
    def build(h: Any, tp: Any) -> Any:
        node = h.make_node("LSTM", ["x", "w", "r"], ["y"], name="lstm", hidden_size=hidden)
        return ([node], [h.make_tensor_value_info("x", tp.FLOAT, [seq, 1, inp])],
                [h.make_tensor_value_info("y", tp.FLOAT, [seq, 1, 1, hidden])],
                [_init("w", _rand((1, 4 * hidden, inp), seed=6)), _init("r", _rand((1, 4 * hidden, hidden), seed=7))])
    return _model(build, "lstm")


def _gemm(m: int, k: int, n: int) -> Any:
    def build(h: Any, tp: Any) -> Any:
        return ([h.make_node("Gemm", ["x", "w"], ["y"], name="gemm")],
                [h.make_tensor_value_info("x", tp.FLOAT, [m, k])], [h.make_tensor_value_info("y", tp.FLOAT, [m, n])],
                [_init("w", _rand((k, n), seed=2))])
    return _model(build, "gemm")


def _conv(c: int, hw: int) -> Any:
    def build(h: Any, tp: Any) -> Any:
        return ([h.make_node("Conv", ["x", "w"], ["y"], name="conv", pads=[1, 1, 1, 1], kernel_shape=[3, 3])],
                [h.make_tensor_value_info("x", tp.FLOAT, [1, c, hw, hw])],
                [h.make_tensor_value_info("y", tp.FLOAT, [1, c, hw, hw])], [_init("w", _rand((c, c, 3, 3), seed=3))])
    return _model(build, "conv")


def _conv_chain(c: int, hw: int, k: int, group: int, n: int) -> Any:
    """``n`` chained convolutions (c -> c channels, k x k, ``group`` groups): a depthwise or a 1x1 conv as
    it runs inside a network (ONNX Runtime's layout conversions only at the ends)."""
    def build(h: Any, tp: Any) -> Any:
        nodes = [h.make_node("Conv", ["x" if i == 0 else f"t{i - 1}", "w"], [f"t{i}" if i < n - 1 else "y"],
                             name=f"conv{i}", pads=[k // 2] * 4, kernel_shape=[k, k], group=group) for i in range(n)]
        return (nodes, [h.make_tensor_value_info("x", tp.FLOAT, [1, c, hw, hw])],
                [h.make_tensor_value_info("y", tp.FLOAT, [1, c, hw, hw])],
                [_init("w", _rand((c, c // group, k, k), seed=8) * 0.2)])
    return _model(build, f"conv_chain_k{k}_g{group}")


def _kernel_chain(blocks: int, c: int = 8, hw: int = 4) -> Any:
    """``blocks`` x (1x1 Conv + Relu, Mul by a constant, residual Add) on tiny tensors: three deployed
    kernels of the kinds real networks are made of per block, each doing next to nothing (the per-kernel
    dispatch cost of the runtime, not the 1-element Add's)."""
    def build(h: Any, tp: Any) -> Any:
        nodes = []
        x = "x"
        for i in range(blocks):
            nodes += [h.make_node("Conv", [x, "w"], [f"c{i}"], name=f"conv{i}", kernel_shape=[1, 1]),
                      h.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}"),
                      h.make_node("Mul", [f"r{i}", "s"], [f"m{i}"], name=f"mul{i}"),
                      h.make_node("Add", [f"m{i}", x], [f"a{i}" if i < blocks - 1 else "y"], name=f"add{i}")]
            x = f"a{i}"
        return (nodes, [h.make_tensor_value_info("x", tp.FLOAT, [1, c, hw, hw])],
                [h.make_tensor_value_info("y", tp.FLOAT, [1, c, hw, hw])],
                [_init("w", _rand((c, c, 1, 1), seed=9)), _init("s", _rand((1, c, 1, 1), seed=10))])
    return _model(build, f"kernel_chain_{blocks}")


def _matmul_integer(m: int, k: int, n: int) -> Any:
    def build(h: Any, tp: Any) -> Any:
        return ([h.make_node("MatMulInteger", ["x", "w"], ["y"], name="mmi")],
                [h.make_tensor_value_info("x", tp.UINT8, [m, k])], [h.make_tensor_value_info("y", tp.INT32, [m, n])],
                [_init("w", _rand((k, n), "int8", seed=4))])
    return _model(build, "matmul_integer")


def _qlinear_conv(c: int, hw: int) -> Any:
    import numpy as np

    def build(h: Any, tp: Any) -> Any:
        inits = [_init("w", _rand((c, c, 3, 3), "int8", seed=5)), _init("xs", np.array(0.02, np.float32)),
                 _init("xz", np.array(128, np.uint8)), _init("ws", np.array(0.01, np.float32)),
                 _init("wz", np.array(0, np.int8)), _init("ys", np.array(0.05, np.float32)),
                 _init("yz", np.array(128, np.uint8))]
        node = h.make_node("QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz"], ["y"], name="qconv",
                           pads=[1, 1, 1, 1], kernel_shape=[3, 3])
        return ([node], [h.make_tensor_value_info("x", tp.UINT8, [1, c, hw, hw])],
                [h.make_tensor_value_info("y", tp.UINT8, [1, c, hw, hw])], inits)
    return _model(build, "qlinear_conv")


def calibrate(count: Callable[[Path], Profile], *, threads: int = 1, seconds_per_model: float = 3.0,
              command: str = "edgeprof calibrate", progress: Callable[[str], None] | None = None) -> Calibration:
    """Run the micro-benchmarks (about a minute at the default ``seconds_per_model``).

    ``count`` profiles a micro-model's ONNX file (``edgeprof.api.calibrate`` passes
    ``edgeprof.profile`` without the memory analysis): its inputs, counted ops, bytes and layers.
    ``progress`` is called with the label of each micro-benchmark as it starts."""
    import onnx

    options = LatencyOptions(intra_op_threads=threads, min_time_s=seconds_per_model, max_time_s=seconds_per_model,
                             max_runs=100_000, min_runs=20)
    runtime = ""
    cpu = ""
    cores = 0
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="edgeprof-calibrate-") as tmp:

        kernels: dict[str, int] = {}

        def run(model: Any, label: str) -> tuple[float, int, int, int]:
            """(p50 seconds, counted ops, bytes moved, nodes) of one micro-model (``kernels[label]``: its
            deployed kernels)."""
            nonlocal runtime, cpu, cores
            if progress is not None:
                progress(label)
            path = Path(tmp) / f"{label}.onnx"
            onnx.save(model, str(path))
            prof = count(path)
            measured = measure_onnx_latency(path, prof.inputs, options=options, timeout_s=60 + 4 * seconds_per_model)
            runtime = measured.runtime
            cpu, cores = measured.environment.cpu_model, measured.environment.logical_cores
            t = prof.totals
            kernels[label] = prof.deployment.deployed_kernels if prof.deployment is not None else len(prof.layers)
            return measured.p50_s, t.flops + t.int_ops, t.bytes_read + t.bytes_written, len(prof.layers)

        one, _, _, _ = run(_add_chain(1, 1), "one_node")
        chain, _, _, _ = run(_add_chain(CHAIN, 1), "node_chain")
        add_node = max((chain - one) / (CHAIN - 1), 1e-9)
        per_inference = max(one - add_node, 1e-9)
        short, _, _, _ = run(_kernel_chain(1), "kernel_chain_1")
        long, _, _, _ = run(_kernel_chain(KERNEL_BLOCKS), "kernel_chain")
        per_node = max((long - short) / max(1, kernels["kernel_chain"] - kernels["kernel_chain_1"]), add_node)

        def body(t: float, nodes: int) -> float:
            left = t - per_inference - nodes * per_node
            if left <= 0.05 * t:
                raise MeasurementError("calibration: a micro-benchmark took no longer than its overheads; "
                                       "the machine is too noisy to calibrate now")
            return left

        t, ops, moved, nodes = run(_add_chain(20, 1 << 18), "add_1mib")
        bandwidth = moved / body(t, nodes)
        t, ops, _, nodes = run(_add_chain(20, 1 << 16), "add_256kib")
        rates = {"default": ops / body(t, nodes)}
        t, _, dram_moved, nodes = run(_add_chain(1, 1 << 23), "add_32mib")
        dram = dram_moved / body(t, nodes)
        t, ops, _, nodes = run(_gemm(512, 512, 512), "gemm")
        rates["linear"] = ops / body(t, nodes)
        t, ops, _, nodes = run(_conv(64, 56), "conv")
        rates["conv"] = rates["conv@k576"] = ops / body(t, nodes)
        t, ops, _, nodes = run(_conv_chain(64, 56, 1, 1, CONV_CHAIN), "conv_1x1")
        rates["conv@k64"] = ops / body(t, nodes)
        t, ops, _, nodes = run(_conv_chain(64, 56, 3, 64, CONV_CHAIN), "conv_depthwise")
        rates["conv@k9"] = ops / body(t, nodes)
        t, ops, _, nodes = run(_unary_chain("Sigmoid", 20, 1 << 16), "sigmoid")
        rates["activation"] = ops / body(t, nodes)
        t, ops, _, nodes = run(_lstm(32, 256, 256), "lstm")
        rates["recurrent"] = ops / body(t, nodes)
        int8: dict[str, float] = {}
        for label, model, category in (("matmul_integer", _matmul_integer(512, 512, 512), "linear"),
                                       ("qlinear_conv", _qlinear_conv(64, 56), "conv")):
            try:
                t, ops, _, nodes = run(model, label)
                int8[category] = ops / body(t, nodes)
            except MeasurementError as exc:
                notes.append(f"int8 {category}: {exc}")
    return Calibration(
        cpu_model=cpu, runtime=runtime, threads=threads,
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), command=command,
        per_inference_overhead_s=per_inference, per_node_overhead_s=per_node, bandwidth_bytes_per_s=bandwidth,
        dram_bandwidth_bytes_per_s=dram, rates_flop_per_s=rates, int8_rates_op_per_s=int8, notes=tuple(notes),
        logical_cores=cores,
    )


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_toml(cal: Calibration) -> str:
    """The calibration as a device file (``[[device]]`` id ``host``) for ``--devices-file``."""
    where = f"{cal.command} on {cal.date}; {cal.cpu_model}; {cal.runtime}; {cal.threads} intra-op thread(s)"

    def fig(value: float, what: str, tag: str = "measured") -> str:
        return f"{{ value = {value:.6g}, tag = {_q(tag)}, source = {_q(f'{what} ({where})')} }}"

    peak = max(cal.rates_flop_per_s.values())
    lines = [
        f"# Written by {cal.command} on {cal.date}: this host as a device for edgeprof's latency prediction.",
        "# Every figure was measured with single-op ONNX models on ONNX Runtime (see docs/latency.md).",
        "schema_version = 1", "", "[[device]]", 'id = "host"', f"name = {_q('this host (' + cal.cpu_model + ')')}",
        f"soc = {_q(f'{cal.cpu_model}, {cal.logical_cores} logical cores')}", 'class = "host"',
        f"peak_fp32_flop_per_s = {fig(peak, 'fastest FP32 micro-benchmark (Gemm 512^3 / Conv 3x3 64ch 56x56)')}",
        f"memory_bandwidth_bytes_per_s = {fig(cal.bandwidth_bytes_per_s, 'chain of 20 Add on 1 MiB tensors')}",
        f"bandwidth_efficiency = {fig(1.0, 'the bandwidth above is already the attainable one')}",
        f"per_node_overhead_s = {fig(cal.per_node_overhead_s, f'(chain of {KERNEL_BLOCKS} blocks of tiny 1x1 Conv+Relu, Mul, residual Add - one block) / their extra deployed kernels')}",
        f"per_inference_overhead_s = {fig(cal.per_inference_overhead_s, f'one 1-element Add - one Add node (chain of {CHAIN} 1-element Add - one Add) / {CHAIN - 1}')}",
    ]
    if cal.int8_rates_op_per_s:
        ipeak = max(cal.int8_rates_op_per_s.values())
        lines.append(f"peak_int8_op_per_s = {fig(ipeak, 'fastest int8 micro-benchmark (MatMulInteger / QLinearConv)')}")
    eff = [f"default = {fig(min(1.0, cal.rates_flop_per_s['default'] / peak), 'Add chain (256 KiB) rate / FP32 peak')}"]
    for cat, what in (("linear", "Gemm"), ("conv", "Conv"), ("activation", "Sigmoid chain"),
                      ("recurrent", "LSTM (seq 32, 256 -> 256)")):
        eff.append(f"{cat} = {fig(min(1.0, cal.rates_flop_per_s[cat] / peak), f'{what} rate / FP32 peak')}")
    for cat, what in (("conv@k9", f"chain of {CONV_CHAIN} depthwise 3x3 Conv (64 ch, 56x56), K = 9"),
                      ("conv@k64", f"chain of {CONV_CHAIN} 1x1 Conv (64 ch, 56x56), K = 64"),
                      ("conv@k576", "Conv 3x3 64 -> 64 ch, 56x56, K = 576")):
        if cat in cal.rates_flop_per_s:
            eff.append(f'"{cat}" = {fig(min(1.0, cal.rates_flop_per_s[cat] / peak), f"{what}: rate / FP32 peak")}')
    eff.append(f"attention = {fig(min(1.0, cal.rates_flop_per_s['linear'] / peak), 'its matmuls: the Gemm rate / FP32 peak')}")
    if cal.int8_rates_op_per_s:
        for cat, rate in cal.int8_rates_op_per_s.items():
            eff.append(f'"int8:{cat}" = {fig(min(1.0, rate / ipeak), f"int8 {cat} rate / int8 peak")}')
        eff.append('"int8:default" = ' + fig(min(1.0, cal.rates_flop_per_s["default"] / ipeak),
                                              "assumes int8 elementwise ops run at the FP32 Add-chain rate", "assumed"))
    small = 3 << 20  # bytes one Add of the 1 MiB chain moves (two inputs, one output)
    large = 3 << 25  # the 32 MiB Add's
    eff.append(f'"bandwidth@{small}" = {fig(1.0, "an Add on 1 MiB tensors (3 MiB moved) attains the bandwidth above")}')
    eff.append(f'"bandwidth@{large}" = '
               + fig(min(1.0, cal.dram_bandwidth_bytes_per_s / cal.bandwidth_bytes_per_s),
                     "an Add on 32 MiB tensors (96 MiB moved): DRAM bandwidth / the bandwidth above"))
    lines.append("efficiency = { " + ", ".join(eff) + " }")
    anchors = [f"DRAM-sized Add (32 MiB tensors): {cal.dram_bandwidth_bytes_per_s / 1e9:.3g} GB/s [measured]"]
    anchors += [f"{k} FP32 rate {v / 1e9:.3g} GFLOP/s [measured]" for k, v in cal.rates_flop_per_s.items()]
    anchors += [f"int8 {k} rate {v / 1e9:.3g} GOP/s [measured]" for k, v in cal.int8_rates_op_per_s.items()]
    anchors += list(cal.notes)
    lines.append("anchors = [" + ", ".join(_q(a) for a in anchors) + "]")
    return "\n".join(lines) + "\n"
