"""LLM figures of a decoder-only language model (data only; :mod:`edgeprof.passes.llm` computes
them from the traced prefill and decode graphs and the KV-cache geometry, see there for what each
figure is)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class DecoderSpec:
    """The KV-cache geometry of a decoder and the context the figures are for."""

    num_layers: int
    num_kv_heads: int
    head_dim: int
    kv_dtype: str  # IR dtype name of the cached keys/values ("bfloat16")
    context_len: int
    batch: int = 1


@dataclass(frozen=True)
class WeightBytes:
    """Bytes of the parameters stored at each precision (int4: two per byte, rounded up)."""

    fp32: int
    fp16: int
    int8: int
    int4: int


@dataclass(frozen=True)
class LLMFigures:
    """Prefill, decode and memory figures of a decoder LLM at one context length."""

    context_len: int
    batch: int
    prefill_flops: int
    prefill_macs: int
    prefill_logits: Literal["last", "all"]
    decode_flops_per_token: int
    decode_macs_per_token: int
    kv_cache_bytes_per_token: int
    kv_cache_bytes: int
    kv_dtype: str
    num_layers: int
    num_kv_heads: int
    head_dim: int
    params: int
    weight_bytes: WeightBytes
    is_lower_bound: bool  # some op of the prefill or decode graph was not counted
