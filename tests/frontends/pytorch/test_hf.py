"""Hugging Face config.json -> a model on the meta device -> a profile; and the LLM figures."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import edgeprof
from edgeprof.errors import ModelLoadError, ShapeError, UsageError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
pytest.importorskip("transformers")

from edgeprof.api import llm_figures_for
from edgeprof.passes.llm import kv_cache_bytes_per_token, weight_bytes
from edgeprof.report.llm import DecoderSpec

H, HEADS, KV, D, FF, VOCAB = 64, 4, 2, 16, 128, 100
TINY_LLAMA = {
    "model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": H, "intermediate_size": FF,
    "num_hidden_layers": 1, "num_attention_heads": HEADS, "num_key_value_heads": KV, "vocab_size": VOCAB,
    "dtype": "bfloat16",
}


def write(tmp_path: Path, data: dict[str, Any], name: str = "config.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def dot(n: int) -> int:
    return 2 * n - 1


def attention(q_len: int, keys: int, masked: bool) -> int:
    scores = HEADS * q_len * keys
    return scores * dot(D) + scores + (scores if masked else 0) + HEADS * q_len * (5 * keys - 2) + \
        HEADS * q_len * D * dot(keys)


def llama_flops(tokens: int, keys: int, masked: bool, logits_rows: int) -> int:
    """FLOPs of the tiny one-layer Llama for ``tokens`` new tokens attending to ``keys`` keys, from
    the modelling code: RMSNorm = square, mean (n), + eps, rsqrt (sqrt, reciprocal), x·rstd, ·weight
    (4n+3 per token); RoPE = q·cos + rotate_half(q)·sin (mul, neg of half, mul, add); rotary
    tables: 8 inv_freq·position products, cos and sin of 16, two ·attention_scaling."""
    t = tokens
    norm = t * (4 * H + 3)
    rotary = t * (8 + 4 * 16)
    qkv = t * (dot(H) * H + 2 * dot(H) * KV * D)
    rope = t * (HEADS * D * 3 + HEADS * D // 2 + KV * D * 3 + KV * D // 2)
    att = attention(t, keys, masked)
    mlp = t * (2 * dot(H) * FF + 5 * FF + FF + dot(FF) * H)
    return rotary + 3 * norm + qkv + rope + att + t * dot(H) * H + 2 * t * H + mlp + logits_rows * dot(H) * VOCAB


def llama_macs(tokens: int, keys: int, logits_rows: int) -> int:
    linear = tokens * (H * H + 2 * H * KV * D + H * H + 3 * H * FF)
    return linear + 2 * HEADS * tokens * keys * D + logits_rows * H * VOCAB


def test_profile_a_config_file_at_a_sequence_length(tmp_path: Path) -> None:
    p = edgeprof.profile(write(tmp_path, TINY_LLAMA), seq_len=12)
    assert p.model.format == "hf-config" and p.model.name == "LlamaForCausalLM"
    assert [(i.name, i.shape, i.dtype) for i in p.inputs] == [("input_ids", (1, 12), "int64")]
    assert not p.not_counted
    # causal attention over 12 tokens with a mask add per score; logits for every position
    assert p.totals.flops == llama_flops(12, 12, masked=True, logits_rows=12)
    assert p.totals.macs == llama_macs(12, 12, logits_rows=12)
    params = VOCAB * H * 2 + H * H * 2 + 2 * H * KV * D + 3 * H * FF + 3 * H
    assert p.totals.params == params
    assert p.totals.weight_bytes >= 2 * params  # stored in the config's bfloat16
    assert not p.notices


def test_eager_and_batch_options(tmp_path: Path) -> None:
    path = write(tmp_path, TINY_LLAMA)
    sdpa = edgeprof.profile(path, seq_len=8, batch_size=3)
    eager = edgeprof.profile(path, seq_len=8, batch_size=3, attn_implementation="eager")
    assert (sdpa.totals.flops, sdpa.totals.macs) == (eager.totals.flops, eager.totals.macs)
    assert sdpa.inputs[0].shape == (3, 8)
    assert sdpa.totals.macs == 3 * llama_macs(8, 8, logits_rows=8)


def test_vision_config_uses_its_image_size(tmp_path: Path) -> None:
    cfg = {"model_type": "vit", "architectures": ["ViTForImageClassification"], "hidden_size": 64,
           "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 128, "image_size": 32,
           "patch_size": 8}
    p = edgeprof.profile(write(tmp_path, cfg))
    assert [(i.name, i.shape) for i in p.inputs] == [("pixel_values", (1, 3, 32, 32))]
    tokens = 17
    linear = tokens * (4 * 64 * 64 + 2 * 64 * 128)
    assert p.totals.macs == 3 * 64 * 64 * 16 + linear + 2 * 4 * tokens * tokens * 16 + 64 * 2


def test_model_type_without_architectures(tmp_path: Path) -> None:
    cfg = {k: v for k, v in TINY_LLAMA.items() if k != "architectures"}
    p = edgeprof.profile(write(tmp_path, cfg), seq_len=4)
    assert p.model.name == "LlamaForCausalLM"


def test_explicit_input_shapes(tmp_path: Path) -> None:
    p = edgeprof.profile(write(tmp_path, TINY_LLAMA), input_shapes={"input_ids": (2, 5)})
    assert p.inputs[0].shape == (2, 5)
    with pytest.raises(UsageError, match="seq_len"):
        edgeprof.profile(write(tmp_path, TINY_LLAMA), input_shapes={"input_ids": (2, 5)}, seq_len=3)


@pytest.mark.parametrize(("content", "error", "message"), [
    ("{not json", ModelLoadError, "not a JSON file"),
    ('{"hidden_size": 3}', ModelLoadError, "no \\\"model_type\\\""),
    ('{"model_type": "no-such-model-type"}', ModelLoadError, "unknown model_type 'no-such-model-type'"),
])
def test_bad_config_files(tmp_path: Path, content: str, error: type[Exception], message: str) -> None:
    path = tmp_path / "config.json"
    path.write_text(content)
    with pytest.raises(error, match=message):
        edgeprof.profile(path, seq_len=4)


def test_missing_sequence_length_names_the_flag(tmp_path: Path) -> None:
    with pytest.raises(ShapeError, match="--seq-len"):
        edgeprof.profile(write(tmp_path, TINY_LLAMA))
    with pytest.raises(UsageError, match="unknown option"):
        edgeprof.profile(write(tmp_path, TINY_LLAMA), seq_len=4, context=3)


def test_custom_code_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    cfg = dict(TINY_LLAMA, architectures=["EvilForCausalLM"],
               auto_map={"AutoModelForCausalLM": f"evil.EvilForCausalLM; open({str(marker)!r}, 'w')"})
    (tmp_path / "evil.py").write_text(f"open({str(marker)!r}, 'w')\n")
    p = edgeprof.profile(write(tmp_path, cfg), seq_len=4)
    assert p.model.name == "LlamaForCausalLM"  # the built-in class for model_type 'llama'
    assert not marker.exists()


def test_llm_figures_cross_checked_against_the_closed_form(tmp_path: Path) -> None:
    context = 10
    f = llm_figures_for(write(tmp_path, TINY_LLAMA), context)
    # prefill: causal attention over the context, logits of the last position only
    assert f.prefill_logits == "last"
    assert (f.prefill_flops, f.prefill_macs) == (llama_flops(context, context, True, 1), llama_macs(context, context, 1))
    # decode: one token attending to the cache and itself, no mask needed for one query
    assert f.decode_flops_per_token == llama_flops(1, context + 1, masked=False, logits_rows=1)
    assert f.decode_macs_per_token == llama_macs(1, context + 1, 1)
    assert f.kv_cache_bytes_per_token == 2 * 1 * KV * D * 2  # bfloat16 keys and values of one layer
    assert f.kv_cache_bytes == f.kv_cache_bytes_per_token * context
    assert (f.num_layers, f.num_kv_heads, f.head_dim, f.kv_dtype) == (1, KV, D, "bfloat16")
    params = VOCAB * H * 2 + H * H * 2 + 2 * H * KV * D + 3 * H * FF + 3 * H
    assert f.params == params
    assert (f.weight_bytes.fp32, f.weight_bytes.fp16, f.weight_bytes.int8, f.weight_bytes.int4) == (
        4 * params, 2 * params, params, (params + 1) // 2)
    assert not f.is_lower_bound


def test_llm_figures_refuse_an_encoder(tmp_path: Path) -> None:
    cfg = {"model_type": "bert", "architectures": ["BertModel"], "hidden_size": 32, "num_hidden_layers": 1,
           "num_attention_heads": 2, "intermediate_size": 64}
    with pytest.raises(UsageError, match="not a decoder-only LM"):
        llm_figures_for(write(tmp_path, cfg), 8)


def test_kv_cache_and_weight_bytes_formulas() -> None:
    # a 13B Llama: 40 layers, 40 KV heads of 128, fp16 -> 800 KiB per token
    spec = DecoderSpec(num_layers=40, num_kv_heads=40, head_dim=128, kv_dtype="float16", context_len=4096)
    assert kv_cache_bytes_per_token(spec) == 2 * 40 * 40 * 128 * 2 == 819_200
    assert weight_bytes(7).int4 == 4 and weight_bytes(7).fp16 == 14
