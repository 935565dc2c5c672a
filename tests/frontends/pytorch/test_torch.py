"""The torch frontend as a whole: module attribution, shared and tied weights, meta and fake runs,
no side effects, errors, callables and .pt2 files, and the reference architectures."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils._python_dispatch import _get_current_dispatch_mode_stack

import edgeprof
from edgeprof.errors import ModelLoadError, ShapeError, UsageError
from edgeprof.ir import validate
from edgeprof.report.model import Profile

os.environ.setdefault("HF_HUB_OFFLINE", "1")


# ---- models -----------------------------------------------------------------------------


class Block(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)) + x)


class Net(nn.Module):
    """stem conv -> layer1 (two blocks) -> pooled -> head; an LSTM, attention and an upsample on
    the side so that the meta/CPU identity covers every interception."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.layer1 = nn.Sequential(Block(8), Block(8))
        self.rnn = nn.LSTM(8, 6, batch_first=True, bidirectional=True)
        self.q = nn.Linear(12, 12)
        self.head = nn.Linear(12, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer1(self.stem(x))  # (B, 8, 8, 8)
        x = F.interpolate(x, scale_factor=0.5, mode="bilinear")
        seq = x.flatten(2).transpose(1, 2)  # (B, 16, 8)
        y, _ = self.rnn(seq)
        q = self.q(y).unflatten(-1, (2, 6)).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, q, q, is_causal=True).transpose(1, 2).flatten(2)
        return self.head(a.mean(1))


def build_net() -> nn.Module:
    """Used as the 'tests.frontends.pytorch.test_torch:build_net' callable."""
    torch.manual_seed(0)
    return Net()


def not_a_builder() -> int:
    return 3


def totals(p: Profile) -> tuple[int, int, int, int]:
    return p.totals.flops, p.totals.int_ops, p.totals.macs, p.totals.params


SHAPE = [(2, 3, 16, 16)]


# ---- attribution -----------------------------------------------------------------------------


def test_module_attribution_with_depth() -> None:
    p = edgeprof.profile(build_net(), input_shapes=SHAPE)
    assert not p.not_counted
    top = {r.module: r for r in p.by_module(depth=1)}
    assert {"stem", "layer1", "rnn", "q", "head", "(model)"} <= set(top)
    conv_out = 2 * 8 * 8 * 8
    assert top["stem"].macs == 27 * conv_out
    assert top["layer1"].macs == 2 * 72 * conv_out
    deep = {r.module: r for r in p.by_module(depth=2)}
    assert deep["layer1.0"].macs == deep["layer1.1"].macs == 72 * conv_out
    assert deep["layer1.0"].flops + deep["layer1.1"].flops == top["layer1"].flops
    assert sum(r.flops for r in p.by_module(depth=2)) == p.totals.flops
    assert deep["layer1.0"].params == 8 * 72 + 16  # conv weight + bn weight and bias
    # the sdpa call sits in Net.forward itself; the interpolate too
    assert {x.op for x in p.layers if x.scope == ""} >= {"Attention", "Resize"}


def test_shared_module_counts_flops_per_call_and_params_once() -> None:
    class Shared(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(self.fc(x))

    p = edgeprof.profile(Shared(), input_shapes=[(3, 4)])
    assert p.totals.flops == 2 * (3 * 4 * 2 * 4)
    assert p.totals.params == 20
    assert [r.module for r in p.by_module(depth=1)] == ["fc"]


def test_tied_weights_are_counted_once() -> None:
    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(50, 8)
            self.out = nn.Linear(8, 50, bias=False)
            self.out.weight = self.emb.weight

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.out(self.emb(ids))

    p = edgeprof.profile(Tied(), input_shapes={"ids": (2, 3)})
    assert p.totals.params == 400
    assert p.totals.macs == 6 * 8 * 50
    assert [(g.dtype, g.params, g.bytes) for g in p.weights_by_dtype if g.dtype == "float32"] == [("float32", 400, 1600)]


def test_tensors_sharing_storage_are_one_weight() -> None:
    class Views(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(4, 4, bias=False)
            self.b = nn.Linear(4, 4, bias=False)
            self.b.weight = nn.Parameter(self.a.weight.data)  # a second Parameter on the same storage

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.b(self.a(x))

    p = edgeprof.profile(Views(), input_shapes=[(1, 4)])
    assert p.totals.params == 16


# ---- meta, fake and CPU give the same answer --------------------------------------------------------


def test_meta_model_gives_the_cpu_counts() -> None:
    cpu = edgeprof.profile(build_net(), example_inputs=(torch.randn(*SHAPE[0]),))
    with torch.device("meta"):
        meta_model = Net()
    meta = edgeprof.profile(meta_model, input_shapes=SHAPE)
    assert totals(meta) == totals(cpu)
    assert [(r.op, r.flops, r.macs) for r in meta.by_operator()] == [(r.op, r.flops, r.macs) for r in cpu.by_operator()]
    assert meta.totals.weight_bytes == cpu.totals.weight_bytes


def test_fake_tensor_inputs_give_the_cpu_counts() -> None:
    model = build_net()
    cpu = edgeprof.profile(model, input_shapes=SHAPE)
    with FakeTensorMode() as mode:
        x = torch.empty(*SHAPE[0])
    assert not mode.allow_non_fake_inputs
    fake = edgeprof.profile(model, example_inputs=(x,))
    assert totals(fake) == totals(cpu)
    assert not mode.allow_non_fake_inputs  # the user's mode is left as it was


def test_model_built_inside_a_fake_mode() -> None:
    with FakeTensorMode(allow_non_fake_inputs=True):
        model = Net()
        x = torch.empty(*SHAPE[0])
    assert totals(edgeprof.profile(model, example_inputs=(x,))) == totals(edgeprof.profile(build_net(),
                                                                                          input_shapes=SHAPE))


def test_example_inputs_by_keyword_and_nested() -> None:
    class Two(nn.Module):
        def forward(self, pair: tuple[torch.Tensor, torch.Tensor], scale: torch.Tensor) -> torch.Tensor:
            return (pair[0] @ pair[1]) * scale

    p = edgeprof.profile(Two(), example_inputs={"pair": (torch.ones(2, 3), torch.ones(3, 4)), "scale": torch.ones(1)})
    assert p.totals.flops == 8 * 5 + 8
    assert [(i.name, i.shape) for i in p.inputs] == [("pair.0", (2, 3)), ("pair.1", (3, 4)), ("scale", (1,))]


# ---- no side effects ---------------------------------------------------------------------------


def snapshot(model: nn.Module) -> dict[str, Any]:
    mod_hooks = torch.nn.modules.module
    return {
        "state": {k: v.clone() for k, v in model.state_dict().items()},
        "ids": [id(t) for t in [*model.parameters(), *model.buffers()]],
        "requires_grad": [t.requires_grad for t in model.parameters()],
        "training": [m.training for m in model.modules()],
        "hooks": [(len(m._forward_hooks), len(m._forward_pre_hooks), len(m._backward_hooks),
                   len(m._state_dict_hooks)) for m in model.modules()],
        "attrs": [sorted(vars(m)) for m in model.modules()],
        "global": (len(mod_hooks._global_forward_hooks), len(mod_hooks._global_forward_pre_hooks),
                   len(mod_hooks._global_backward_hooks)),
        "modes": (len(_get_current_dispatch_mode_stack()), len(torch.overrides._get_current_function_mode_stack())),
        "grad": torch.is_grad_enabled(),
    }


def assert_same(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert before.keys() == after.keys()
    for key in before:
        if key == "state":
            assert before[key].keys() == after[key].keys()
            for name, t in before[key].items():
                assert torch.equal(t, after[key][name]), name
        else:
            assert before[key] == after[key], key


def test_profiling_leaves_the_model_as_it_was_and_is_repeatable() -> None:
    model = build_net()
    model.train()
    model.layer1[0].bn.eval()
    before = snapshot(model)
    first = edgeprof.profile(model, input_shapes=SHAPE)
    assert_same(before, snapshot(model))
    second = edgeprof.profile(model, input_shapes=SHAPE)
    assert first.to_dict() == second.to_dict()
    assert "training mode" in " ".join(first.notices)


def test_training_forward_with_eval_mode_off_updates_nothing() -> None:
    model = build_net()
    model.train()
    before = snapshot(model)
    p = edgeprof.profile(model, input_shapes=SHAPE, eval_mode=False)
    assert_same(before, snapshot(model))  # batch-norm running stats were updated on fakes only
    eval_p = edgeprof.profile(model, input_shapes=SHAPE)
    assert p.totals.flops > eval_p.totals.flops  # training batch norm computes the batch statistics


class Raises(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.inner = nn.Sequential(nn.ReLU(), nn.Identity())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc(x)
        return self.inner[1](self.check(x))

    def check(self, x: torch.Tensor) -> torch.Tensor:
        raise ValueError("bad input for this model")


def test_a_forward_that_raises_leaves_nothing_behind() -> None:
    model = Raises()
    model.train()
    before = snapshot(model)
    with pytest.raises(ModelLoadError, match=r"Raises\.forward raised ValueError .*bad input for this model"):
        edgeprof.profile(model, input_shapes=[(2, 4)])
    assert_same(before, snapshot(model))


@pytest.mark.parametrize("ctx", [torch.no_grad, torch.inference_mode, torch.enable_grad])
def test_runs_under_any_grad_mode(ctx: Any) -> None:
    model = build_net()
    with ctx():
        before = torch.is_grad_enabled()
        p = edgeprof.profile(model, input_shapes=SHAPE)
        assert torch.is_grad_enabled() == before
    assert not p.not_counted


# ---- errors --------------------------------------------------------------------------------------


def test_wrong_input_shape_names_the_module_and_op() -> None:
    with pytest.raises(ShapeError, match=r"module 'stem' \(Conv2d\) failed in aten::convolution.*2x5x16x16"):
        edgeprof.profile(build_net(), input_shapes=[(2, 5, 16, 16)])


def test_missing_and_extra_inputs() -> None:
    with pytest.raises(ShapeError, match="needs input shapes"):
        edgeprof.profile(build_net())
    with pytest.raises(ShapeError, match="cannot take the given inputs"):
        edgeprof.profile(build_net(), input_shapes=[(1, 3, 8, 8), (1, 3, 8, 8)])
    with pytest.raises(ShapeError, match="no input named 'y'"):
        edgeprof.profile(build_net(), input_shapes={"y": (1, 3, 8, 8)})
    with pytest.raises(UsageError, match="unknown option"):
        edgeprof.profile(build_net(), input_shapes=SHAPE, seq_len=3)
    with pytest.raises(UsageError, match="apply to ONNX models"):
        edgeprof.profile(build_net(), input_shapes=SHAPE, dims={"batch": 2})


def test_data_dependent_forward_runs_for_real_on_a_cpu_model_only() -> None:
    class Dynamic(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.fc(x)
            return y * 2 if y.sum().item() > -1e9 else y

    model = Dynamic()
    x = torch.randn(3, 4)
    rng = torch.random.get_rng_state()
    before = snapshot(model)
    p = edgeprof.profile(model, example_inputs=(x,))
    assert_same(before, snapshot(model))
    assert torch.equal(rng, torch.random.get_rng_state())
    assert p.totals.flops == 3 * 4 * 8 + 11 + 12  # Gemm, the sum (11 adds), the multiply
    assert any("real tensors" in n for n in p.notices)
    with torch.device("meta"):
        meta = Dynamic()
    with pytest.raises(ModelLoadError, match="reads tensor values"):
        edgeprof.profile(meta, input_shapes=[(3, 4)])


def test_a_compiled_module_is_profiled_as_its_module() -> None:
    model = build_net()
    compiled = torch.compile(model)
    assert totals(edgeprof.profile(compiled, input_shapes=SHAPE)) == totals(edgeprof.profile(model, input_shapes=SHAPE))


def test_json_round_trip() -> None:
    p = edgeprof.profile(build_net(), input_shapes=SHAPE)
    assert Profile.from_json(p.to_json()) == p


def test_torchscript_is_refused() -> None:
    with pytest.raises(ModelLoadError, match="TorchScript"):
        edgeprof.profile(torch.jit.script(nn.Linear(2, 2)), input_shapes=[(1, 2)])


# ---- callables, .pt2, checkpoints ---------------------------------------------------------------


def test_callable_spec() -> None:
    p = edgeprof.profile("tests.frontends.pytorch.test_torch:build_net", input_shapes=SHAPE)
    assert totals(p) == totals(edgeprof.profile(build_net(), input_shapes=SHAPE))
    assert p.model.name == "tests.frontends.pytorch.test_torch:build_net"


@pytest.mark.parametrize(("spec", "message"), [
    ("no_such_module_xyz:build", "cannot import module 'no_such_module_xyz'"),
    ("tests.frontends.pytorch.test_torch:no_such_builder", "has no attribute 'no_such_builder'"),
    ("tests.frontends.pytorch.test_torch:not_a_builder", "returned a int, not a torch.nn.Module"),
    ("tests.frontends.pytorch.test_torch:SHAPE", "is a list, not a callable"),
])
def test_bad_callable_specs(spec: str, message: str) -> None:
    with pytest.raises(ModelLoadError, match=message):
        edgeprof.profile(spec, input_shapes=SHAPE)


@pytest.mark.filterwarnings("ignore:The tensor attributes self.rnn._flat_weights")
def test_pt2_file_matches_the_module(tmp_path: Path) -> None:
    model = build_net().eval()
    x = torch.randn(*SHAPE[0])
    path = tmp_path / "net.pt2"
    torch.export.save(torch.export.export(model, (x,)), str(path))
    from_file = edgeprof.profile(path)
    direct = edgeprof.profile(model, input_shapes=SHAPE)
    assert (from_file.totals.macs, from_file.totals.params) == (direct.totals.macs, direct.totals.params)
    assert from_file.totals.flops == direct.totals.flops
    assert from_file.model.format == "torch-export"
    assert [i.shape for i in from_file.inputs] == [SHAPE[0]]  # the shapes recorded in the program
    assert {"stem", "layer1", "head"} <= {r.module for r in from_file.by_module(depth=1)}
    with pytest.raises(ShapeError, match=r"exported for input shape \(2, 3, 16, 16\)"):
        edgeprof.profile(path, input_shapes=[(1, 3, 16, 16)])


def test_pt2_with_a_dynamic_batch(tmp_path: Path) -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 2)).eval()
    batch = torch.export.Dim("batch")
    program = torch.export.export(model, (torch.randn(2, 3, 8, 8),), dynamic_shapes=({0: batch},))
    path = tmp_path / "dyn.pt2"
    torch.export.save(program, str(path))
    with pytest.raises(ShapeError, match="dynamic dims"):
        edgeprof.profile(path)
    p = edgeprof.profile(path, input_shapes=[(5, 3, 8, 8)])
    assert p.totals.macs == 5 * (27 * 4 * 36 + 144 * 2)


def test_pt2_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    """Hostile archives: tests/hardening/test_pt2_archive.py."""
    junk = tmp_path / "junk.pt2"
    junk.write_bytes(b"not a zip")
    with pytest.raises(ModelLoadError, match=r"not a torch\.export archive"):
        edgeprof.profile(junk)
    empty = tmp_path / "empty.pt2"
    with zipfile.ZipFile(empty, "w"):
        pass
    with pytest.raises(ModelLoadError, match=r"not a torch\.export archive"):
        edgeprof.profile(empty)


def test_pickled_checkpoints_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "weights.pt"
    torch.save(nn.Linear(2, 2), str(path))
    with pytest.raises(ModelLoadError, match="refusing to unpickle"):
        edgeprof.profile(path)


def test_graph_is_valid_ir_with_torch_names() -> None:
    loaded = edgeprof.load(build_net(), input_shapes=SHAPE)
    validate(loaded.graph)
    g = loaded.graph
    assert g.inputs == ("x",)
    assert g.weights["stem.weight"].role == "parameter"
    assert g.weights["layer1.0.bn.running_mean"].role == "buffer"
    conv = next(n for n in g.nodes if n.op == "Conv")
    assert (conv.scope, conv.source_op) == ("stem", "aten.convolution.default")
    assert dict(conv.attrs) == {"strides": (2, 2), "pads": (1, 1, 1, 1), "dilations": (1, 1), "group": 1,
                                "kernel_shape": (3, 3)}
    assert len({n.name for n in g.nodes}) == len(g.nodes)
    assert any(n.attrs.get("view") == 1 for n in g.nodes if n.op == "Reshape")


def test_import_edgeprof_does_not_import_torch() -> None:
    import subprocess
    import sys

    code = "import sys, edgeprof; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
