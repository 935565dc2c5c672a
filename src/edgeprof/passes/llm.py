"""LLM figures of a decoder-only language model, from two traced graphs and the KV-cache geometry.

* **prefill**: one forward over ``context_len`` tokens (the frontend says whether it computed the
  logits of every position or only the last one, as ``generate()`` does);
* **decode**: one new token attending to a KV cache of ``context_len`` tokens (``context_len + 1``
  keys): the FLOPs of producing one token at that context;
* **KV cache**: ``2 · layers · kv_heads · head_dim · bytes`` per token (keys and values of every
  layer, with the key/value head count, so grouped-query attention is honoured), and that times
  ``context_len · batch``;
* **weights** at fp32 / fp16 / int8 / int4: parameters · bits / 8 (parameters counted once,
  tied embeddings included once).

Every figure is counted (not measured); the latency prediction (passes/latency.py) turns them into tokens/s.
"""

from __future__ import annotations

from typing import Literal

from edgeprof.ir import Graph, dtype_by_name
from edgeprof.passes.count import count
from edgeprof.passes.params import weight_table
from edgeprof.report.llm import DecoderSpec, LLMFigures, WeightBytes


def kv_cache_bytes_per_token(spec: DecoderSpec) -> int:
    """2 (keys and values) · layers · kv_heads · head_dim · bytes per element, for one sequence."""
    elements = 2 * spec.num_layers * spec.num_kv_heads * spec.head_dim
    return dtype_by_name(spec.kv_dtype).nbytes_for(elements)


def weight_bytes(params: int) -> WeightBytes:
    return WeightBytes(fp32=4 * params, fp16=2 * params, int8=params, int4=(params + 1) // 2)


def llm_figures(prefill: Graph, decode: Graph, spec: DecoderSpec,
                prefill_logits: Literal["last", "all"] = "all") -> LLMFigures:
    """The figures of :class:`LLMFigures` from the traced prefill and decode graphs."""
    pre_table = weight_table(prefill)
    pre = count(prefill, pre_table)
    dec = count(decode, weight_table(decode))
    per_token = kv_cache_bytes_per_token(spec)
    return LLMFigures(
        context_len=spec.context_len,
        batch=spec.batch,
        prefill_flops=pre.flops,
        prefill_macs=pre.macs,
        prefill_logits=prefill_logits,
        decode_flops_per_token=dec.flops // spec.batch,
        decode_macs_per_token=dec.macs // spec.batch,
        kv_cache_bytes_per_token=per_token,
        kv_cache_bytes=per_token * spec.context_len * spec.batch,
        kv_dtype=spec.kv_dtype,
        num_layers=spec.num_layers,
        num_kv_heads=spec.num_kv_heads,
        head_dim=spec.head_dim,
        params=pre_table.params,
        weight_bytes=weight_bytes(pre_table.params),
        is_lower_bound=bool(pre.not_counted or dec.not_counted),
    )
