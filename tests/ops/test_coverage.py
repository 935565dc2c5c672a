"""The registry's contract: every ONNX default-domain op is registered, every entry explains
itself, other domains are spelled "domain::Op", no counted op ever returns a negative cost,
and docs/ops.md is the registry's current table."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeprof.ops.elementwise import BINARY_OPS, UNARY_OPS
from edgeprof.ops.registry import OpCost, registered_ops
from tests.opcall import cost

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DOMAIN_OPS = frozenset(
    s.name for s in onnx.defs.get_all_schemas_with_history() if s.domain in ("", "ai.onnx")
)
DOMAIN_OP = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*::[A-Za-z_][A-Za-z0-9_]*$")


def test_every_default_domain_op_is_registered() -> None:
    registry = registered_ops()
    missing = sorted(DEFAULT_DOMAIN_OPS - set(registry))
    assert not missing, f"{len(missing)} ONNX default-domain ops have no registry entry: {', '.join(missing)}"


def test_every_zero_and_not_countable_entry_gives_a_reason() -> None:
    silent = sorted(
        op for op, e in registered_ops().items() if e.state in ("zero", "not_countable", "subgraph") and not e.reason.strip()
    )
    assert not silent, f"entries without a reason: {', '.join(silent)}"


def test_every_formula_has_a_one_line_docstring() -> None:
    bad = []
    for op, e in registered_ops().items():
        if e.state != "counted":
            continue
        assert e.fn is not None
        doc = (e.fn.__doc__ or "").strip()
        if not doc or "\n" in doc or doc != e.doc:
            bad.append(op)
    assert not bad, f"counted ops whose formula lacks a one-line docstring: {', '.join(sorted(bad))}"


def test_non_onnx_ops_are_spelled_domain_colon_colon_op() -> None:
    bad = sorted(op for op in registered_ops() if op not in DEFAULT_DOMAIN_OPS and not DOMAIN_OP.match(op))
    assert not bad, f"ops that are neither ONNX default-domain ops nor 'domain::Op': {', '.join(bad)}"


# --- smoke property: no counted op returns a negative number ----------------------------------

Shape = tuple[int, ...]
Builder = Callable[[Shape], tuple[list[Any], list[Any], dict[str, Any]]]


def _same(shape: Shape) -> tuple[list[Any], list[Any], dict[str, Any]]:
    return [shape], [shape], {}


def _binary(shape: Shape) -> tuple[list[Any], list[Any], dict[str, Any]]:
    return [shape, shape[-1:]], [shape], {}


def _reduce_last(shape: Shape) -> tuple[list[Any], list[Any], dict[str, Any]]:
    return [shape], [(*shape[:-1], 1)], {"axes": (len(shape) - 1,)}


def _arg_last(shape: Shape) -> tuple[list[Any], list[Any], dict[str, Any]]:
    return [shape], [((*shape[:-1], 1), "int64")], {"axis": -1}


def _top_k(shape: Shape) -> tuple[list[Any], list[Any], dict[str, Any]]:
    k = (*shape[:-1], max(shape[-1] // 2, 1))
    return [shape, ((1,), "int64")], [k, (k, "int64")], {}


def _scan(shape: Shape) -> tuple[list[Any], list[Any], dict[str, Any]]:
    flat = (shape[0] * shape[-1],)
    return [flat, ((), "int64")], [flat], {}


def _quantize(shape: Shape) -> tuple[list[Any], list[Any], dict[str, Any]]:
    return [shape, ((), "float32"), ((), "uint8")], [(shape, "uint8")], {}


def _dequantize(shape: Shape) -> tuple[list[Any], list[Any], dict[str, Any]]:
    return [(shape, "int8"), ((), "float32"), ((), "int8")], [shape], {}


def _dynamic_quantize(shape: Shape) -> tuple[list[Any], list[Any], dict[str, Any]]:
    return [shape], [(shape, "uint8"), ((), "float32"), ((), "uint8")], {}


def _matmul(shape: Shape) -> tuple[list[Any], list[Any], dict[str, Any]]:
    m, k = shape[0], shape[-1]
    return [(m, k), (k, m)], [(m, m)], {}


def _upsample(shape: Shape) -> tuple[list[Any], list[Any], dict[str, Any]]:
    return [shape, ((len(shape),), "float32")], [tuple(2 * d for d in shape)], {"mode": "linear"}


def _generated(shape: Shape) -> tuple[list[Any], list[Any], dict[str, Any]]:
    return [], [shape], {"shape": shape}


def _window(shape: Shape) -> tuple[list[Any], list[Any], dict[str, Any]]:
    return [((), "int64")], [(shape[0],)], {}


def _det(shape: Shape) -> tuple[list[Any], list[Any], dict[str, Any]]:
    return [(*shape, shape[-1])], [shape[:-1]], {}


def _dft(shape: Shape) -> tuple[list[Any], list[Any], dict[str, Any]]:
    return [(shape[0], shape[-1], 1)], [(shape[0], shape[-1], 2)], {}


SIGNATURES: dict[str, Builder] = {
    **dict.fromkeys(UNARY_OPS, _same),
    **dict.fromkeys(BINARY_OPS, _binary),
    **dict.fromkeys(
        ["Relu", "Sigmoid", "Tanh", "LeakyRelu", "ThresholdedRelu", "HardSigmoid", "HardSwish", "Elu", "Selu", "Celu",
         "Softplus", "Softsign", "Mish", "Swish", "Gelu", "Shrink", "Clip", "Softmax", "LogSoftmax", "Hardmax", "IsInf",
         "Bernoulli", "RandomUniformLike", "RandomNormalLike"],
        _same,
    ),
    **dict.fromkeys(["Max", "Min", "Sum", "Mean", "Mod", "PRelu"], _binary),
    **dict.fromkeys(
        ["ReduceSum", "ReduceMean", "ReduceProd", "ReduceMax", "ReduceMin", "ReduceSumSquare", "ReduceL1", "ReduceL2",
         "ReduceLogSum", "ReduceLogSumExp"],
        _reduce_last,
    ),
    **dict.fromkeys(["ArgMax", "ArgMin"], _arg_last),
    **dict.fromkeys(["CumSum", "CumProd"], _scan),
    **dict.fromkeys(["RandomUniform", "RandomNormal"], _generated),
    **dict.fromkeys(["HannWindow", "HammingWindow", "BlackmanWindow"], _window),
    "SwiGLU": lambda s: ([s, s], [s], {}),
    "TopK": _top_k,
    "QuantizeLinear": _quantize,
    "DequantizeLinear": _dequantize,
    "DynamicQuantizeLinear": _dynamic_quantize,
    "MatMul": _matmul,
    "Upsample": _upsample,
    "Resize": lambda s: ([s, None, ((len(s),), "float32")], [tuple(2 * d for d in s)], {"mode": "cubic"}),
    "Det": _det,
    "DFT": _dft,
}

# Counted ops whose signature is specific to the op: their closed-form tests live in their family's
# test file (tests/ops/test_<family>.py). A newly registered counted op must be added to one side.
SPECIFIC_SIGNATURE = frozenset({
    # ONNX Runtime's com.microsoft fused ops (edgeprof/ops/contrib_ms.py), tested in test_contrib_ms.py
    "com.microsoft::FusedConv", "com.microsoft::FusedMatMul", "com.microsoft::Gelu", "com.microsoft::BiasGelu",
    "com.microsoft::FastGelu", "com.microsoft::QuickGelu", "com.microsoft::SkipLayerNormalization",
    "com.microsoft::SkipSimplifiedLayerNormalization", "com.microsoft::SimplifiedLayerNormalization",
    "com.microsoft::QLinearAdd", "com.microsoft::QLinearMul", "com.microsoft::QGemm",
    "com.microsoft::QLinearGlobalAveragePool", "com.microsoft::QLinearAveragePool",
    # PyTorch-only ops (edgeprof/ops/aten_only.py), tested in tests/frontends/pytorch/test_ops.py
    "aten::adaptive_avg_pool1d", "aten::_adaptive_avg_pool2d", "aten::_adaptive_avg_pool3d",
    "aten::adaptive_max_pool1d", "aten::adaptive_max_pool2d", "aten::adaptive_max_pool3d",
    "Gemm", "Einsum", "MatMulInteger", "QLinearMatMul", "Conv", "ConvTranspose", "ConvInteger", "QLinearConv",
    "DeformConv", "Col2Im", "CausalConvWithState", "AveragePool", "MaxPool", "GlobalAveragePool", "GlobalMaxPool",
    "LpPool", "GlobalLpPool", "MaxUnpool", "RoiAlign", "BatchNormalization", "InstanceNormalization",
    "LayerNormalization", "GroupNormalization", "RMSNormalization", "LpNormalization", "MeanVarianceNormalization",
    "LRN", "Attention", "LinearAttention", "RotaryEmbedding", "LSTM", "GRU", "RNN", "GridSample", "AffineGrid", "STFT",
    "MelWeightMatrix", "Multinomial", "NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss", "Range", "NonZero",
    "Gather", "GatherElements", "GatherND", "Slice", "Compress", "Shape", "Size", "EyeLike", "CastLike", "Scatter",
    "ScatterElements", "ScatterND",
})


def test_every_counted_op_is_classified_for_the_smoke_property() -> None:
    counted = {op for op, e in registered_ops().items() if e.state == "counted"}
    unclassified = sorted(counted - set(SIGNATURES) - SPECIFIC_SIGNATURE)
    assert not unclassified, (
        f"add these counted ops to SIGNATURES (a simple call) or SPECIFIC_SIGNATURE: {', '.join(unclassified)}"
    )
    assert not set(SIGNATURES) - counted, "SIGNATURES names ops that are not counted formulas"


def _non_negative(c: OpCost) -> bool:
    return min(c.flops, c.int_ops, c.macs, c.bytes_read, c.bytes_written) >= 0


@pytest.mark.parametrize("op", sorted(SIGNATURES))
@settings(max_examples=20, deadline=None)
@given(shape=st.lists(st.integers(1, 6), min_size=2, max_size=4).map(tuple))
def test_counted_ops_never_return_negative_numbers(op: str, shape: Shape) -> None:
    ins, outs, attrs = SIGNATURES[op](shape)
    c = cost(op, ins, outs, **attrs)
    assert _non_negative(c), (op, shape, c)


# --- docs/ops.md ------------------------------------------------------------------------------


def _gen_op_table() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_op_table", ROOT / "scripts" / "gen_op_table.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_ops_md_is_up_to_date() -> None:
    gen = _gen_op_table()
    path = ROOT / "docs" / "ops.md"
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    assert current == gen.render(), "docs/ops.md is out of date: run `.venv/bin/python scripts/gen_op_table.py`"


def test_docs_table_lists_every_op_once() -> None:
    text = _gen_op_table().render()
    rows = [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ") and " --- " not in line]
    ops = [r for r in rows if r != "Op"]
    assert sorted(ops) == sorted(registered_ops())
