"""Reference architectures built offline from transformers config classes (random init on the
meta device, no download) against published or hand-derived figures, and eager vs sdpa attention."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn as nn

import edgeprof
from edgeprof.report.model import Profile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
transformers = pytest.importorskip("transformers")

# Each test builds real architectures (seconds each): left out of `make test-fast`.
pytestmark = pytest.mark.slow


def on_meta(model_cls: Any, config: Any) -> nn.Module:
    with torch.device("meta"):
        return model_cls(config)


def both(model_cls: Any, config_cls: Any, inputs: dict[str, tuple[int, ...]], **cfg: Any) -> tuple[Profile, Profile]:
    """The same model with attn_implementation 'eager' and 'sdpa'."""
    out = []
    for impl in ("eager", "sdpa"):
        model = on_meta(model_cls, config_cls(attn_implementation=impl, **cfg))
        out.append(edgeprof.profile(model, input_shapes=inputs))
    return out[0], out[1]


def assert_same_count(a: Profile, b: Profile) -> None:
    assert not a.not_counted and not b.not_counted
    assert (a.totals.flops, a.totals.macs, a.totals.params) == (b.totals.flops, b.totals.macs, b.totals.params)


def test_resnet50_published_figures() -> None:
    config = transformers.ResNetConfig(num_labels=1000, layer_type="bottleneck", depths=[3, 4, 6, 3],
                                       hidden_sizes=[256, 512, 1024, 2048], embedding_size=64)
    p = edgeprof.profile(on_meta(transformers.ResNetForImageClassification, config), input_shapes=[(1, 3, 224, 224)])
    assert not p.not_counted
    assert p.totals.macs == 4_089_184_256
    assert p.totals.params == 25_557_032


def test_vit_b16_published_figures_with_attention_matmuls() -> None:
    eager, sdpa = both(transformers.ViTForImageClassification, transformers.ViTConfig, {"pixel_values": (1, 3, 224, 224)},
                       num_labels=1000)
    assert_same_count(eager, sdpa)
    assert sdpa.totals.macs == 17_563_828_224
    assert sdpa.totals.params == 86_567_656
    tokens, width, heads = 197, 768, 12
    attention_macs = 12 * 2 * heads * tokens * tokens * (width // heads)
    assert sum(x.macs for x in sdpa.layers if x.op == "Attention") == attention_macs


def bert_macs(tokens: int, layers: int = 12, width: int = 768, ff: int = 3072) -> int:
    per_layer = tokens * width * width * 4 + tokens * width * ff * 2 + 2 * tokens * tokens * width
    return layers * per_layer + width * width  # + the pooler on the first token


def test_bert_base_at_128_tokens_eager_equals_sdpa() -> None:
    eager, sdpa = both(transformers.BertModel, transformers.BertConfig, {"input_ids": (1, 128)})
    assert_same_count(eager, sdpa)
    assert sdpa.totals.macs == bert_macs(128) == 11_174_215_680
    assert sdpa.totals.params == 109_482_240
    masked_e, masked_s = both(transformers.BertModel, transformers.BertConfig,
                              {"input_ids": (2, 128), "attention_mask": (2, 128)}, num_hidden_layers=2)
    assert_same_count(masked_e, masked_s)
    unmasked_e, _ = both(transformers.BertModel, transformers.BertConfig, {"input_ids": (2, 128)}, num_hidden_layers=2)
    assert masked_e.totals.flops - unmasked_e.totals.flops == 2 * 2 * 12 * 128 * 128  # the mask add per score


def test_gpt2_small_at_1024_tokens_eager_equals_sdpa() -> None:
    eager, sdpa = both(transformers.GPT2LMHeadModel, transformers.GPT2Config, {"input_ids": (1, 1024)})
    assert_same_count(eager, sdpa)
    t, w = 1024, 768
    per_layer = t * w * 3 * w + t * w * w + 2 * t * w * 4 * w + 2 * t * t * w
    assert sdpa.totals.macs == 12 * per_layer + t * w * 50257 == 145_824_153_600
    assert sdpa.totals.params == 124_439_808  # the LM head is tied to the token embedding
    # causal attention: the score matrix is counted in full, with one mask add per score
    att = [x for x in sdpa.layers if x.op == "Attention"]
    d, heads = 64, 12
    scores = heads * t * t
    per = scores * (2 * d - 1) + 2 * scores + heads * t * (5 * t - 2) + heads * t * d * (2 * t - 1)
    assert [x.flops for x in att] == [per] * 12


def test_llama_gqa_eager_equals_sdpa() -> None:
    w, ff, layers, heads, kv_heads, vocab = 128, 256, 2, 8, 2, 500
    cfg = dict(hidden_size=w, intermediate_size=ff, num_hidden_layers=layers, num_attention_heads=heads,
               num_key_value_heads=kv_heads, vocab_size=vocab)
    d = w // heads  # 16
    # per token and layer: q and o projections w·w each, k and v w·(kv_heads·d) each (GQA), the
    # SwiGLU MLP's gate, up and down w·ff each; the LM head w·vocab per token (not tied in Llama)
    token_macs = 2 * w * w + 2 * w * kv_heads * d + 3 * w * ff
    assert token_macs == 139_264
    # params: embedding, per layer the projections and two RMSNorm weights, the final norm, the head
    params = vocab * w + layers * (token_macs + 2 * w) + w + w * vocab
    for inputs in ({"input_ids": (1, 32)}, {"input_ids": (2, 32), "attention_mask": (2, 32)}):
        eager, sdpa = both(transformers.LlamaForCausalLM, transformers.LlamaConfig, inputs, **cfg)
        assert_same_count(eager, sdpa)
        b, t = inputs["input_ids"]
        # attention per layer (causal, and padded with the mask: one bias add per score either way):
        # QK^T and PV are heads·t·t dot products of d and heads·t·d of t (the KV heads are shared)
        scores = b * heads * t * t
        attention_macs = 2 * scores * d
        attention_flops = (scores * (2 * d - 1) + 2 * scores + b * heads * t * (5 * t - 2)
                           + b * heads * t * d * (2 * t - 1))
        att = [x for x in sdpa.layers if x.op == "Attention"]
        assert [(x.flops, x.macs) for x in att] == [(attention_flops, attention_macs)] * layers
        assert (attention_flops, attention_macs) == ((568_832, 262_144) if b == 1 else (1_137_664, 524_288))
        macs = layers * (b * t * token_macs + attention_macs) + b * t * w * vocab
        assert sdpa.totals.macs == macs == (11_485_184 if b == 1 else 22_970_368)
        assert sdpa.totals.params == params == 407_168


def conv_linear_macs(model: nn.Module, x: torch.Tensor) -> int:
    """An independent count: forward hooks on every Conv2d and Linear, MACs from the module's
    weight and the shape of the output it produced (a plain meta-device run, no tracer)."""
    total = 0

    def hook(m: nn.Module, _inp: Any, out: torch.Tensor) -> None:
        nonlocal total
        if isinstance(m, nn.Conv2d):
            total += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        else:
            total += out.numel() * m.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return total


@pytest.mark.parametrize(("model_cls", "config"), [
    ("MobileNetV2ForImageClassification", {"tf_padding": True, "num_labels": 1000}),
    ("EfficientNetForImageClassification", {"num_labels": 1000}),
])
def test_mobilenetv2_and_efficientnet_b0_with_same_padding(model_cls: str, config: dict[str, Any]) -> None:
    cls = getattr(transformers, model_cls)
    model = on_meta(cls, cls.config_class(**config)).eval()
    x = torch.empty(1, 3, 224, 224, device="meta")
    p = edgeprof.profile(model, example_inputs=(x,))
    assert not p.not_counted
    assert p.totals.macs == conv_linear_macs(model, x)
    assert p.totals.params == sum(t.numel() for t in model.parameters())
    if model_cls.startswith("MobileNetV2"):  # torchvision's published mobilenet_v2 figures
        assert (p.totals.macs, p.totals.params) == (300_774_272, 3_504_872)


class Mixed(nn.Module):
    """Conv + BatchNorm, an LSTM, attention and a linear head: every kind of MAC."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.rnn = nn.LSTM(8, 8, batch_first=True)
        self.qkv = nn.Linear(8, 24)
        self.head = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dw(torch.relu(self.bn(self.conv(x))))
        seq, _ = self.rnn(x.flatten(2).transpose(1, 2))
        q, k, v = self.qkv(seq).unflatten(-1, (3, 2, 4)).permute(2, 0, 3, 1, 4)
        a = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        return self.head(a.transpose(1, 2).flatten(2).mean(1))


def onnx_params_of_more_than_one_element(path: Path) -> int:
    """The ONNX graph's parameters, leaving out one-element initializers (the exporter's scalar
    constants, which the ONNX role inference may take for parameters)."""
    from edgeprof.passes.params import weight_table

    table = weight_table(edgeprof.load(path).graph)
    return sum(w.numel for w in table.weights if table.role(w) == "parameter" and w.numel > 1)


@pytest.mark.skipif(importlib.util.find_spec("edgeprof.frontends.onnx") is None, reason="no ONNX frontend yet")
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning", "ignore::FutureWarning")
def test_agrees_with_the_onnx_export(tmp_path: Path) -> None:
    """Exported without the exporter's optimiser (which folds BatchNormalization into Conv), the
    ONNX graph has the same MACs and parameters, and Conv/LSTM rows cost the same."""
    torch.manual_seed(0)
    model = Mixed().eval()
    x = torch.randn(1, 3, 16, 16)
    from_torch = edgeprof.profile(model, example_inputs=(x,))
    plain = tmp_path / "plain.onnx"
    torch.onnx.export(model, (x,), str(plain), dynamo=True, optimize=False)
    from_plain = edgeprof.profile(plain)
    assert not from_plain.not_counted
    assert from_torch.totals.macs == from_plain.totals.macs
    assert from_torch.totals.params == onnx_params_of_more_than_one_element(plain)
    for op in ("Conv", "LSTM"):
        assert ([(r.flops, r.macs) for r in from_torch.by_operator() if r.op == op]
                == [(r.flops, r.macs) for r in from_plain.by_operator() if r.op == op])
    assert ([r.params for r in from_torch.by_operator() if r.op == "Conv"]
            == [r.params for r in from_plain.by_operator() if r.op == "Conv"])
    # The LSTM row holds the LSTM's weights (the unoptimised export builds W/R/B with Unsqueeze and
    # Concat nodes, which then hold them instead).
    assert [r.params for r in from_torch.by_operator() if r.op == "LSTM"] == [
        sum(t.numel() for t in model.rnn.parameters())]
