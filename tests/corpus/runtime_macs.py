"""The corpus checks' references, computed without edgeprof.

* **Stored parameters** of a file, by a rule stated here (independent of edgeprof's role
  inference):

  - ONNX: every initializer and every ``Constant`` node's tensor, in the graph and its
    subgraphs, counted once by name, when it is floating point (float16/32/64, bfloat16) or an
    8-bit integer (a quantised weight) and has at least 2 elements, except BatchNormalization's running mean and variance (inputs 3 and 4)
    and ``Resize``/``Upsample``'s roi and scales (inputs 1 and 2): buffers and shape operands.
  - TFLite: every tensor with a non-empty constant buffer, each buffer counted once, when it
    is float or 8/16-bit integer (a quantised weight) and has at least 2 elements, plus int32
    tensors used as a bias (input 2 of CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED; input 3 of
    TRANSPOSE_CONV). A sparse (DENSIFY) tensor counts its stored values.

* **Dense MACs the runtime executes**, by op family (conv, matmul, rnn):

  - ONNX Runtime: a session with ``enable_profiling`` and every graph optimisation off (so
    the kernels are the graph's nodes, not fused or re-laid-out ones) and weight prepacking off (a
    prepacked weight is missing from the trace's shapes) runs once on zeros; its JSON
    trace has one event per executed node with ``args.op_name``, ``args.input_type_shape`` and
    ``args.output_type_shape``, the shapes the kernels ran with. MACs come from those shapes
    alone: Conv = out elements x prod(W.shape[1:]); ConvTranspose = in elements x
    prod(W.shape[1:]); MatMul = out elements x K; Gemm = M·N·K; LSTM/GRU/RNN (and
    com.microsoft's DynamicQuantizeLSTM) = seq · batch · directions · gates·H · (input + H); the
    integer and QLinear forms as their float ops.
  - LiteRT: its op profiler is not reachable from Python, so the shapes are the interpreter's
    own after ``allocate_tensors`` and one ``invoke`` (built-in kernels, no XNNPACK delegate):
    ``_get_ops_details()`` gives each executed op and its tensor indices, ``get_tensor_details()``
    their shapes. CONV_2D = out x prod(filter[1:]); DEPTHWISE_CONV_2D = out x kh·kw; CONV_3D =
    out x prod(filter[:4]); TRANSPOSE_CONV = in x O·kh·kw; FULLY_CONNECTED = out x filter[1];
    BATCH_MATMUL = out x K. A model whose custom ops the interpreter cannot resolve has no
    runtime figure.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import sys
import tempfile
import warnings
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

FAMILY = {
    # ONNX op types (and the names edgeprof gives TFLite ops)
    "Conv": "conv", "ConvTranspose": "conv", "QLinearConv": "conv", "ConvInteger": "conv",
    "MatMul": "matmul", "Gemm": "matmul", "QLinearMatMul": "matmul", "MatMulInteger": "matmul",
    "Einsum": "matmul", "DynamicQuantizeMatMul": "matmul", "MatMulIntegerToFloat": "matmul",
    "LSTM": "rnn", "GRU": "rnn", "RNN": "rnn", "DynamicQuantizeLSTM": "rnn",
    "com.microsoft::DynamicQuantizeLSTM": "rnn", "com.microsoft::DynamicQuantizeMatMul": "matmul",
    "com.microsoft::MatMulIntegerToFloat": "matmul", "com.microsoft::QGemm": "matmul",
    # TFLite builtins
    "CONV_2D": "conv", "DEPTHWISE_CONV_2D": "conv", "CONV_3D": "conv", "TRANSPOSE_CONV": "conv",
    "FULLY_CONNECTED": "matmul", "BATCH_MATMUL": "matmul",
}


def load_fetch_module() -> ModuleType:
    """scripts/fetch_corpus.py as a module (it holds the pinned corpus)."""
    name = "edgeprof_fetch_corpus"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "fetch_corpus.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


# ---- stored parameters ----------------------------------------------------------------------------

_ONNX_PARAM_TYPES = {1, 10, 11, 16, 2, 3}  # FLOAT, FLOAT16, DOUBLE, BFLOAT16, UINT8, INT8
_ONNX_NOT_PARAM_INPUTS = {"BatchNormalization": {3, 4}, "Resize": {1, 2}, "Upsample": {1}}


def onnx_stored_params(path: Path) -> int:
    import onnx

    model = onnx.load(str(path))
    tensors: dict[str, Any] = {}
    excluded: set[str] = set()

    def walk(g: Any) -> None:
        for t in g.initializer:
            tensors.setdefault(t.name, t)
        for n in g.node:
            if n.op_type == "Constant":
                for a in n.attribute:
                    if a.name == "value":
                        tensors.setdefault(n.output[0], a.t)
            for i, name in enumerate(n.input):
                if i in _ONNX_NOT_PARAM_INPUTS.get(n.op_type, ()):
                    excluded.add(name)
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
                elif a.type == onnx.AttributeProto.GRAPHS:
                    for sub in a.graphs:
                        walk(sub)

    walk(model.graph)
    total = 0
    for name, t in tensors.items():
        numel = math.prod(t.dims)
        if t.data_type in _ONNX_PARAM_TYPES and numel >= 2 and name not in excluded:
            total += numel
    return total


_TFL_ITEMSIZE = {0: 4, 1: 2, 2: 4, 3: 1, 4: 8, 7: 2, 9: 1, 10: 8, 16: 2}  # float32, f16, i32, u8, i64, i16, i8, f64
_TFL_PARAM_TYPES = {0, 1, 3, 7, 9, 10, 16}  # float32/16/64, int8/uint8/int16/bfloat16-ish
_TFL_BIAS_INPUT = {"CONV_2D": 2, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 2, "TRANSPOSE_CONV": 3}


def tflite_stored_params(path: Path) -> int:
    import tflite

    model = tflite.Model.GetRootAsModel(path.read_bytes(), 0)
    builtin_names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if isinstance(v, int)}
    seen: set[int] = set()
    total = 0
    for s in range(model.SubgraphsLength()):
        sg = model.Subgraphs(s)
        bias: set[int] = set()
        for o in range(sg.OperatorsLength()):
            op = sg.Operators(o)
            code = model.OperatorCodes(op.OpcodeIndex())
            name = builtin_names.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "")
            slot = _TFL_BIAS_INPUT.get(name)
            if slot is not None and op.InputsLength() > slot and op.Inputs(slot) >= 0:
                bias.add(op.Inputs(slot))
        for i in range(sg.TensorsLength()):
            t = sg.Tensors(i)
            b = t.Buffer()
            if b == 0 or b in seen:
                continue
            buf = model.Buffers(b)
            nbytes = buf.DataLength() or (buf.Size() if hasattr(buf, "Size") else 0)
            if nbytes == 0 or t.Type() not in _TFL_ITEMSIZE:
                continue
            numel = nbytes // _TFL_ITEMSIZE[t.Type()]
            if (t.Type() in _TFL_PARAM_TYPES and numel >= 2) or (t.Type() == 2 and i in bias):
                seen.add(b)
                total += numel
    return total


def stored_params(path: Path, fmt: str) -> int:
    return onnx_stored_params(path) if fmt == "onnx" else tflite_stored_params(path)


# ---- the runtime's MACs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RuntimeMacs:
    by_family: Mapping[str, int]
    source: str  # what the figures were read from
    kernels: int  # executed kernels seen
    error: str = ""  # why there is no figure (then by_family is empty)

    @property
    def total(self) -> int:
        return sum(self.by_family.values())


def _ort_inputs(sess: Any, shapes: Mapping[str, Sequence[int]], values: Mapping[str, float]) -> dict[str, Any]:
    dtypes = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(double)": np.float64,
              "tensor(int64)": np.int64, "tensor(int32)": np.int32, "tensor(uint8)": np.uint8,
              "tensor(int8)": np.int8, "tensor(bool)": np.bool_}
    feed: dict[str, Any] = {}
    for i in sess.get_inputs():
        dtype = dtypes[i.type]
        if i.name in values:
            feed[i.name] = np.array(values[i.name], dtype=dtype)
            continue
        shape = shapes.get(i.name) or [d if isinstance(d, int) and d > 0 else 1 for d in i.shape]
        feed[i.name] = np.zeros(tuple(shape), dtype=dtype)
    return feed


def _shape(entry: Mapping[str, Sequence[int]]) -> list[int]:
    return [int(d) for d in next(iter(entry.values()))]


def _ort_node_macs(op: str, ins: list[list[int]], outs: list[list[int]]) -> int:
    if not outs or not ins:
        return 0
    out = math.prod(outs[0])
    if op in ("Conv", "ConvInteger"):
        return out * math.prod(ins[1][1:])
    if op == "QLinearConv":  # x, x_scale, x_zero_point, w, ...
        return out * math.prod(ins[3][1:])
    if op == "ConvTranspose":
        return math.prod(ins[0]) * math.prod(ins[1][1:])
    if op in ("MatMul", "MatMulInteger", "QLinearMatMul", "DynamicQuantizeMatMul", "MatMulIntegerToFloat"):
        a = ins[0]
        return out * (a[-1] if a else 1)
    if op == "Gemm":
        m, n = outs[0][0], outs[0][1]
        k = math.prod(ins[0]) // m if m else 0
        return m * n * k
    if op in ("LSTM", "GRU", "RNN"):
        x, w, r = ins[0], ins[1], ins[2]  # X [seq, batch, in] (layout 0), W [dirs, gates*H, in], R [dirs, gates*H, H]
        return x[0] * x[1] * w[0] * w[1] * (w[2] + r[2])
    if op == "DynamicQuantizeLSTM":  # W [dirs, in, 4H], R [dirs, H, 4H] (transposed)
        x, w, r = ins[0], ins[1], ins[2]
        return x[0] * x[1] * w[0] * w[2] * (w[1] + r[1])
    return 0


def ort_runtime_macs(path: Path, shapes: Mapping[str, Sequence[int]], values: Mapping[str, float]) -> RuntimeMacs:
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        so = ort.SessionOptions()
        so.enable_profiling = True
        so.profile_file_prefix = os.path.join(tmp, "ort")
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        so.intra_op_num_threads = 1
        so.inter_op_num_threads = 1
        so.log_severity_level = 3
        so.add_session_config_entry("session.disable_prepacking", "1")  # else prepacked weights leave the trace
        try:
            sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
            sess.run(None, _ort_inputs(sess, shapes, values))
        except Exception as e:  # the runtime refuses the model: no figure, said why
            return RuntimeMacs({}, "ONNX Runtime profiler", 0, f"{type(e).__name__}: {str(e)[:200]}")
        trace = json.loads(Path(sess.end_profiling()).read_text(encoding="utf-8"))
    by_family: dict[str, int] = defaultdict(int)
    kernels = 0
    for ev in trace:
        if ev.get("cat") != "Node" or not str(ev.get("name", "")).endswith("_kernel_time"):
            continue
        args = ev.get("args", {})
        op = args.get("op_name", "")
        kernels += 1
        ins = [next(iter(d.values())) for d in args.get("input_type_shape", [])]
        outs = [next(iter(d.values())) for d in args.get("output_type_shape", [])]
        if op in FAMILY:
            by_family[FAMILY[op]] += _ort_node_macs(op, ins, outs)
    return RuntimeMacs(dict(by_family), f"ONNX Runtime {ort.__version__} profiler trace (optimisations off)", kernels)


def _tfl_op_macs(op: str, shapes: list[list[int]], outs: list[list[int]]) -> int:
    if not outs:
        return 0
    out = math.prod(outs[0])
    if op == "CONV_2D":
        return out * math.prod(shapes[1][1:])
    if op == "DEPTHWISE_CONV_2D":
        return out * shapes[1][1] * shapes[1][2]
    if op == "CONV_3D":
        return out * math.prod(shapes[1][:4])
    if op == "TRANSPOSE_CONV":
        w = shapes[1]
        return math.prod(shapes[2]) * w[0] * w[1] * w[2]
    if op == "FULLY_CONNECTED":
        return out * shapes[1][1]
    if op == "BATCH_MATMUL":
        a, o = shapes[0], outs[0]
        return out * (a[-1] * a[-2] // o[-2])
    return 0


def litert_runtime_macs(path: Path, shapes: Mapping[str, Sequence[int]]) -> RuntimeMacs:
    from ai_edge_litert import interpreter as litert

    source = "LiteRT interpreter tensor shapes after allocate+invoke (_get_ops_details; no Python profiler)"
    try:
        it = litert.Interpreter(model_path=str(path),
                                experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        for d in it.get_input_details():
            if d["name"] in shapes:
                it.resize_tensor_input(d["index"], list(shapes[d["name"]]))
        it.allocate_tensors()
        for d in it.get_input_details():
            it.set_tensor(d["index"], np.zeros(d["shape"], dtype=d["dtype"]))
        it.invoke()
    except Exception as e:  # e.g. custom ops the stock interpreter cannot resolve
        return RuntimeMacs({}, source, 0, f"{type(e).__name__}: {str(e).strip().splitlines()[0][:200]}")
    tshape: dict[int, list[int]] = {}
    for d in it.get_tensor_details():
        tshape[d["index"]] = [int(x) for x in d["shape"]]
    by_family: dict[str, int] = defaultdict(int)
    ops = it._get_ops_details()
    for op in ops:
        name = op["op_name"]
        if name in FAMILY:
            ins = [tshape.get(int(i), []) for i in op["inputs"]]
            outs = [tshape.get(int(i), []) for i in op["outputs"]]
            by_family[FAMILY[name]] += _tfl_op_macs(name, ins, outs)
    return RuntimeMacs(dict(by_family), source, len(ops))


def runtime_macs(path: Path, fmt: str, shapes: Mapping[str, Sequence[int]], values: Mapping[str, float]) -> RuntimeMacs:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if fmt == "onnx":
            return ort_runtime_macs(path, shapes, values)
        return litert_runtime_macs(path, shapes)


def not_counted_ops(profile: Any) -> dict[str, int]:
    """The ops edgeprof left uncounted, by op name (summed over reasons), sorted."""
    out: dict[str, int] = defaultdict(int)
    for x in profile.not_counted:
        out[x.op] += x.count
    return dict(sorted(out.items()))


def edgeprof_macs_by_family(profile: Any, cheaper: bool = False) -> dict[str, int]:
    """edgeprof's MACs summed by op family (ops outside the families under "other"), along the
    path its totals follow (an If whose condition is not known statically at its costlier branch),
    or with ``cheaper`` along the other one (the If's other branch, an early-exit Loop's body 0 times)."""
    out: dict[str, int] = defaultdict(int)
    for layer in profile.layers:
        skip = (layer.range_group and layer.in_totals) if cheaper else not layer.in_totals
        if layer.macs and not skip:
            out[FAMILY.get(layer.op, "other")] += layer.macs
    return dict(out)


def edgeprof_macs_paths(profile: Any) -> list[tuple[int, dict[str, int]]]:
    """(total MACs, MACs by family) of each path edgeprof reports: the totals' path and, with
    control flow not known statically, the cheaper one (the runtime runs one of them)."""
    paths = [(profile.totals.macs, edgeprof_macs_by_family(profile))]
    if profile.totals.macs_min is not None:
        paths.append((profile.totals.macs_min, edgeprof_macs_by_family(profile, cheaper=True)))
    return paths


# ---- the table of docs/benchmarks.md ------------------------------------------------------------


def profile_entry(entry: Any, corpus_dir: Path) -> Any:
    import edgeprof

    return edgeprof.profile(corpus_dir / entry.filename, input_shapes=dict(entry.input_shapes) or None,
                            values=dict(entry.values) or None, memory=False)


def corpus_table(corpus: Sequence[Any], packages: Mapping[str, Any], corpus_dir: Path) -> str:
    import edgeprof

    rows = [
        "| model | package | file | format | ops | nodes | MFLOPs | MMACs | params | stored params | "
        "not counted | runtime MMACs | MACs check |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |",
    ]
    counted = params_ok = macs_ok = n = 0
    for e in corpus:
        path = corpus_dir / e.filename
        pkg = packages[e.package]
        head = f"| {e.name} | {pkg.name} {pkg.version} | `{e.member.rsplit('/', 1)[-1]}` | {e.format} |"
        if not path.is_file():
            rows.append(f"{head} – | – | – | – | – | – | not fetched | – | – |")
            continue
        n += 1
        stored = stored_params(path, e.format)
        rt = runtime_macs(path, e.format, e.input_shapes, e.values)
        try:
            p = profile_entry(e, corpus_dir)
        except Exception as exc:
            rows.append(f"{head} – | – | – | – | – | {stored:,} | load failed: {type(exc).__name__} | "
                        f"{_mmacs(rt)} | – |")
            continue
        nc = ", ".join(f"{op} x{k}" for op, k in not_counted_ops(p).items()) or "none"
        counted += not p.not_counted
        ok_params = abs(p.totals.params - stored) <= 0.01 * max(stored, 1)
        params_ok += ok_params
        mark = "" if ok_params else " (!)"
        if rt.error:
            check = f"n/a: {rt.error}"
        elif rt.total == p.totals.macs:
            check = "equal"
            macs_ok += 1
        elif rt.total == p.totals.macs_min:
            check = "equal (the cheaper branch of an If the runtime took)"
            macs_ok += 1
        else:
            check = f"differs by {p.totals.macs - rt.total:+,}"
        ops = len({layer.op for layer in p.layers})
        rows.append(
            f"{head} {ops} | {len(p.layers)} | {p.totals.flops / 1e6:,.2f} | {p.totals.macs / 1e6:,.2f} | "
            f"{p.totals.params:,}{mark} | {stored:,} | {nc} | {_mmacs(rt)} | {check} |"
        )
    summary = (f"{n} models profiled: {counted} with every op counted, {params_ok} with params within 1% of "
               f"the stored elements, {macs_ok} with MACs equal to the runtime's.")
    from importlib.metadata import version

    soft = ", ".join(f"{m} {version(m)}" for m in ("onnx", "onnxruntime", "ai-edge-litert"))
    lines = [
        "Command: `python scripts/fetch_corpus.py && python scripts/fetch_corpus.py --table --write-docs`  ",
        f"Software: edgeprof {edgeprof.__version__}, {soft}  ",
        f"Result: {summary}",
    ]
    return "\n".join([*lines, "", *rows])


def _mmacs(rt: RuntimeMacs) -> str:
    return "–" if rt.error else f"{rt.total / 1e6:,.2f}"
