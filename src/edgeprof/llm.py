"""LLM figures of a Hugging Face config: the PyTorch frontend traces the prefill and the decode
step (:func:`~edgeprof.frontends.pytorch.trace_decoder`), the LLM pass counts them
(:func:`~edgeprof.passes.llm.llm_figures`). Imports torch: imported only when asked for."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from edgeprof.frontends.pytorch import trace_decoder
from edgeprof.passes.llm import llm_figures
from edgeprof.report.llm import LLMFigures

__all__ = ["llm_figures_for"]


def llm_figures_for(source: str | Path | Mapping[str, Any], context_len: int, *, batch_size: int = 1,
                    attn_implementation: str = "sdpa", dtype: str | None = None) -> LLMFigures:
    """Prefill and decode figures of a decoder LLM at ``context_len`` tokens.

    Prefill is one forward over ``context_len`` tokens computing the logits of the last position
    only (as ``generate()`` runs it); decode is one new token attending to a KV cache of
    ``context_len`` tokens (so ``context_len + 1`` keys)."""
    trace = trace_decoder(source, context_len, batch_size=batch_size, attn_implementation=attn_implementation,
                          dtype=dtype)
    return llm_figures(trace.prefill, trace.decode, trace.spec, prefill_logits=trace.prefill_logits)
