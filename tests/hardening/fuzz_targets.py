"""Fuzz targets shared by the fixed-seed suite (``tests/hardening/test_fuzz_*.py``) and the long
run (``scripts/fuzz_long.py``).

Each target is a hypothesis strategy of inputs plus a ``check_*`` function that runs one input
through the real code path and raises :class:`FuzzFailure` when the outcome is not allowed.
Allowed outcomes, everywhere:

* a result (a :class:`~edgeprof.report.model.Profile` with non-negative integer counts, an
  :class:`~edgeprof.ops.registry.OpCost` with non-negative integer fields, exit code 0 or 1);
* a typed edgeprof error (:mod:`edgeprof.errors`) whose message is ONE line and is not the
  catch-all "cannot load the model (SomeError: ...)" wrapper, which means an unexpected
  exception leaked from a frontend (a bug to fix, even though the user sees one line).

Seed models are built in code (and ``models/demo.onnx``, which the repo ships).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from hypothesis import strategies as st
from onnx import TensorProto, helper

from edgeprof.errors import EdgeprofError
from edgeprof.report.model import Profile

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "models" / "demo.onnx"
LEAK_MARK = "cannot load the model ("  # the ONNX frontend's catch-all wrapper: an unexpected exception


class FuzzFailure(AssertionError):
    """An outcome the hardening contract does not allow (an untyped exception, a multi-line
    message, a negative count, a traceback, an unexpected exit code)."""


# ---- outcome checks ----------------------------------------------------------------------------


def check_error(exc: BaseException, what: str) -> None:
    """A typed edgeprof error with one line that is not the catch-all wrapper."""
    if not isinstance(exc, EdgeprofError):
        raise FuzzFailure(f"{what}: untyped {type(exc).__name__}: {exc}") from exc
    message = str(exc)
    if "\n" in message or not message.strip():
        raise FuzzFailure(f"{what}: the message is not one line: {message!r}")
    if LEAK_MARK in message:
        raise FuzzFailure(f"{what}: an unexpected exception leaked through the wrapper: {message}")


def check_profile(p: Profile, what: str) -> None:
    """Every count of a Profile is a non-negative Python int."""
    t = p.totals
    for name in ("flops", "int_ops", "macs", "params", "weight_bytes", "bytes_read", "bytes_written", "flops_max",
                 "macs_max"):
        v = getattr(t, name)
        if type(v) is not int or v < 0:
            raise FuzzFailure(f"{what}: totals.{name} = {v!r} ({type(v).__name__})")
    if t.flops_max < t.flops or t.macs_max < t.macs:
        raise FuzzFailure(f"{what}: max below the count: {t}")
    from edgeprof.ops.registry import FORMULA_FAILED

    for nc in p.not_counted:
        if FORMULA_FAILED in nc.reason:
            raise FuzzFailure(f"{what}: a formula failed on node {nc.example!r}: {nc.reason}")
    for layer in p.layers:
        for name in ("flops", "int_ops", "macs", "bytes_read", "bytes_written", "params", "calls"):
            v = getattr(layer, name)
            if type(v) is not int or v < 0:
                raise FuzzFailure(f"{what}: layer {layer.name!r}.{name} = {v!r} ({type(v).__name__})")


def run_profile(call: Callable[[], Profile], what: str) -> str:
    """Run ``call``; return "profile" or "error" (the outcome class), or raise FuzzFailure."""
    try:
        p = call()
    except RecursionError as exc:
        raise FuzzFailure(f"{what}: RecursionError escaped") from exc
    except Exception as exc:
        check_error(exc, what)
        return "error"
    check_profile(p, what)
    return "profile"


# ---- seed ONNX models ------------------------------------------------------------------------


def _vi(name: str, shape: list[int] | None, elem: int = TensorProto.FLOAT) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, elem, shape)


def _model(nodes: list[onnx.NodeProto], inputs: list[onnx.ValueInfoProto], outputs: list[onnx.ValueInfoProto],
           inits: list[TensorProto] = (), name: str = "g") -> onnx.ModelProto:  # type: ignore[assignment]
    g = helper.make_graph(nodes, name, inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="edgeprof-fuzz")
    m.ir_version = 8
    return m


def _t(name: str, arr: np.ndarray) -> TensorProto:
    return onnx.numpy_helper.from_array(arr, name)


def conv_model() -> onnx.ModelProto:
    """Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm, symbolic batch."""
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], name="/conv/Conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="/act/Relu"),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="/pool"),
        helper.make_node("Flatten", ["p"], ["f"], axis=1),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="/fc/Gemm", transB=1),
    ]
    inits = [_t("w", rng.standard_normal((4, 3, 3, 3)).astype(np.float32)), _t("b", np.zeros(4, np.float32)),
             _t("fw", rng.standard_normal((2, 4)).astype(np.float32)), _t("fb", np.zeros(2, np.float32))]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])
    return _model(nodes, [x], [_vi("y", None)], inits, "conv")


def control_flow_model() -> onnx.ModelProto:
    """A Loop (trip count 3) whose body holds an If on a constant, plus a Reshape by a shape
    initializer: subgraphs, constants and shape math for the mutator to damage."""
    then_g = helper.make_graph([helper.make_node("MatMul", ["acc_in", "w"], ["t"])], "then", [], [_vi("t", None)])
    else_g = helper.make_graph([helper.make_node("Relu", ["acc_in"], ["e"])], "else", [], [_vi("e", None)])
    body = helper.make_graph(
        [helper.make_node("Constant", [], ["flag"], value=helper.make_tensor("flag", TensorProto.BOOL, [], [True])),
         helper.make_node("If", ["flag"], ["acc_out"], name="inner", then_branch=then_g, else_branch=else_g),
         helper.make_node("Identity", ["c"], ["c_out"])],
        "body",
        [_vi("i", [], TensorProto.INT64), _vi("c", [], TensorProto.BOOL), _vi("acc_in", None)],
        [_vi("c_out", [], TensorProto.BOOL), _vi("acc_out", None)],
    )
    nodes = [
        helper.make_node("Constant", [], ["M"], value=helper.make_tensor("M", TensorProto.INT64, [], [3])),
        helper.make_node("Loop", ["M", "", "x"], ["h"], name="loop", body=body),
        helper.make_node("Reshape", ["h", "shape"], ["y"], name="reshape"),
    ]
    inits = [_t("w", np.ones((4, 4), np.float32)), _t("shape", np.array([2, 2], np.int64))]
    return _model(nodes, [_vi("x", [1, 4])], [_vi("y", None)], inits, "control")


def external_model(folder: Path) -> Path:
    """MatMul by a 128x64 weight and a Reshape by a small shape tensor, both stored in
    ``weights.bin`` beside ``model.onnx`` in ``folder``."""
    w = np.arange(128 * 64, dtype=np.float32).reshape(128, 64)
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Reshape", ["y", "shape"], ["z"])]
    m = _model(nodes, [_vi("x", [1, 128])], [_vi("z", None)], [_t("w", w), _t("shape", np.array([8, 8], np.int64))],
               "ext")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    onnx.save_model(m, str(path), save_as_external_data=True, all_tensors_to_one_file=True, location="weights.bin",
                    size_threshold=0)
    return path


@dataclass(frozen=True)
class Seed:
    """One seed file: its bytes, the byte positions worth damaging (the payload of large
    weights excluded: a flip there changes a weight value only) and files to lay beside it."""

    name: str
    data: bytes
    positions: tuple[int, ...]
    extra: tuple[tuple[str, bytes], ...] = ()


def _structure_positions(data: bytes, model: onnx.ModelProto) -> tuple[int, ...]:
    """Byte offsets of ``data`` outside the raw payloads of tensors bigger than 64 bytes."""
    skip = np.zeros(len(data), dtype=bool)
    for t in model.graph.initializer:
        raw = t.raw_data
        if len(raw) > 64:
            at = data.find(raw)
            if at >= 0:
                skip[at + 8 : at + len(raw) - 8] = True  # keep the edges: the length prefix neighbourhood
    return tuple(int(i) for i in np.flatnonzero(~skip))


@cache
def seeds() -> tuple[Seed, ...]:
    out = []
    demo = DEMO.read_bytes()
    out.append(Seed("demo", demo, _structure_positions(demo, onnx.load_from_string(demo))))
    for name, m in (("conv", conv_model()), ("control_flow", control_flow_model())):
        data = m.SerializeToString()
        out.append(Seed(name, data, tuple(range(len(data)))))
    with tempfile.TemporaryDirectory() as tmp:
        path = external_model(Path(tmp))
        data = path.read_bytes()
        out.append(Seed("external", data, tuple(range(len(data))), (("weights.bin", (Path(tmp) / "weights.bin").read_bytes()),)))
    return tuple(out)


# ---- mutations -------------------------------------------------------------------------------

# (kind, position index (into the seed's positions), byte value, length)
Mutation = tuple[str, int, int, int]

mutations = st.lists(
    st.tuples(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "varint"]),
              st.integers(0, 2**31), st.integers(0, 255), st.integers(1, 16)),
    min_size=1, max_size=6,
)
seed_index = st.integers(0, 3)
_INTERESTING = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0x08, 0x0A, 0x12, 0x1A, 0x22, 0x3A)


def mutate(seed: Seed, edits: list[Mutation]) -> bytes:
    """Apply byte flips, sets, insertions, deletions, truncations and varint blow-ups."""
    data = bytearray(seed.data)
    for kind, where, value, length in edits:
        if not data:
            break
        pos = seed.positions[where % len(seed.positions)] % len(data)
        if kind == "flip":
            data[pos] ^= 1 << (value % 8)
        elif kind == "set":
            data[pos] = _INTERESTING[value % len(_INTERESTING)] if value < 128 else value
        elif kind == "insert":
            data[pos:pos] = bytes([value]) * length
        elif kind == "delete":
            del data[pos : pos + length]
        elif kind == "truncate":
            del data[max(pos, 1):]
        else:  # a length or number replaced by a huge varint (a claimed size of gigabytes)
            data[pos : pos + 1] = b"\xff\xff\xff\xff\x0f" if value % 2 else b"\xff\xff\xff\xff\xff\xff\xff\xff\x7f"
    return bytes(data)


@contextmanager
def seed_folder(seed: Seed, data: bytes) -> Iterator[Path]:
    """A temporary folder holding the damaged model (and the seed's side files)."""
    tmp = Path(tempfile.mkdtemp(prefix="edgeprof-fuzz-"))
    try:
        for name, extra in seed.extra:
            (tmp / name).write_bytes(extra)
        path = tmp / "model.onnx"
        path.write_bytes(data)
        yield path
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_onnx_bytes(index: int, edits: list[Mutation]) -> str:
    """Profile a damaged seed model: a Profile or a one-line typed error."""
    import edgeprof

    seed = seeds()[index % len(seeds())]
    data = mutate(seed, edits)
    with seed_folder(seed, data) as path:
        before = path.read_bytes()
        outcome = run_profile(lambda: edgeprof.profile(path), f"onnx[{seed.name}] {edits}")
        if path.read_bytes() != before:
            raise FuzzFailure(f"onnx[{seed.name}] {edits}: the model file changed")
        return outcome


# ---- ONNX functions that call each other ------------------------------------------------------

# One function body: a chain of steps, each a Relu (-1), a call of function j (j >= 0), or an If
# whose then-branch calls function j (("if", j)). Calls may form cycles (refused).
FunctionStep = int | tuple[str, int]
function_graphs = st.tuples(
    st.lists(st.lists(st.one_of(st.integers(-1, 4), st.tuples(st.just("if"), st.integers(0, 4))), max_size=4),
             min_size=1, max_size=5),
    st.sampled_from([40, 300, 5000]),
)


def _steps(steps: list[FunctionStep], n_functions: int, source: str, sink: str) -> list[onnx.NodeProto]:
    nodes: list[onnx.NodeProto] = []
    prev = source
    for k, step in enumerate(steps):
        out = sink if k == len(steps) - 1 else f"{sink}_{k}"
        if isinstance(step, tuple):
            j = step[1] % n_functions
            cond = f"{out}_cond"
            then_g = helper.make_graph([helper.make_node(f"F{j}", [prev], [f"{out}_t"], domain="local")], "then", [],
                                       [_vi(f"{out}_t", None)])
            else_g = helper.make_graph([helper.make_node("Relu", [prev], [f"{out}_e"])], "else", [],
                                       [_vi(f"{out}_e", None)])
            nodes.append(helper.make_node("Constant", [], [cond], value=helper.make_tensor("c", TensorProto.BOOL, [],
                                                                                             [True])))
            nodes.append(helper.make_node("If", [cond], [out], then_branch=then_g, else_branch=else_g))
        elif step < 0:
            nodes.append(helper.make_node("Relu", [prev], [out]))
        else:
            nodes.append(helper.make_node(f"F{step % n_functions}", [prev], [out], domain="local"))
        prev = out
    if not steps:
        nodes.append(helper.make_node("Identity", [source], [sink]))
    return nodes


def function_model(bodies: list[list[FunctionStep]]) -> onnx.ModelProto:
    """Functions F0..Fn-1 with the given bodies; the main graph calls F0 once."""
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("local", 1)]
    fns = [helper.make_function("local", f"F{i}", ["a"], ["b"], _steps(body, len(bodies), "a", "b"), opsets)
           for i, body in enumerate(bodies)]
    g = helper.make_graph([helper.make_node("F0", ["x"], ["y"], domain="local")], "g", [_vi("x", [1, 4])],
                          [_vi("y", None)])
    m = helper.make_model(g, opset_imports=opsets, functions=fns, producer_name="edgeprof-fuzz")
    m.ir_version = 8
    return m


def _inlined_nodes(bodies: list[list[FunctionStep]]) -> int | None:
    """The oracle: nodes after inlining by hand (None for a cycle anywhere); subgraph nodes included."""
    n = len(bodies)

    def count(i: int, path: tuple[int, ...]) -> int | None:
        if i in path:
            return None
        total = 0
        for step in bodies[i] or [-1]:
            if isinstance(step, tuple):
                inner = count(step[1] % n, (*path, i))
                if inner is None:
                    return None
                total += 2 + inner + 1  # Constant, If, the then-branch's expansion, the else-branch's Relu
            elif step < 0:
                total += 1
            else:
                inner = count(step % n, (*path, i))
                if inner is None:
                    return None
                total += inner
        return total

    if any(count(i, ()) is None for i in range(n)):  # onnx refuses a cycle even among unused functions
        return None
    return count(0, ())


@contextmanager
def node_limit(limit: int) -> Iterator[None]:
    old = os.environ.get("EDGEPROF_MAX_NODES")
    os.environ["EDGEPROF_MAX_NODES"] = str(limit)
    try:
        yield
    finally:
        if old is None:
            del os.environ["EDGEPROF_MAX_NODES"]
        else:
            os.environ["EDGEPROF_MAX_NODES"] = old


def check_onnx_functions(bodies: list[list[FunctionStep]], limit: int) -> str:
    """Functions calling each other (chains, fan-out, cycles, calls inside If branches): the
    predicted expanded node count is exact (equal to a hand inlining); a model above the node
    limit is refused before inlining, a cycle is refused, anything else gives a profile."""
    import edgeprof
    from edgeprof.errors import ModelLoadError
    from edgeprof.frontends.onnx._expansion import RecursiveFunction, expanded_node_count

    model = function_model(bodies)
    what = f"functions {bodies} limit {limit}"
    expected = _inlined_nodes(bodies)
    try:
        predicted: int | None = expanded_node_count(model)
    except RecursiveFunction:
        predicted = None
    if predicted != expected:
        raise FuzzFailure(f"{what}: predicted {predicted} nodes after inlining, expected {expected}")
    with node_limit(limit):
        outcome = run_profile(lambda: edgeprof.profile(model), what)
        if outcome == "error":
            try:
                edgeprof.profile(model)
            except ModelLoadError as exc:
                refused = "calls itself" in str(exc) or "once its functions are inlined" in str(exc)
                if refused != (expected is None or expected > limit):
                    raise FuzzFailure(f"{what}: unexpected refusal or error: {exc}") from None
            except Exception as exc:  # a typed error that is not a refusal: must not be one of ours
                if expected is None or expected > limit:
                    raise FuzzFailure(f"{what}: not refused up front: {exc}") from None
        elif expected is None or expected > limit:
            raise FuzzFailure(f"{what}: profiled although it expands to {expected} nodes (limit {limit})")
    return outcome


# ---- TFLite subgraphs shared by several IF / CALL_ONCE operators ------------------------------

# One subgraph: a chain of steps, each a RELU (-1), an IF running subgraphs (a, b) (("if", a, b))
# or a CALL_ONCE running subgraph a (("once", a)). Subgraph 0 is the main graph; indices wrap
# onto 1..n-1, so subgraphs are shared and may run themselves (refused).
TfliteStep = int | tuple[str, int] | tuple[str, int, int]
tflite_subgraph_graphs = st.tuples(
    st.lists(st.lists(st.one_of(st.just(-1), st.tuples(st.just("if"), st.integers(0, 5), st.integers(0, 5)),
                                st.tuples(st.just("once"), st.integers(0, 5))), max_size=4),
             min_size=2, max_size=6),
    st.sampled_from([30, 300, 5000]),
)


def _wrap(index: int, n: int) -> int:
    return 1 + index % (n - 1)


def shared_subgraph_tflite(bodies: list[list[TfliteStep]]) -> bytes:
    """A .tflite file with one subgraph per body (see TfliteStep), every tensor 1x4 float; an IF's
    condition is a constant true."""
    import numpy as np

    from tests.frontends.tflite_files import builders

    b = builders()
    n = len(bodies)
    true = np.array([True]).tobytes()
    subgraphs = []
    for k, body in enumerate(bodies):
        tensors = [b.Tensor("x", (1, 4)), b.Tensor("c", (1,), b.BOOL, data=true)]
        ops = []
        last = 0
        for step in body:
            if isinstance(step, tuple) and step[0] == "once":
                ops.append(b.Op("CALL_ONCE", (), (), ("CallOnceOptions", {"InitSubgraphIndex": _wrap(step[1], n)})))
                continue
            tensors.append(b.Tensor(f"s{len(tensors)}", (1, 4)))
            out = len(tensors) - 1
            if isinstance(step, tuple):
                then_i, else_i = _wrap(step[1], n), _wrap(int(step[2]), n)  # type: ignore[misc]
                ops.append(b.Op("IF", (1, last), (out,), ("IfOptions", {"ThenSubgraphIndex": then_i,
                                                                        "ElseSubgraphIndex": else_i})))
            else:
                ops.append(b.Op("RELU", (last,), (out,)))
            last = out
        subgraphs.append(b.Subgraph(tensors, (0,), (last,), ops, "main" if k == 0 else f"sg{k}"))
    return bytes(b.build(subgraphs))


def tflite_expanded_operators(bodies: list[list[TfliteStep]]) -> int | None:
    """The oracle: operators met walking from the main graph into every IF branch and CALL_ONCE
    at each call site (None when a subgraph reachable from the main graph runs itself)."""
    n = len(bodies)

    def count(k: int, path: frozenset[int]) -> int | None:
        total = 0
        for step in bodies[k]:
            total += 1
            if isinstance(step, tuple):
                for j in step[1:]:
                    sub = _wrap(int(j), n)
                    if sub in path or sub == k:
                        return None
                    inner = count(sub, path | {k})
                    if inner is None:
                        return None
                    total += inner
        return total

    return count(0, frozenset())


def check_tflite_shared_subgraphs(bodies: list[list[TfliteStep]], limit: int) -> str:
    """Shared subgraphs: the predicted expanded operator count is exact; above the node limit
    the model is refused before any graph is built, a subgraph that runs itself is refused, and
    anything else gives a profile."""
    import edgeprof
    from edgeprof.errors import EdgeprofError
    from edgeprof.frontends.tflite._limits import expanded_operator_count
    from edgeprof.frontends.tflite._read import read_model

    data = shared_subgraph_tflite(bodies)
    what = f"tflite subgraphs {bodies} limit {limit}"
    expected = tflite_expanded_operators(bodies)
    try:
        predicted: int | None = expanded_operator_count(read_model(data), "m")
    except EdgeprofError:
        predicted = None
    if predicted != expected:
        raise FuzzFailure(f"{what}: predicted {predicted} operators, expected {expected}")
    with tempfile.TemporaryDirectory(prefix="edgeprof-fuzz-tflite-") as tmp, node_limit(limit):
        path = Path(tmp) / "m.tflite"
        path.write_bytes(data)
        try:
            p = edgeprof.profile(path, search_order=False)
        except EdgeprofError as exc:
            check_error(exc, what)
            refused = "calls itself" in str(exc) or "at every IF/WHILE/CALL_ONCE" in str(exc)
            if not refused or (expected is not None and expected <= limit):
                raise FuzzFailure(f"{what}: unexpected error: {exc}") from None
            return "error"
        except Exception as exc:
            raise FuzzFailure(f"{what}: untyped {type(exc).__name__}: {exc}") from exc
        if expected is None or expected > limit:
            raise FuzzFailure(f"{what}: profiled although it expands to {expected} operators (limit {limit})")
        check_profile(p, what)
        return "profile"


# ---- HF config.json ------------------------------------------------------------------------

HF_BASES: tuple[dict[str, Any], ...] = (
    {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 32, "intermediate_size": 64,
     "num_attention_heads": 4, "num_key_value_heads": 2, "num_hidden_layers": 1, "vocab_size": 64,
     "max_position_embeddings": 64},
    {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 32, "intermediate_size": 64,
     "num_attention_heads": 4, "num_hidden_layers": 1, "vocab_size": 64, "max_position_embeddings": 64,
     "type_vocab_size": 2},
    {"architectures": ["ViTModel"], "model_type": "vit", "hidden_size": 32, "intermediate_size": 64,
     "num_attention_heads": 4, "num_hidden_layers": 1, "image_size": 32, "patch_size": 16, "num_channels": 3},
)
HF_FIELDS = ("architectures", "model_type", "hidden_size", "intermediate_size", "num_attention_heads",
             "num_key_value_heads", "num_hidden_layers", "vocab_size", "max_position_embeddings", "head_dim",
             "image_size", "patch_size", "num_channels", "type_vocab_size", "torch_dtype", "dtype", "auto_map",
             "is_encoder_decoder", "is_decoder", "tie_word_embeddings", "rope_scaling", "num_experts",
             "hidden_act", "layer_norm_eps", "rms_norm_eps", "text_config")

_scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(-(2**70), 2**70), st.sampled_from([0, -1, 1, 2, 3, 7, 2**31, 2**40, 2**62, 2**63, 2**64, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.sampled_from(["float16", "bfloat16", "int8", "llama", "bert", "../../etc/passwd", "os.system", "gelu", "",
                     "LlamaForCausalLM", "__import__('os')"]),
)
json_values = st.recursive(
    _scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner,
                                                                                   max_size=3)),
    max_leaves=6,
)
hf_edits = st.lists(
    st.tuples(st.sampled_from(["set", "delete", "add"]), st.sampled_from(HF_FIELDS), json_values), min_size=1,
    max_size=4,
)
hf_seq_len = st.sampled_from([None, 1, 4, 2**40])


def hf_config(base: int, edits: list[tuple[str, str, Any]]) -> dict[str, Any]:
    config = dict(HF_BASES[base % len(HF_BASES)])
    for kind, key, value in edits:
        if kind == "delete":
            config.pop(key, None)
        else:
            config[key] = value
    return config


def _json_text(config: dict[str, Any]) -> str:
    # Python's json writes NaN/Infinity (as transformers' own files sometimes hold).
    return json.dumps(config, allow_nan=True)


def check_hf_config(base: int, edits: list[tuple[str, str, Any]], seq_len: int | None) -> str:
    """Profile a random config.json: a Profile or a one-line typed error."""
    import edgeprof

    config = hf_config(base, edits)
    tmp = Path(tempfile.mkdtemp(prefix="edgeprof-fuzz-hf-"))
    try:
        path = tmp / "config.json"
        path.write_text(_json_text(config))
        options: dict[str, Any] = {"memory": False}
        if seq_len is not None:
            options["seq_len"] = seq_len
        return run_profile(lambda: edgeprof.profile(path, **options), f"hf {_short(config)} seq_len={seq_len}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# ---- CLI arguments ------------------------------------------------------------------------

CLI_COMMANDS = ("profile", "ops", "compare", "check", "devices", "bench", "validate")
_FLAG_VALUES: dict[str, Any] = {
    "--input": st.sampled_from(["1x3x8x8", "x=2x3x8x8", "N=1", "1x3xx8", "0x3", "-1x3x8x8", "x=", "=1x2",
                                "1x" * 40 + "1", str(2**62), str(2**62 + 1), "y=1x3x8x8", "1x3x8x8x8", "١x3x8x8"]),
    "--dim": st.sampled_from(["N=2", "N=0", "N=-1", "N=x", "=3", "N", "batch=8", f"N={2**62}", f"N={2**63}",
                              "N=2 ", "N=1e3"]),
    "--value": st.sampled_from(["x=1", "x=nan", "x=inf", "x=", "x=1,2,3", "=1", "cond=1", "x=1e400", "x=a"]),
    "--format": st.sampled_from(["table", "json", "csv", "md", "html", "xml", ""]),
    "--top": st.sampled_from(["0", "1", "5", "-1", "x", "99999999999999999999"]),
    "--by-module": st.sampled_from(["1", "2", "0", "-3", "x"]),
    "--seq-len": st.sampled_from(["1", "8", "0", "x"]),
    "--measure-runs": st.sampled_from(["1", "0", "x"]),
    "--measure-timeout": st.sampled_from(["0", "x", "-5"]),
    "--device": st.sampled_from(["rpi4", "nope", "host", "", "../x"]),
    "--devices-file": st.sampled_from(["MISSING", "MODEL", "TEXT", "/dev/null"]),
    "--max-flops": st.sampled_from(["2G", "1", "0", "-1", "x", "1e400", "nan", "1K", "1.5M"]),
    "--max-macs": st.sampled_from(["1G", "x", "-3"]),
    "--max-params": st.sampled_from(["5M", "0", "inf"]),
    "--max-size-mb": st.sampled_from(["10", "0.001", "-1", "nan"]),
    "--max-peak-mb": st.sampled_from(["10", "x"]),
    "--budget": st.sampled_from(["MISSING", "TEXT", "MODEL", "BUDGET"]),
    "--runs": st.sampled_from(["0", "x", "-1"]),
    "--threads": st.sampled_from(["0", "x"]),
    "--max-time": st.sampled_from(["0", "x"]),
    "-o": st.sampled_from(["OUT", "MODEL", "MISSING_DIR/out.txt", "DIR", "LINK_TO_MODEL", ""]),
}
_SWITCHES = ("--strict", "--no-color", "--by-operator", "--no-memory", "--debug", "--help", "--version", "--nope",
             "-x", "--")
_MODELS = ("MODEL", "MISSING", "DIR", "TEXT", "CKPT", "EMPTY", "TRUNCATED", "os:getcwd", "no_such_mod:x", "-",
           "", "MODEL_WITH_SPACE", "CUSTOM_OP")

cli_argv = st.tuples(
    st.sampled_from(CLI_COMMANDS),
    st.lists(st.sampled_from(_MODELS), min_size=0, max_size=2),
    st.lists(st.one_of(st.sampled_from(_SWITCHES),
                       st.sampled_from(sorted(_FLAG_VALUES)).flatmap(lambda f: st.tuples(st.just(f), _FLAG_VALUES[f]))),
             max_size=5),
)


@dataclass(frozen=True)
class CliFiles:
    """The files the CLI fuzzer's placeholders stand for (all in one temporary folder)."""

    folder: Path

    def resolve(self, token: str) -> str:
        f = self.folder
        table = {
            "MODEL": f / "model.onnx", "MISSING": f / "missing.onnx", "DIR": f / "adir", "TEXT": f / "notes.onnx",
            "CKPT": f / "weights.pt", "EMPTY": f / "empty.onnx", "TRUNCATED": f / "truncated.onnx",
            "MODEL_WITH_SPACE": f / "a model.onnx", "CUSTOM_OP": f / "custom.onnx", "OUT": f / "out" / "report.txt",
            "LINK_TO_MODEL": f / "link.onnx", "BUDGET": f / "budget.toml",
        }
        if token in table:
            return str(table[token])
        if token.startswith("MISSING_DIR/"):
            return str(f / "no" / "such" / token.split("/", 1)[1])
        return token

    def protected(self, models: list[str] | None = None) -> dict[Path, bytes]:
        """The model files whose bytes no command may change: those the command line names as
        its models (``models``, the positional arguments), else every model-like file. (An ``-o``
        through a symlink to a file the command does not read replaces that file: that is the
        user's explicit target, see report/output.py.)"""
        names = ("model.onnx", "notes.onnx", "weights.pt", "empty.onnx", "truncated.onnx", "a model.onnx",
                 "custom.onnx", "budget.toml")
        paths = [self.folder / n for n in names]
        if models is not None:
            given = {os.path.realpath(m) for m in models if m}
            paths = [p for p in paths if os.path.realpath(p) in given]
        return {p: p.read_bytes() for p in paths}


def make_cli_files(folder: Path) -> CliFiles:
    folder.mkdir(parents=True, exist_ok=True)
    data = conv_model().SerializeToString()
    (folder / "model.onnx").write_bytes(data)
    (folder / "a model.onnx").write_bytes(data)
    (folder / "truncated.onnx").write_bytes(data[: len(data) // 2])
    (folder / "notes.onnx").write_text("not a model\n")
    (folder / "weights.pt").write_bytes(b"\x80\x04K\x01.")
    (folder / "empty.onnx").write_bytes(b"")
    (folder / "adir").mkdir(exist_ok=True)
    (folder / "out").mkdir(exist_ok=True)
    (folder / "budget.toml").write_text('[budget]\nmax_flops = "2G"\n')
    custom = _model([helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Mystery", ["r"], ["y"], domain="x.y")],
                    [_vi("x", [1, 4])], [_vi("y", [1, 4])])
    custom.opset_import.append(helper.make_opsetid("x.y", 1))
    (folder / "custom.onnx").write_bytes(custom.SerializeToString())
    link = folder / "link.onnx"
    if not link.exists():
        link.symlink_to(folder / "model.onnx")
    return CliFiles(folder)


def cli_args(files: CliFiles, command: str, models: list[str], flags: list[Any]) -> list[str]:
    argv = [command, *(files.resolve(m) for m in models)]
    for flag in flags:
        if isinstance(flag, tuple):
            argv += [flag[0], files.resolve(flag[1])]
        else:
            argv.append(flag)
    return argv


def slow_argv(argv: list[str]) -> bool:
    """Command lines that would really run or time a model (seconds each): left to the CLI
    tests of those commands, not fuzzed."""
    if "--help" in argv or "--version" in argv:
        return False
    return "--measure" in argv or (argv[0] in ("bench", "validate") and not any(
        a in argv for a in ("--runs", "--threads", "--max-time", "--nope", "-x")))


# ---- the op registry: OpCall level ----------------------------------------------------------

_DTYPES = ("float32", "float16", "bfloat16", "int8", "uint8", "int32", "int64", "bool", "float64", "int4", "string")
_ATTR_NAMES = ("axis", "axes", "group", "kernel_shape", "pads", "strides", "dilations", "transA", "transB", "alpha",
               "beta", "epsilon", "keepdims", "mode", "auto_pad", "ceil_mode", "count_include_pad", "num_heads",
               "direction", "hidden_size", "layout", "output_padding", "output_shape", "perm", "split", "to",
               "noop_with_empty_axes", "select_last_index", "p", "blocksize", "k", "largest", "trip_count", "q_num_heads",
               "kv_num_heads", "scale", "is_causal", "coordinate_transformation_mode", "storage_order", "block_size",
               "channels_last", "spatial", "reduction", "fmod", "upper", "reverse", "exclusive", "num_outputs",
               "interleaved", "head_size", "unidirectional", "stash_type", "seed", "dtype", "sample_size", "size")
dims = st.one_of(st.integers(0, 9), st.sampled_from([1, 2, 3, 16, 2**20, 2**40, 2**62]), st.text("ab", min_size=1,
                                                                                             max_size=2))
shapes = st.one_of(st.none(), st.lists(dims, max_size=5).map(tuple))
values = st.one_of(st.none(), st.tuples(shapes, st.sampled_from(_DTYPES)))
attr_values = st.one_of(
    st.integers(-(2**64), 2**64), st.sampled_from([0, -1, 1, 2, 3, 2**40, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8), st.binary(max_size=4),
    st.sampled_from(["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "bidirectional", "reverse", "linear", "cubic"]),
    st.lists(st.integers(-5, 10), max_size=8).map(tuple), st.lists(st.sampled_from([0, -1, 2**40]), max_size=4).map(tuple),
    st.lists(st.floats(allow_nan=True), max_size=3).map(tuple), st.none(),
)


@cache
def registered_op_names() -> tuple[str, ...]:
    from edgeprof.ops.registry import registered_ops

    return tuple(sorted(registered_ops()))


_static_shapes = st.lists(st.one_of(st.integers(0, 6), st.sampled_from([1, 2, 2**40])), min_size=1, max_size=5).map(tuple)


@st.composite
def _uniform_call(draw: st.DrawFn) -> tuple[list[Any], list[Any]]:
    """Inputs and outputs of one shape (or its leading dims), so formulas get past their shape
    checks and the random attributes are what is tested."""
    shape = draw(_static_shapes)
    dt = draw(st.sampled_from(_DTYPES[:4]))
    n_in, n_out = draw(st.integers(1, 6)), draw(st.integers(1, 3))
    cut = draw(st.lists(st.integers(0, len(shape)), min_size=n_in + n_out, max_size=n_in + n_out))
    ins = [None if c == 0 and i > 0 and draw(st.booleans()) else (shape[c:] if i > 0 else shape, dt)
           for i, c in enumerate(cut[:n_in])]
    outs = [(shape[c:] if i > 0 else shape, dt) for i, c in enumerate(cut[n_in:])]
    return ins, outs


_independent = st.tuples(st.lists(values, max_size=6), st.lists(st.tuples(shapes, st.sampled_from(_DTYPES)), max_size=3))
op_calls = st.tuples(
    st.integers(0, 10**6),
    st.one_of(_independent, _uniform_call()),
    st.dictionaries(st.sampled_from(_ATTR_NAMES), attr_values, max_size=5),
).map(lambda t: (t[0], list(t[1][0]), list(t[1][1]), t[2]))


def check_op_call(index: int, ins: list[Any], outs: list[Any], attrs: dict[str, Any]) -> str:
    """Cost one random call of one registered op: an OpCost with non-negative int fields, or
    Uncountable (the node is then listed as not counted)."""
    from edgeprof.ir import Shape, Value, dtype_by_name
    from edgeprof.ops.registry import FORMULA_FAILED, OpCall, Uncountable, cost_of, lookup

    names = registered_op_names()
    op = names[index % len(names)]
    entry = lookup(op)
    assert entry is not None

    def value(spec: Any, i: int, kind: str) -> Value | None:
        if spec is None:
            return None
        shape, dt = spec
        return Value(f"{kind}{i}", dtype_by_name(dt), None if shape is None else Shape(tuple(shape)))

    call = OpCall(op, tuple(value(s, i, "in") for i, s in enumerate(ins)),
                  tuple(v for v in (value(s, i, "out") for i, s in enumerate(outs)) if v is not None), attrs)
    what = f"op {op} ins={ins} outs={outs} attrs={_short(attrs)}"
    try:
        cost = cost_of(entry, call)
    except Uncountable as exc:
        if "\n" in str(exc):
            raise FuzzFailure(f"{what}: Uncountable message is not one line") from exc
        if FORMULA_FAILED in str(exc):  # the registry's safety net caught a formula bug
            raise FuzzFailure(f"{what}: {exc}") from exc
        return "uncountable"
    except RecursionError as exc:
        raise FuzzFailure(f"{what}: RecursionError") from exc
    except Exception as exc:
        raise FuzzFailure(f"{what}: {type(exc).__name__}: {exc}") from exc
    for name in ("flops", "int_ops", "macs", "bytes_read", "bytes_written"):
        v = getattr(cost, name)
        if type(v) is not int or v < 0:
            raise FuzzFailure(f"{what}: {name} = {v!r} ({type(v).__name__})")
    return "counted"


# ---- the op registry: whole graphs through the ONNX frontend --------------------------------


@cache
def onnx_schema_ops() -> tuple[str, ...]:
    """Default-domain ONNX ops that edgeprof registers (the ones a model can hold)."""
    from onnx import defs

    names = set(registered_op_names())
    return tuple(sorted(s.name for s in defs.get_all_schemas() if s.domain == "" and s.name in names))


_ONNX_ELEM = {"float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16, "int64": TensorProto.INT64,
              "int32": TensorProto.INT32, "int8": TensorProto.INT8, "uint8": TensorProto.UINT8,
              "bool": TensorProto.BOOL}
_INPUT_KINDS = ("same", "same", "trailing", "ints", "scalar", "omitted")
_ATTR_STRINGS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "constant", "reflect", "edge", "linear", "nearest",
                 "cubic", "forward", "reverse", "bidirectional", "Relu", "Tanh", "Sigmoid", "", "DCR", "CRD", "none",
                 "tanh", "half_pixel", "align_corners", "asymmetric", "sum", "mean", "max", "add", "mul", "\x00<b>")


@st.composite
def _graph_call(draw: st.DrawFn) -> dict[str, Any]:
    """One node of a registered ONNX op: a base input shape the other inputs follow (the
    same, its trailing dims, or small int64 constants for shape and axes operands), and
    values for a random subset of the schema's attributes, plausible or hostile."""
    base = draw(st.lists(st.one_of(st.integers(1, 6), st.just(2**40)), min_size=0, max_size=5))
    symbolic = draw(st.booleans()) and draw(st.booleans()) and len(base) > 0
    inputs = draw(st.lists(st.sampled_from(_INPUT_KINDS), min_size=0, max_size=5))
    return {
        "index": draw(st.integers(0, 10**6)),
        "base": base,
        "symbolic": symbolic,
        "dtype": draw(st.sampled_from(["float32"] * 4 + sorted(_ONNX_ELEM))),
        "inputs": ["same", *inputs],
        "consts": draw(st.lists(st.lists(st.integers(-3, 9), max_size=5), min_size=6, max_size=6)),
        "cut": draw(st.integers(0, 5)),
        "outputs": draw(st.integers(1, 3)),
        "attrs": draw(st.lists(st.one_of(st.none(), st.none(), st.integers(-2, 5),
                                         st.lists(st.integers(-1, 5), max_size=8).map(tuple),
                                         st.sampled_from(_ATTR_STRINGS), st.floats(-2, 2), attr_values),
                               min_size=12, max_size=12)),
        "junk": draw(st.dictionaries(st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=3),
                                     st.integers(-5, 5), max_size=1)),
    }


graph_calls = _graph_call()


def _attr(name: str, kind: int, raw: Any) -> onnx.AttributeProto | None:
    """An attribute of the schema's type from a random value (None when it does not fit)."""
    A = onnx.AttributeProto

    def clamp(v: int) -> int:
        return max(min(int(v), 2**63 - 1), -(2**63))

    try:
        if kind == A.INT:
            v = raw if isinstance(raw, int) else len(raw) if isinstance(raw, (tuple, str, bytes)) else 0
            return helper.make_attribute(name, clamp(v))
        if kind == A.FLOAT:
            return helper.make_attribute(name, float(raw) if isinstance(raw, (int, float)) and abs(raw) < 1e300 else 0.5)
        if kind == A.INTS:
            seq = raw if isinstance(raw, tuple) else (raw,) if isinstance(raw, int) else ()
            return helper.make_attribute(name, [clamp(x) for x in seq if isinstance(x, int)], attr_type=A.INTS)
        if kind == A.FLOATS:
            seq = raw if isinstance(raw, tuple) else (raw,) if isinstance(raw, (int, float)) else ()
            return helper.make_attribute(name, [float(x) for x in seq if isinstance(x, (int, float))],
                                         attr_type=A.FLOATS)
        if kind == A.STRING:
            return helper.make_attribute(name, raw if isinstance(raw, (str, bytes)) else str(raw))
        if kind == A.STRINGS:
            return helper.make_attribute(name, [str(raw)], attr_type=A.STRINGS)
    except (TypeError, ValueError, OverflowError):
        return None
    return None


def graph_model(call: dict[str, Any]) -> tuple[str, onnx.ModelProto, dict[str, int]]:
    """A one-node model of a random registered ONNX op (see :func:`_graph_call`); returns the
    op, the model and the ``dims`` that set its symbolic dims."""
    from onnx import defs

    ops = onnx_schema_ops()
    op = ops[call["index"] % len(ops)]
    schema = defs.get_schema(op, 17) if _has_schema(op, 17) else defs.get_schema(op)
    attrs: list[onnx.AttributeProto] = []
    for i, (name, a) in enumerate(sorted(schema.attributes.items())):
        raw = call["attrs"][i % len(call["attrs"])]
        kind = int(getattr(a.type, "value", 0))  # an onnx.defs AttrType enum
        if raw is not None and kind not in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
            made = _attr(name, kind, raw)
            if made is not None:
                attrs.append(made)
    for name, raw in call["junk"].items():
        if name not in schema.attributes:
            attrs.append(helper.make_attribute(name, raw))
    base: list[int | str] = list(call["base"])
    dims: dict[str, int] = {}
    if call["symbolic"]:
        base[0] = "N"
        dims["N"] = 2
    elem = _ONNX_ELEM[call["dtype"]]
    graph_inputs, inits, names = [], [], []
    for i, kind in enumerate(call["inputs"]):
        name = f"in{i}"
        if kind == "omitted":
            names.append("")
            continue
        if kind in ("same", "trailing"):
            shape = base if kind == "same" else base[min(call["cut"], len(base)):]
            graph_inputs.append(helper.make_tensor_value_info(name, elem, shape))
        elif kind == "ints":
            inits.append(_t(name, np.array(call["consts"][i % 6], dtype=np.int64)))
        else:
            inits.append(_t(name, np.array(call["consts"][i % 6][0] if call["consts"][i % 6] else 1, dtype=np.int64)))
        names.append(name)
    while names and names[-1] == "":
        names.pop()
    node = onnx.NodeProto()
    node.op_type, node.name = op, f"fuzz_{op}"
    node.input.extend(names)
    node.output.extend(f"out{i}" for i in range(call["outputs"]))
    node.attribute.extend(attrs)
    g = helper.make_graph([node], "fuzz", graph_inputs, [_vi(f"out{i}", None) for i in range(call["outputs"])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return op, m, dims


@cache
def _has_schema(op: str, version: int) -> bool:
    from onnx import defs

    try:
        defs.get_schema(op, version)
    except Exception:
        return False
    return True


def check_graph(call: dict[str, Any]) -> str:
    """Profile a random one-node model: a Profile or a one-line typed error."""
    import edgeprof

    op, model, dims = graph_model(call)
    node = model.graph.node[0]
    attrs = [f"{a.name}={helper.get_attribute_value(a)!r}" for a in node.attribute]
    what = f"graph {op} inputs={list(node.input)} base={call['base']} {call['dtype']} attrs={_short(attrs)}"
    return run_profile(lambda: edgeprof.profile(model, dims=dims), what)


# ---- the CLI --------------------------------------------------------------------------------


def check_cli_outcome(argv: list[str], code: int, out: str, err: str, files: CliFiles,
                      before: dict[Path, bytes]) -> str:
    """Exit 0/1/2 (3 is an internal error: a bug), at most one line on stderr, no traceback,
    no input file changed, nothing written outside the -o target and the temp folder."""
    what = f"argv {argv}"
    if code not in (0, 1, 2):
        raise FuzzFailure(f"{what}: exit code {code}; stderr {err!r}")
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if "--debug" not in argv and ("Traceback" in err or len(lines) > 1):
        raise FuzzFailure(f"{what}: stderr is not one line: {err[:600]!r}")
    if code == 2 and not lines:
        raise FuzzFailure(f"{what}: exit 2 with nothing on stderr")
    if code != 0 and lines and not lines[-1].startswith(("edgeprof: ", "usage:")):
        raise FuzzFailure(f"{what}: the error line does not start with 'edgeprof: ': {lines[-1]!r}")
    for path, data in before.items():
        if path.read_bytes() != data:
            raise FuzzFailure(f"{what}: input file {path.name} was changed")
    return f"exit {code}"
