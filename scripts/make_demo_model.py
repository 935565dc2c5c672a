"""Build the demo model shipped as ``models/demo.onnx``, in code, with seeded weights.

EdgeNet-S is a small MobileNetV3-style image classifier (224x224 RGB in, 1000 logits out):
a 3x3 stem, six inverted-residual blocks (1x1 expansion, depthwise 3x3/5x5, squeeze-and-excite
with Sigmoid, 1x1 projection, residual Add where shapes allow), a 1x1 head convolution, global
average pooling and a two-layer classifier; BatchNorm after every convolution, ReLU in the early
blocks and HardSwish in the later ones. 549,240 parameters (2.2 MB as float32), 31.1 M conv+linear MACs.

Run from the repository root (``.venv/bin/python scripts/make_demo_model.py``); the result
is the same file every time (fixed seed, fixed exporter settings). See ``models/README.md``.
"""

from __future__ import annotations

import argparse
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

SEED = 0
IMAGE_SIZE = 224
NUM_CLASSES = 1000
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "models" / "demo.onnx"


@dataclass(frozen=True)
class BlockSpec:
    """One inverted-residual block: depthwise kernel, expanded width (= input width means no
    expansion conv), output width, squeeze-excite width (0: none), activation, stride."""

    kernel: int
    expanded: int
    out: int
    se: int
    act: str  # "relu" or "hswish"
    stride: int


STEM_OUT = 16
BLOCKS: tuple[BlockSpec, ...] = (
    BlockSpec(3, 16, 16, 8, "relu", 2),  # 112 -> 56, no expansion (depthwise-separable)
    BlockSpec(3, 64, 24, 0, "relu", 2),  # 56 -> 28
    BlockSpec(3, 72, 24, 0, "relu", 1),  # residual
    BlockSpec(5, 96, 40, 24, "hswish", 2),  # 28 -> 14
    BlockSpec(5, 240, 40, 64, "hswish", 1),  # residual
    BlockSpec(5, 240, 40, 64, "hswish", 1),  # residual
    BlockSpec(5, 144, 64, 40, "hswish", 2),  # 14 -> 7
)
HEAD_OUT = 384
HIDDEN = 256


def _act(name: str) -> nn.Module:
    return nn.ReLU() if name == "relu" else nn.Hardswish()


class ConvBNAct(nn.Sequential):
    """Conv (no bias) -> BatchNorm -> optional activation; 'same' padding."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, act: str | None = None):
        layers: list[nn.Module] = [
            nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout),
        ]
        if act is not None:
            layers.append(_act(act))
        super().__init__(*layers)


class SqueezeExcite(nn.Module):
    """x * sigmoid(W2 relu(W1 avgpool(x))), W1/W2 as 1x1 convolutions with bias."""

    def __init__(self, channels: int, squeezed: int) -> None:
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(channels, squeezed, 1)
        self.relu = nn.ReLU()
        self.expand = nn.Conv2d(squeezed, channels, 1)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s: torch.Tensor = self.gate(self.expand(self.relu(self.reduce(self.pool(x)))))
        return x * s


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, spec: BlockSpec) -> None:
        super().__init__()
        self.use_residual = spec.stride == 1 and cin == spec.out
        self.expand = ConvBNAct(cin, spec.expanded, 1, act=spec.act) if spec.expanded != cin else nn.Identity()
        self.depthwise = ConvBNAct(spec.expanded, spec.expanded, spec.kernel, spec.stride, groups=spec.expanded,
                                   act=spec.act)
        self.se = SqueezeExcite(spec.expanded, spec.se) if spec.se else nn.Identity()
        self.project = ConvBNAct(spec.expanded, spec.out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y: torch.Tensor = self.project(self.se(self.depthwise(self.expand(x))))
        return x + y if self.use_residual else y


class EdgeNetS(nn.Module):
    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        layers: list[nn.Module] = [ConvBNAct(3, STEM_OUT, 3, 2, act="hswish")]
        cin = STEM_OUT
        for spec in BLOCKS:
            layers.append(InvertedResidual(cin, spec))
            cin = spec.out
        layers.append(ConvBNAct(cin, HEAD_OUT, 1, act="hswish"))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Flatten(1), nn.Linear(HEAD_OUT, HIDDEN), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(HIDDEN, num_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.classifier(self.pool(self.features(x)))
        return out


def build_demo_model(seed: int = SEED) -> EdgeNetS:
    """EdgeNet-S with seeded weights as if trained: every tensor distinct and non-trivial
    (BatchNorm statistics and biases included), in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    model = EdgeNetS()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                fan_out = m.out_channels * m.kernel_size[0] * m.kernel_size[1] // m.groups
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * (2.0 / fan_out) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.01)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
                assert m.running_mean is not None and m.running_var is not None
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
            elif isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * 0.01)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.01)
    return model.eval()


def export_demo(path: Path, *, fp16: bool = False, seed: int = SEED) -> Path:
    """Export EdgeNet-S to ``path`` (one file, weights inside; batch dim symbolic: ``batch``).

    The TorchScript exporter in ``PRESERVE`` mode keeps every BatchNormalization node and names
    nodes after their module path (``/features/4/depthwise/0/Conv``)."""
    model = build_demo_model(seed)
    x = torch.randn(1, 3, IMAGE_SIZE, IMAGE_SIZE, generator=torch.Generator().manual_seed(seed))
    if fp16:
        model, x = model.half(), x.half()
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(
            model, (x,), str(path), dynamo=False, opset_version=20, input_names=["image"], output_names=["logits"],
            dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
            training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=True,
        )
    _stamp(path)
    return path


def _stamp(path: Path) -> None:
    """Name the graph and record what the model is in the file's metadata."""
    import onnx

    proto = onnx.load(str(path))
    proto.graph.name = "EdgeNet-S"
    proto.doc_string = "EdgeNet-S: MobileNetV3-style demo classifier built by scripts/make_demo_model.py (seeded)"
    del proto.metadata_props[:]
    for key, value in (("model", "EdgeNet-S"), ("source", "scripts/make_demo_model.py"), ("seed", str(SEED))):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output file (default: {DEFAULT_OUT})")
    parser.add_argument("--fp16", action="store_true", help="store weights as float16 (default: float32)")
    args = parser.parse_args(argv)
    path = export_demo(args.out, fp16=args.fp16)
    params = sum(p.numel() for p in build_demo_model().parameters())
    print(f"wrote {path} ({path.stat().st_size:,} bytes, {params:,} parameters)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
