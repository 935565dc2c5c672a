"""Reference architectures, built offline in code and exported to ONNX, for end-to-end tests
and for ``benchmarks/onnx_vs_onnx_tool.py``.

Every model is built from a ``transformers`` config class with random weights (nothing is
downloaded: ``HF_HUB_OFFLINE=1``), seeded so that two builds are identical, and exported with
:func:`export_onnx`. Tests get the exports through the session-scoped :func:`reference_onnx`
fixture (each model is built and exported at most once per test session)::

    from tests.reference_models import reference_onnx  # noqa: F401  (a pytest fixture)

    def test_something(reference_onnx: ReferenceCache) -> None:
        path = reference_onnx.onnx("resnet50")
        module = reference_onnx.module("resnet50")

Exporter: the TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``) with
``training=TrainingMode.PRESERVE`` on a module in eval mode. It keeps every
``BatchNormalization`` node (the ``EVAL`` mode and the dynamo exporter's optimiser fold BN into
the preceding Conv), names nodes after their module path (``/model/resnet/encoder/stages.0/...``)
and is 2.5-15x faster than ``dynamo=True`` on these models (which fails on ConvNeXt-T
with a symbolic batch). The dynamo exporter is available with
``exporter="dynamo"`` (its optimiser folds BatchNormalization into Conv).

Two export artefacts to know about when reading parameter counts:

* the TorchScript exporter de-duplicates initializers with equal contents. Freshly initialised
  models have many (every BN/LayerNorm gamma is all ones, every beta and bias all zeros), so
  :func:`build_model` adds a small seeded perturbation to every float parameter and buffer;
* a tied weight used transposed (GPT-2's ``lm_head`` is ``wte``) is exported as a second,
  constant-folded, transposed initializer: the file stores it twice.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from typing import Any, Literal

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import torch  # after the offline switches

Exporter = Literal["torchscript", "dynamo"]
SEED = 0
_IMAGENET: dict[str, Any] = {"num_labels": 1000}  # a kwarg the config classes take via **kwargs

# ---------------------------------------------------------------------------------------------
# builders


class _TextModel(torch.nn.Module):
    """Calls a transformers text model with keyword arguments (the TorchScript tracer passes
    positional ones) and no KV cache; returns its tensor outputs as a tuple."""

    def __init__(self, model: torch.nn.Module, n_outputs: int) -> None:
        super().__init__()
        self.model = model
        self.n_outputs = n_outputs

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False, return_dict=False)
        return tuple(out[: self.n_outputs])


class _VisionModel(torch.nn.Module):
    """Returns the logits tensor of a transformers image classifier."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model(pixel_values=pixel_values, return_dict=False)[0]
        return out


def _resnet50() -> torch.nn.Module:
    from transformers import ResNetConfig, ResNetForImageClassification

    cfg = ResNetConfig(
        layer_type="bottleneck", depths=[3, 4, 6, 3], hidden_sizes=[256, 512, 1024, 2048], embedding_size=64,
        **_IMAGENET,
    )
    return _VisionModel(ResNetForImageClassification(cfg))


def _mobilenet_v2() -> torch.nn.Module:
    from transformers import MobileNetV2Config, MobileNetV2ForImageClassification

    # depth multiplier 1.0, 224x224, TensorFlow "same" padding (the HF default), 1000 classes
    cfg = MobileNetV2Config(depth_multiplier=1.0, image_size=224, tf_padding=True, **_IMAGENET)
    return _VisionModel(MobileNetV2ForImageClassification(cfg))


def _efficientnet_b0() -> torch.nn.Module:
    from transformers import EfficientNetConfig, EfficientNetForImageClassification

    # the config class defaults to B7; these are B0's settings
    cfg = EfficientNetConfig(
        image_size=224, width_coefficient=1.0, depth_coefficient=1.0, dropout_rate=0.2, hidden_dim=1280,
        **_IMAGENET,
    )
    return _VisionModel(EfficientNetForImageClassification(cfg))


def _vit_b16() -> torch.nn.Module:
    from transformers import ViTConfig, ViTForImageClassification

    cfg = ViTConfig(image_size=224, patch_size=16, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                    intermediate_size=3072, **_IMAGENET)
    return _VisionModel(ViTForImageClassification(cfg))


def _convnext_tiny() -> torch.nn.Module:
    from transformers import ConvNextConfig, ConvNextForImageClassification

    cfg = ConvNextConfig(depths=[3, 3, 9, 3], hidden_sizes=[96, 192, 384, 768], **_IMAGENET)
    return _VisionModel(ConvNextForImageClassification(cfg))


def _bert_base() -> torch.nn.Module:
    from transformers import BertConfig, BertModel

    cfg = BertConfig(hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072)
    # both outputs (last_hidden_state, pooler_output): with one, the pooler would be dead code
    return _TextModel(BertModel(cfg), n_outputs=2)


def _gpt2_small() -> torch.nn.Module:
    from transformers import GPT2Config, GPT2LMHeadModel

    cfg = GPT2Config(n_embd=768, n_layer=12, n_head=12, n_positions=1024, vocab_size=50257)
    return _TextModel(GPT2LMHeadModel(cfg), n_outputs=1)


@dataclass(frozen=True)
class ReferenceSpec:
    """One reference architecture: how to build it, its inputs at the profiled shape, and the
    symbolic dims of the exported graph (``dims`` gives their profiled values)."""

    name: str
    title: str
    build: Callable[[], torch.nn.Module]
    input_shapes: Mapping[str, tuple[int, ...]]
    input_kind: Literal["image", "tokens"]
    output_names: tuple[str, ...]
    dynamic_axes: Mapping[str, Mapping[int, str]]
    vocab_size: int = 0
    dims: Mapping[str, int] = field(default_factory=dict)
    attention: tuple[int, int, int] = (0, 0, 0)  # (layers, tokens, hidden) of softmax attention

    @property
    def attention_macs(self) -> int:
        """MACs of the attention matmuls at the profiled shape: Q·Kᵀ and probabilities·V,
        tokens²·hidden each (summed over heads), per layer."""
        layers, tokens, hidden = self.attention
        return layers * 2 * tokens * tokens * hidden


_IMAGE = {"pixel_values": (1, 3, 224, 224)}
_IMAGE_AXES = {"pixel_values": {0: "batch"}}
_TOKENS_AXES = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}}

REFERENCES: dict[str, ReferenceSpec] = {
    s.name: s
    for s in (
        ReferenceSpec("resnet50", "ResNet-50", _resnet50, _IMAGE, "image", ("logits",), _IMAGE_AXES,
                      dims={"batch": 1}),
        ReferenceSpec("mobilenet_v2", "MobileNetV2 1.0 224", _mobilenet_v2, _IMAGE, "image", ("logits",),
                      _IMAGE_AXES, dims={"batch": 1}),
        ReferenceSpec("efficientnet_b0", "EfficientNet-B0", _efficientnet_b0, _IMAGE, "image", ("logits",),
                      _IMAGE_AXES, dims={"batch": 1}),
        ReferenceSpec("vit_b16", "ViT-B/16 224", _vit_b16, _IMAGE, "image", ("logits",), _IMAGE_AXES,
                      dims={"batch": 1}, attention=(12, 197, 768)),
        ReferenceSpec("convnext_tiny", "ConvNeXt-T", _convnext_tiny, _IMAGE, "image", ("logits",), _IMAGE_AXES,
                      dims={"batch": 1}),
        ReferenceSpec("bert_base", "BERT-base (seq 128)", _bert_base,
                      {"input_ids": (1, 128), "attention_mask": (1, 128)}, "tokens",
                      ("last_hidden_state", "pooler_output"), _TOKENS_AXES, vocab_size=30522,
                      dims={"batch": 1, "sequence": 128}, attention=(12, 128, 768)),
        ReferenceSpec("gpt2_small", "GPT-2 small (seq 128)", _gpt2_small,
                      {"input_ids": (1, 128), "attention_mask": (1, 128)}, "tokens", ("logits",), _TOKENS_AXES,
                      vocab_size=50257, dims={"batch": 1, "sequence": 128}, attention=(12, 128, 768)),
    )
}
REFERENCE_NAMES: tuple[str, ...] = tuple(REFERENCES)


def _spec(name: str) -> ReferenceSpec:
    try:
        return REFERENCES[name]
    except KeyError:
        raise KeyError(f"unknown reference model {name!r}; known: {', '.join(REFERENCES)}") from None


def perturb_(module: torch.nn.Module, seed: int = SEED) -> None:
    """Add seeded noise (std 1e-3) to every float parameter and buffer, in place, so that no two
    tensors have equal contents (the TorchScript exporter would merge them into one initializer).
    Variances stay positive."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        tensors = [*module.named_parameters(), *module.named_buffers()]
        for name, t in tensors:
            if not t.is_floating_point():
                continue
            t.add_(torch.randn(t.shape, generator=gen, dtype=t.dtype) * 1e-3)
            if name.endswith("running_var"):
                t.abs_()


def build_model(name: str) -> torch.nn.Module:
    """Build reference model ``name`` with seeded random weights, perturbed, in eval mode."""
    spec = _spec(name)
    torch.manual_seed(SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # third-party init notices
        module = spec.build()
    perturb_(module)
    return module.eval()


def example_inputs(name: str) -> tuple[torch.Tensor, ...]:
    """Inputs at the profiled shape (seeded): an image batch, or token ids with an all-ones mask."""
    spec = _spec(name)
    gen = torch.Generator().manual_seed(SEED)
    out: list[torch.Tensor] = []
    for input_name, shape in spec.input_shapes.items():
        if input_name == "attention_mask":
            out.append(torch.ones(shape, dtype=torch.long))
        elif spec.input_kind == "tokens":
            out.append(torch.randint(0, spec.vocab_size, shape, generator=gen))
        else:
            out.append(torch.randn(shape, generator=gen))
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# export


@dataclass(frozen=True)
class Export:
    """An exported reference model: where it is and how long the export took (build excluded)."""

    name: str
    path: Path
    export_s: float
    exporter: Exporter


def export_onnx(
    name: str,
    folder: Path | str,
    *,
    module: torch.nn.Module | None = None,
    exporter: Exporter = "torchscript",
    opset: int = 20,
) -> Export:
    """Export reference model ``name`` to ``folder/<name>.onnx`` (one file, weights inside).

    ``module`` is the already built model (else :func:`build_model` builds it). The batch
    (and, for text models, the sequence) dim is symbolic in the file."""
    spec = _spec(name)
    model = module if module is not None else build_model(name)
    args = example_inputs(name)
    path = Path(folder) / f"{name}.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    input_names = list(spec.input_shapes)
    start = time.perf_counter()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the exporters' deprecation and tracer warnings
        if exporter == "torchscript":
            torch.onnx.export(
                model, args, str(path), dynamo=False, opset_version=opset, input_names=input_names,
                output_names=list(spec.output_names),
                dynamic_axes={k: dict(v) for k, v in spec.dynamic_axes.items()},
                training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True,
            )
        elif exporter == "dynamo":
            dims: dict[str, Any] = {}
            dynamic_shapes = tuple(
                {axis: dims.setdefault(dim, torch.export.Dim(dim)) for axis, dim in spec.dynamic_axes[n].items()}
                for n in input_names
            )
            torch.onnx.export(
                model, args, str(path), dynamo=True, opset_version=opset, input_names=input_names,
                output_names=list(spec.output_names), dynamic_shapes=dynamic_shapes, external_data=False,
                optimize=True, verbose=False,
            )
        else:
            raise ValueError(f"unknown exporter {exporter!r}")
    return Export(name, path, time.perf_counter() - start, exporter)


# ---------------------------------------------------------------------------------------------
# independent counts from the torch module (no edgeprof code involved)


def torch_param_count(module: torch.nn.Module) -> int:
    """Learnable parameters of ``module``: numel of each distinct ``nn.Parameter`` (tied ones once)."""
    return sum(p.numel() for p in module.parameters())


@dataclass
class TorchCounts:
    """Conv and linear figures of one forward pass, from the module's forward hooks.

    ``*_macs`` as in the counting contract; ``*_outputs`` the output elements of those layers,
    ``*_bias_outputs`` those of the layers that add a bias (so exact FLOPs are
    ``2·macs - outputs + bias_outputs``)."""

    conv_macs: int = 0
    conv_outputs: int = 0
    conv_bias_outputs: int = 0
    conv_layers: int = 0
    linear_macs: int = 0
    linear_outputs: int = 0
    linear_bias_outputs: int = 0
    linear_layers: int = 0

    @property
    def macs(self) -> int:
        return self.conv_macs + self.linear_macs

    @property
    def conv_flops(self) -> int:
        return 2 * self.conv_macs - self.conv_outputs + self.conv_bias_outputs

    @property
    def linear_flops(self) -> int:
        return 2 * self.linear_macs - self.linear_outputs + self.linear_bias_outputs


def conv_linear_counts(module: torch.nn.Module, inputs: tuple[torch.Tensor, ...]) -> TorchCounts:
    """MACs of every ``nn.Conv*d``, ``nn.Linear`` and transformers ``Conv1D`` call in one forward,
    from the output shapes recorded by forward hooks (independent of edgeprof):

    * conv: ``out.numel() * in_channels/groups * prod(kernel_size)``;
    * linear: ``out.numel() * in_features`` (``Conv1D``: ``weight.shape[0]``).

    Attention's batched matmuls are not modules and are not included."""
    from transformers.pytorch_utils import Conv1D

    c = TorchCounts()

    def hook(mod: torch.nn.Module, _args: Any, out: torch.Tensor) -> None:
        n = out.numel()
        has_bias = getattr(mod, "bias", None) is not None
        if isinstance(mod, torch.nn.modules.conv._ConvNd):
            c.conv_macs += n * (mod.in_channels // mod.groups) * prod(mod.kernel_size)
            c.conv_outputs += n
            c.conv_bias_outputs += n if has_bias else 0
            c.conv_layers += 1
        else:
            weight = mod.weight
            assert isinstance(weight, torch.Tensor)
            # nn.Linear stores (out, in); transformers' Conv1D stores (in, out)
            in_features = int(weight.shape[1] if isinstance(mod, torch.nn.Linear) else weight.shape[0])
            c.linear_macs += n * in_features
            c.linear_outputs += n
            c.linear_bias_outputs += n if has_bias else 0
            c.linear_layers += 1

    handles = [
        m.register_forward_hook(hook)
        for m in module.modules()
        if isinstance(m, (torch.nn.modules.conv._ConvNd, torch.nn.Linear, Conv1D))
    ]
    try:
        with torch.no_grad():
            module(*inputs)
    finally:
        for h in handles:
            h.remove()
    return c


# ---------------------------------------------------------------------------------------------
# pytest fixture: one build and one export per model per session


class ReferenceCache:
    """Builds and exports reference models on first use, once per session."""

    def __init__(self, folder: Path, exporter: Exporter = "torchscript") -> None:
        self.folder = folder
        self.exporter: Exporter = exporter
        self._modules: dict[str, torch.nn.Module] = {}
        self._exports: dict[str, Export] = {}
        self.build_s: dict[str, float] = {}

    def module(self, name: str) -> torch.nn.Module:
        if name not in self._modules:
            start = time.perf_counter()
            self._modules[name] = build_model(name)
            self.build_s[name] = time.perf_counter() - start
        return self._modules[name]

    def export(self, name: str) -> Export:
        if name not in self._exports:
            self._exports[name] = export_onnx(name, self.folder, module=self.module(name), exporter=self.exporter)
        return self._exports[name]

    def onnx(self, name: str) -> Path:
        return self.export(name).path

    def exports(self) -> Iterator[Export]:
        return iter(self._exports.values())


@pytest.fixture(scope="session")
def reference_onnx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceCache]:
    """Session-wide :class:`ReferenceCache` exporting into a pytest temp dir, which is removed at
    the end of the session (the exports take about 1.3 GB; pytest keeps old temp dirs)."""
    folder = tmp_path_factory.mktemp("reference_onnx")
    yield ReferenceCache(folder)
    shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# command line: export all (or some) reference models into a folder and print the timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Export the reference models to ONNX.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("names", nargs="*", default=list(REFERENCE_NAMES))
    parser.add_argument("--exporter", choices=("torchscript", "dynamo"), default="torchscript")
    args = parser.parse_intermixed_args(argv)
    cache = ReferenceCache(args.folder, args.exporter)
    for name in args.names:
        e = cache.export(name)
        size_mb = e.path.stat().st_size / 1e6
        print(f"{name:16s} build {cache.build_s[name]:6.2f} s  export {e.export_s:6.2f} s  {size_mb:8.1f} MB  {e.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
