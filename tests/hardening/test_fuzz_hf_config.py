"""Random Hugging Face config.json files (fixed seed): the fields edgeprof and transformers
read, set to random JSON values (huge ints, negatives, strings, nulls, NaN, nesting) or
deleted. Every outcome is a Profile or a typed one-line edgeprof error; nothing is downloaded
and no custom code runs. Fewer examples than the ONNX fuzzers: each builds a model (~0.1 s)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import edgeprof
from edgeprof.errors import ModelLoadError
from tests.hardening import fuzz_targets as ft


@settings(max_examples=60, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(base=st.integers(0, 2), edits=ft.hf_edits, seq_len=ft.hf_seq_len)
def test_random_configs_give_a_profile_or_one_typed_line(base: int, edits: list[tuple[str, str, Any]],
                                                        seq_len: int | None) -> None:
    ft.check_hf_config(base, edits, seq_len)


@pytest.mark.parametrize(("key", "value"), [
    ("num_hidden_layers", 10**9), ("num_hidden_layers", 4097), ("num_local_experts", 2**40),
])
def test_a_huge_layer_or_expert_count_is_refused_before_building(tmp_path: Path, key: str, value: int) -> None:
    config = dict(ft.HF_BASES[0], **{key: value})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=f"{key} = {value} is more than 4096"):
        edgeprof.profile(path, seq_len=4)


def test_a_config_nested_absurdly_deep_is_refused(tmp_path: Path) -> None:
    nested: dict[str, Any] = {}
    inner = nested
    for _ in range(40):
        inner["text_config"] = {}
        inner = inner["text_config"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(dict(ft.HF_BASES[0], **nested)))
    with pytest.raises(ModelLoadError, match="nests sub-configs"):
        edgeprof.profile(path, seq_len=4)


def test_a_field_of_the_wrong_type_is_one_typed_line(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(dict(ft.HF_BASES[0], hidden_size={"a": [1]})))
    with pytest.raises(ModelLoadError, match="invalid llama config") as info:
        edgeprof.profile(path, seq_len=4)
    assert "\n" not in str(info.value)


def test_huge_dims_stay_exact(tmp_path: Path) -> None:
    """vocab_size 2**40 on the meta device: nothing is allocated and the embedding's params
    are the exact Python int 2**40 * hidden."""
    path = tmp_path / "config.json"
    path.write_text(json.dumps(dict(ft.HF_BASES[0], vocab_size=2**40)))
    p = edgeprof.profile(path, seq_len=4, memory=False)
    assert p.totals.params > 2 * 2**40 * 32  # input embedding + LM head (untied): both 2**40 x 32
    assert isinstance(p.totals.params, int) and isinstance(p.totals.flops, int)
