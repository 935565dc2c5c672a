"""End to end: edgeprof on real architectures exported to ONNX, against independent figures.

Expected values come from outside edgeprof: published figures (torchvision's model table), the
hand-computed table of ``models/README.md``, closed forms worked out below for the transformer
models, and the PyTorch modules themselves (parameter numel; conv/linear MACs from forward hooks
recording output shapes, ``tests/reference_models.conv_linear_counts``).

MACs, by the counting contract, come only from Conv/ConvTranspose, Gemm, MatMul, Einsum,
attention and recurrent ops, so ``totals.macs`` must equal the sum over those layers.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import edgeprof
from edgeprof import Profile
from tests.reference_models import (
    ReferenceCache,
    conv_linear_counts,
    example_inputs,
    reference_onnx,  # noqa: F401  (the session fixture)
    torch_param_count,
)

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "models" / "demo.onnx"
MAC_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul", "Einsum")
IMAGE = {"pixel_values": (1, 3, 224, 224)}

slow = pytest.mark.slow  # exports a real architecture (seconds each, once per session)


def _profile(model: Any, **kwargs: Any) -> Profile:
    return edgeprof.profile(model, **kwargs)


def _sum(p: Profile, field: str, ops: Iterable[str]) -> int:
    wanted = set(ops)
    return sum(getattr(layer, field) for layer in p.layers if layer.op in wanted)


def _op_count(p: Profile, op: str) -> int:
    return sum(row.count for row in p.by_operator() if row.op == op)


def _assert_fully_counted(p: Profile) -> None:
    listed = [(n.op, n.count, n.example, n.reason) for n in p.not_counted]
    assert listed == [], f"ops not counted: {listed}"
    assert p.totals.is_lower_bound is False
    # no op outside the MAC ops carries MACs
    assert _sum(p, "macs", MAC_OPS) == p.totals.macs


# ---------------------------------------------------------------------------------------------
# the demo model (models/README.md holds the layer-by-layer hand computation)

DEMO_CONV_MACS = 30_704_784
DEMO_LINEAR_MACS = 98_304 + 256_000  # 384 -> 256, 256 -> 1000
DEMO_MACS = 31_059_088
DEMO_PARAMS = 549_240


def _demo_script() -> ModuleType:
    path = ROOT / "scripts" / "make_demo_model.py"
    spec = importlib.util.spec_from_file_location("make_demo_model", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_demo_model"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


def test_demo_readme_figures_add_up() -> None:
    assert DEMO_CONV_MACS + DEMO_LINEAR_MACS == DEMO_MACS


def test_demo_model_matches_hand_count() -> None:
    p = _profile(DEMO, input_shapes={"image": (1, 3, 224, 224)})
    _assert_fully_counted(p)
    assert p.totals.macs == DEMO_MACS
    assert _sum(p, "macs", ["Conv"]) == DEMO_CONV_MACS
    assert _sum(p, "macs", ["Gemm"]) == DEMO_LINEAR_MACS
    assert p.totals.params == DEMO_PARAMS
    assert _op_count(p, "Conv") == 32
    assert _op_count(p, "BatchNormalization") == 22
    # seed: ReLU is n FLOPs, Sigmoid 4n. SE gates act on 1x1 maps of 16, 96, 240, 240, 144 channels
    assert _sum(p, "flops", ["Sigmoid"]) == 4 * (16 + 96 + 240 + 240 + 144)
    # weights: parameters + BN running mean and var (2 x 2,376 channels), float32
    assert p.totals.weight_bytes == 4 * (DEMO_PARAMS + 2 * 2_376)


def test_demo_model_batch_scales_linearly() -> None:
    p = _profile(DEMO, dims={"batch": 4})
    _assert_fully_counted(p)
    assert p.totals.macs == 4 * DEMO_MACS
    assert p.totals.params == DEMO_PARAMS


def test_demo_script_builds_the_readme_model() -> None:
    import torch

    script = _demo_script()
    model = script.build_demo_model()
    counts = conv_linear_counts(model, (torch.zeros(1, 3, 224, 224),))
    assert counts.conv_macs == DEMO_CONV_MACS
    assert counts.linear_macs == DEMO_LINEAR_MACS
    assert torch_param_count(model) == DEMO_PARAMS


def test_demo_file_is_small_and_named() -> None:
    assert DEMO.stat().st_size < 3_000_000
    p = _profile(DEMO, input_shapes={"image": (1, 3, 224, 224)})
    # node names carry the PyTorch module path
    assert any("features.5" in layer.name and layer.op == "Conv" for layer in p.layers)


# ---------------------------------------------------------------------------------------------
# ResNet-50: torchvision's published 4,089,184,256 MACs and 25,557,032 parameters

RESNET50_MACS = 4_089_184_256
RESNET50_PARAMS = 25_557_032


@slow
def test_resnet50_matches_published_figures(reference_onnx: ReferenceCache) -> None:  # noqa: F811
    p = _profile(reference_onnx.onnx("resnet50"), input_shapes=IMAGE)
    _assert_fully_counted(p)
    assert _sum(p, "macs", ["Conv", "Gemm", "MatMul"]) == RESNET50_MACS
    assert p.totals.macs == RESNET50_MACS
    # BN gamma/beta are parameters, running mean/var are buffers
    assert p.totals.params == RESNET50_PARAMS
    assert _op_count(p, "Conv") == 53
    assert _op_count(p, "BatchNormalization") == 53


@slow
def test_resnet50_flops_of_conv_and_fc_are_exact(reference_onnx: ReferenceCache) -> None:  # noqa: F811
    counts = conv_linear_counts(reference_onnx.module("resnet50"), example_inputs("resnet50"))
    assert counts.macs == RESNET50_MACS  # the independent method agrees with torchvision
    p = _profile(reference_onnx.onnx("resnet50"), input_shapes=IMAGE)
    # seed: conv (2·K·K·Cin/g - 1)·Cout·Hout·Wout (+ Cout·Hout·Wout with bias); FC with bias 2·i·j
    assert _sum(p, "flops", ["Conv"]) == counts.conv_flops
    assert _sum(p, "flops", ["Gemm"]) == 2 * 2048 * 1000


@slow
def test_resnet50_category_shares(reference_onnx: ReferenceCache) -> None:  # noqa: F811
    p = _profile(reference_onnx.onnx("resnet50"), input_shapes=IMAGE)
    shares = {c.category: c for c in p.categories}
    for category in ("conv", "linear", "normalisation", "activation", "pooling", "elementwise"):
        assert category in shares, f"category {category} missing from {sorted(shares)}"
        assert shares[category].flops > 0
    assert shares["conv"].macs == RESNET50_MACS - 2048 * 1000
    assert shares["linear"].macs == 2048 * 1000
    assert sum(c.flops for c in p.categories) == p.totals.flops
    assert sum(c.share for c in p.categories) == pytest.approx(1.0)
    assert max(p.categories, key=lambda c: c.share).category == "conv"


# ---------------------------------------------------------------------------------------------
# CNNs whose parameter count equals the published one; MACs checked against forward hooks

CNN_CASES = [
    # name, published params (torchvision), conv+linear MACs (hooks; torchvision's GFLOPS column)
    ("mobilenet_v2", 3_504_872, 300_774_272),  # 0.30
    ("efficientnet_b0", 5_288_548, 385_814_752),  # 0.39
    ("convnext_tiny", 28_589_128, 4_455_531_264),  # 4.46
]


@slow
@pytest.mark.parametrize(("name", "params", "macs"), CNN_CASES)
def test_cnn_params_and_macs(reference_onnx: ReferenceCache, name: str, params: int, macs: int) -> None:  # noqa: F811
    module = reference_onnx.module(name)
    counts = conv_linear_counts(module, example_inputs(name))
    assert torch_param_count(module) == params
    assert counts.macs == macs
    p = _profile(reference_onnx.onnx(name), input_shapes=IMAGE)
    _assert_fully_counted(p)
    assert p.totals.params == params
    assert p.totals.macs == macs
    assert _sum(p, "macs", ["Conv"]) == counts.conv_macs


# ---------------------------------------------------------------------------------------------
# transformers: closed forms. h hidden, f MLP width, L layers, S tokens, V vocabulary.
# Per layer: Q, K, V, output projections 4·S·h², MLP 2·S·h·f, attention scores Q·Kᵀ and
# probabilities·V S²·h each (summed over heads). Embedding lookups (Gather) have no MACs.


def bert_base_macs(seq: int, h: int = 768, f: int = 3072, layers: int = 12) -> int:
    """BertModel: L·(4·S·h² + 2·S·h·f + 2·S²·h) + pooler h² (one token)."""
    return layers * (4 * seq * h * h + 2 * seq * h * f + 2 * seq * seq * h) + h * h


def gpt2_small_macs(seq: int, h: int = 768, layers: int = 12, vocab: int = 50257) -> int:
    """GPT2LMHeadModel: L·(12·S·h² + 2·S²·h) + LM head S·h·V (f = 4h: c_attn 3Sh², c_proj Sh²,
    MLP 8Sh²; the causal mask does not change the matmul sizes)."""
    return layers * (12 * seq * h * h + 2 * seq * seq * h) + seq * h * vocab


def test_closed_forms_match_known_values() -> None:
    assert bert_base_macs(128) == 11_174_215_680
    assert gpt2_small_macs(128) == 16_114_089_984


@slow
@pytest.mark.parametrize("seq", [128, 64])
def test_bert_base(reference_onnx: ReferenceCache, seq: int) -> None:  # noqa: F811
    module = reference_onnx.module("bert_base")
    counts = conv_linear_counts(module, example_inputs("bert_base"))
    assert counts.linear_macs + 12 * 2 * 128 * 128 * 768 == bert_base_macs(128)
    # exported at 128 tokens with a symbolic sequence dim: any length is profiled from one file
    p = _profile(reference_onnx.onnx("bert_base"), dims={"batch": 1, "sequence": seq})
    _assert_fully_counted(p)
    assert p.totals.macs == bert_base_macs(seq)
    assert _sum(p, "macs", ["MatMul", "Gemm"]) == bert_base_macs(seq)
    assert p.totals.params == torch_param_count(module) == 109_482_240


@slow
@pytest.mark.parametrize("seq", [128, 1024])
def test_gpt2_small(reference_onnx: ReferenceCache, seq: int) -> None:  # noqa: F811
    module = reference_onnx.module("gpt2_small")
    counts = conv_linear_counts(module, example_inputs("gpt2_small"))
    assert counts.linear_macs + 12 * 2 * 128 * 128 * 768 == gpt2_small_macs(128)
    shapes = {"input_ids": (1, seq), "attention_mask": (1, seq)}
    p = _profile(reference_onnx.onnx("gpt2_small"), input_shapes=shapes)
    _assert_fully_counted(p)
    assert p.totals.macs == gpt2_small_macs(seq)
    # 124,439,808 parameters with the LM head tied to the token embedding; the TorchScript
    # exporter writes the head as a second, transposed copy of it (768 x 50257), which the
    # file really stores and edgeprof therefore counts
    assert torch_param_count(module) == 124_439_808
    assert p.totals.params == 124_439_808 + 768 * 50257
