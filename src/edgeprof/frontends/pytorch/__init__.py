"""The PyTorch frontend: an ``nn.Module``, a ``"package.module:callable"``, a ``torch.export``
``.pt2`` file (``_load.py``) or a Hugging Face ``config.json`` (``_hf.py``) -> the IR, traced at
the aten level on meta or fake tensors. Every other module of this package is internal."""

from __future__ import annotations

from edgeprof.frontends.pytorch._hf import (
    DecoderTrace,
    build_model,
    is_decoder_llm,
    load_hf_config,
    load_hf_config_and_decoder,
    trace_decoder,
)
from edgeprof.frontends.pytorch._load import load_callable, load_pt2, load_torch, trace_module

__all__ = [
    "DecoderTrace",
    "build_model",
    "is_decoder_llm",
    "load_callable",
    "load_hf_config",
    "load_hf_config_and_decoder",
    "load_pt2",
    "load_torch",
    "trace_decoder",
    "trace_module",
]
