"""A model whose weights and inputs are all on the meta device is traced on those meta tensors:
the graph is the one a fake-tensor run records, and anything only a fake run handles makes the
trace redo itself on fake tensors."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import torch
import torch.nn as nn

import edgeprof
from edgeprof.errors import ModelLoadError
from edgeprof.frontends.base import ShapeRequest
from edgeprof.frontends.pytorch import _load
from edgeprof.frontends.pytorch._load import TorchTrace, trace_module

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bool]]:
    """Which runs each trace made: True for a meta run that finished, False for a fake one."""
    seen: list[bool] = []
    inner = _load._trace

    def spy(*args: Any, **kwargs: Any) -> TorchTrace:
        out = inner(*args, **kwargs)
        seen.append(bool(kwargs.get("meta")))
        return out

    monkeypatch.setattr(_load, "_trace", spy)
    yield seen


def _fake_only(model: nn.Module, monkeypatch: pytest.MonkeyPatch, **options: Any) -> TorchTrace:
    with monkeypatch.context() as m:
        m.setattr(_load, "_all_meta", lambda *_: False)
        return trace_module(model, ShapeRequest(), **options)


def _same(a: TorchTrace, b: TorchTrace) -> None:
    for part in ("nodes", "inputs", "outputs", "values", "weights"):
        assert getattr(a.graph, part) == getattr(b.graph, part), part
    assert (a.inputs, a.notices, a.module_calls) == (b.inputs, b.notices, b.module_calls)


class Blocks(nn.Module):
    """Three identical blocks (the later ones reuse the first one's output layouts), a view, a
    split, an in-place op and a layer norm with its saved statistics."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 16)) for _ in range(3))
        self.norm = nn.LayerNorm(16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for b in self.blocks:
            x = x + b(x)
        a, c = self.norm(x).view(2, 4, 16).split(2, dim=1)
        return (a * c).relu_()


def test_meta_run_records_what_a_fake_run_records(runs: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    with torch.device("meta"):
        model = Blocks()
        x = torch.empty(8, 16)
    meta = trace_module(model, ShapeRequest(), example_inputs=(x,))
    fake = _fake_only(model, monkeypatch, example_inputs=(x,))
    assert runs == [True, False]
    _same(meta, fake)


def test_meta_run_of_a_transformer(runs: list[bool], monkeypatch: pytest.MonkeyPatch) -> None:
    transformers = pytest.importorskip("transformers")
    with torch.device("meta"):
        model = transformers.GPT2LMHeadModel(transformers.GPT2Config(n_layer=2, n_embd=64, n_head=4, vocab_size=100,
                                                                           bos_token_id=0, eos_token_id=0))
        ids = torch.zeros((1, 12), dtype=torch.long)
    meta = trace_module(model, ShapeRequest(), example_inputs={"input_ids": ids})
    fake = _fake_only(model, monkeypatch, example_inputs={"input_ids": ids})
    assert runs == [True, False]
    _same(meta, fake)


def _cpu_and_meta_agree(cls: type[nn.Module], shape: tuple[int, ...]) -> None:
    with torch.device("meta"):
        meta_model = cls()
    cpu = edgeprof.profile(cls(), input_shapes=[shape])
    assert edgeprof.profile(meta_model, input_shapes=[shape]).totals == cpu.totals


def test_meta_model_from_input_shapes(runs: list[bool]) -> None:
    _cpu_and_meta_agree(Blocks, (8, 16))
    assert runs == [False, True]


class Linear4(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 4)


class Swallows(Linear4):
    """Reads a value inside ``try``: a fake run takes the ``except`` branch, so the meta run must too."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.lin(x)
        try:
            return y * int(y.sum())
        except Exception:
            return y + 1


def test_a_value_read_inside_try_redoes_the_trace_on_fake_tensors(runs: list[bool],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    with torch.device("meta"):
        model = Swallows()
        x = torch.empty(2, 4)
    traced = trace_module(model, ShapeRequest(), example_inputs=(x,))
    assert runs == [False]
    assert "Add" in {n.op for n in traced.graph.nodes} and "Mul" not in {n.op for n in traced.graph.nodes}
    _same(traced, _fake_only(model, monkeypatch, example_inputs=(x,)))


class ReadsValue(Linear4):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x)[: int(x.sum())]


def test_a_value_read_on_meta_is_still_reported() -> None:
    with torch.device("meta"):
        model = ReadsValue()
    with pytest.raises(ModelLoadError, match="reads tensor values"):
        edgeprof.profile(model, input_shapes=[(2, 4)])


class MakesCpuTensor(Linear4):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.lin(x) * torch.ones(4).to(x.device)


def test_a_tensor_made_on_the_cpu_redoes_the_trace_on_fake_tensors(runs: list[bool]) -> None:
    _cpu_and_meta_agree(MakesCpuTensor, (2, 4))
    assert runs == [False, False]


class TransposesWeight(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.empty(3, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.w.detach().t_()


def test_a_parameter_is_not_reshaped_in_place(runs: list[bool]) -> None:
    with torch.device("meta"):
        model = TransposesWeight()
    p = edgeprof.profile(model, input_shapes=[(2, 5)])
    assert runs == [False]
    assert model.w.shape == (3, 5) and model.w.stride() == (5, 1)
    assert p.totals.macs == 2 * 5 * 3


class Cache:
    def __init__(self, t: torch.Tensor) -> None:
        self.t = t


class TakesObject(Linear4):
    def forward(self, x: torch.Tensor, cache: Cache) -> torch.Tensor:
        cache.t = torch.cat([cache.t, x])
        return self.lin(cache.t)


def test_an_input_object_is_traced_on_fake_tensors(runs: list[bool]) -> None:
    with torch.device("meta"):
        model = TakesObject()
        x = torch.empty(2, 4)
        cache = Cache(torch.empty(3, 4))
    trace_module(model, ShapeRequest(), example_inputs=(x, cache))
    assert runs == [False]
