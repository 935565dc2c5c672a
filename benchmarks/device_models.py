"""Offline builders for the models named in ``benchmarks/data/published_latency.csv``.

Every model is built in code with seeded random weights (nothing is downloaded: the ``transformers``
config classes under ``HF_HUB_OFFLINE=1``, small ``torch.nn`` definitions written here after the
published architectures, and the MLPerf Tiny references of ``benchmarks/mlperf_tiny_energy.py``),
exported to ONNX once and cached under ``benchmarks/.cache/`` (ignored by git). Latency depends on
the shapes, not on the weights.

``build_onnx(model, shape, precision)`` returns the ONNX file: ``fp32`` as built, ``int8`` the
same graph quantised by ONNX Runtime's ``quantize_static`` in QDQ format (int8 weights and
activations, random calibration data), which edgeprof's deployed graph runs as int8 kernels.
Models with no builder raise :class:`NoBuilder` with the reason.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "benchmarks" / ".cache" / "device_models"


class NoBuilder(Exception):
    """The model cannot be rebuilt offline here; the message says why."""


# ---------------------------------------------------------------------------------------------
# small torch definitions (torchvision is not installed; these follow its layer lists)


def _cbr(cin: int, cout: int, k: int, s: int = 1, p: int | None = None, groups: int = 1,
         act: type[nn.Module] | None = nn.ReLU) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, s, k // 2 if p is None else p, groups=groups, bias=False),
                               nn.BatchNorm2d(cout)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class _Inception(nn.Module):
    """GoogLeNet inception block: 1x1 | 1x1-3x3 | 1x1-3x3 (torchvision's 3x3 for the 5x5) | pool-1x1."""

    def __init__(self, cin: int, c1: int, c3r: int, c3: int, c5r: int, c5: int, pp: int) -> None:
        super().__init__()
        self.b1 = _cbr(cin, c1, 1)
        self.b2 = nn.Sequential(_cbr(cin, c3r, 1), _cbr(c3r, c3, 3))
        self.b3 = nn.Sequential(_cbr(cin, c5r, 1), _cbr(c5r, c5, 3))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), _cbr(cin, pp, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


def googlenet() -> nn.Module:
    """GoogLeNet (Inception v1) as in torchvision: about 1.5 GMAC at 224x224."""
    cfg = [(192, 64, 96, 128, 16, 32, 32), (256, 128, 128, 192, 32, 96, 64), "M",
           (480, 192, 96, 208, 16, 48, 64), (512, 160, 112, 224, 24, 64, 64), (512, 128, 128, 256, 24, 64, 64),
           (512, 112, 144, 288, 32, 64, 64), (528, 256, 160, 320, 32, 128, 128), "M",
           (832, 256, 160, 320, 32, 128, 128), (832, 384, 192, 384, 48, 128, 128)]
    layers: list[nn.Module] = [_cbr(3, 64, 7, 2, 3), nn.MaxPool2d(3, 2, ceil_mode=True), _cbr(64, 64, 1),
                               _cbr(64, 192, 3), nn.MaxPool2d(3, 2, ceil_mode=True)]
    for c in cfg:
        layers.append(nn.MaxPool2d(3, 2, ceil_mode=True) if c == "M" else _Inception(*c))  # type: ignore[misc]
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 1000)]
    return nn.Sequential(*layers)


class _Fire(nn.Module):
    def __init__(self, cin: int, s: int, e: int) -> None:
        super().__init__()
        self.squeeze = nn.Sequential(nn.Conv2d(cin, s, 1), nn.ReLU())
        self.e1 = nn.Sequential(nn.Conv2d(s, e, 1), nn.ReLU())
        self.e3 = nn.Sequential(nn.Conv2d(s, e, 3, padding=1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.squeeze(x)
        return torch.cat([self.e1(y), self.e3(y)], 1)


def squeezenet1_1() -> nn.Module:
    """SqueezeNet 1.1 (torchvision's layer list)."""
    pool = lambda: nn.MaxPool2d(3, 2, ceil_mode=True)  # noqa: E731
    return nn.Sequential(
        nn.Conv2d(3, 64, 3, 2), nn.ReLU(), pool(), _Fire(64, 16, 64), _Fire(128, 16, 64), pool(),
        _Fire(128, 32, 128), _Fire(256, 32, 128), pool(), _Fire(256, 48, 192), _Fire(384, 48, 192),
        _Fire(384, 64, 256), _Fire(512, 64, 256), nn.Conv2d(512, 1000, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten())


def vgg16() -> nn.Module:
    """VGG-16 (configuration D), 224x224, 1000 classes."""
    layers: list[nn.Module] = []
    cin = 3
    for c in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if c == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            assert isinstance(c, int)
            layers += [nn.Conv2d(cin, c, 3, padding=1), nn.ReLU()]
            cin = c
    layers += [nn.Flatten(), nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(),
               nn.Linear(4096, 1000)]
    return nn.Sequential(*layers)


class _SE(nn.Module):
    def __init__(self, c: int, r: int) -> None:
        super().__init__()
        self.f = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, r, 1), nn.ReLU(), nn.Conv2d(r, c, 1),
                               nn.Hardsigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.f(x)


def _div8(v: float) -> int:
    return max(8, int(v + 4) // 8 * 8)


class _MBv3Block(nn.Module):
    def __init__(self, cin: int, k: int, exp: int, cout: int, se: bool, hs: bool, s: int) -> None:
        super().__init__()
        act = nn.Hardswish if hs else nn.ReLU
        layers: list[nn.Module] = [] if exp == cin else [_cbr(cin, exp, 1, act=act)]
        layers.append(_cbr(exp, exp, k, s, groups=exp, act=act))
        if se:
            layers.append(_SE(exp, _div8(exp / 4)))
        layers.append(_cbr(exp, cout, 1, act=None))
        self.f = nn.Sequential(*layers)
        self.res = s == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y: torch.Tensor = self.f(x)
        return x + y if self.res else y


def mobilenet_v3_large() -> nn.Module:
    """MobileNetV3-Large 1.0 (torchvision's block table), 224x224."""
    table = [(3, 16, 16, False, False, 1), (3, 64, 24, False, False, 2), (3, 72, 24, False, False, 1),
             (5, 72, 40, True, False, 2), (5, 120, 40, True, False, 1), (5, 120, 40, True, False, 1),
             (3, 240, 80, False, True, 2), (3, 200, 80, False, True, 1), (3, 184, 80, False, True, 1),
             (3, 184, 80, False, True, 1), (3, 480, 112, True, True, 1), (3, 672, 112, True, True, 1),
             (5, 672, 160, True, True, 2), (5, 960, 160, True, True, 1), (5, 960, 160, True, True, 1)]
    layers: list[nn.Module] = [_cbr(3, 16, 3, 2, act=nn.Hardswish)]
    cin = 16
    for k, exp, cout, se, hs, s in table:
        layers.append(_MBv3Block(cin, k, exp, cout, se, hs, s))
        cin = cout
    layers += [_cbr(160, 960, 1, act=nn.Hardswish), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(960, 1280),
               nn.Hardswish(), nn.Linear(1280, 1000)]
    return nn.Sequential(*layers)


# ---------------------------------------------------------------------------------------------
# transformers config classes (random init, offline)


class _Vision(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model(pixel_values=pixel_values, return_dict=False)[0]
        return out


class _Text(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model(input_ids=input_ids, attention_mask=attention_mask, return_dict=False)[0]
        return out


class _Audio(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_features: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.model(input_features, return_dict=False)[0]
        return out


def _mobilenet_v1(multiplier: float, size: int, channels: int, labels: int) -> nn.Module:
    from transformers import MobileNetV1Config, MobileNetV1ForImageClassification

    # tf_padding=False: symmetric padding inside the Conv (the same MACs); with True the export has a Pad node per
    # conv, which a deployment folds into the conv but the deployed graph keeps as a data-movement kernel
    cfg = MobileNetV1Config(depth_multiplier=multiplier, image_size=size, num_channels=channels, num_labels=labels,
                            tf_padding=False)
    return _Vision(MobileNetV1ForImageClassification(cfg))


def _mobilenet_v2() -> nn.Module:
    from transformers import MobileNetV2Config, MobileNetV2ForImageClassification

    return _Vision(MobileNetV2ForImageClassification(MobileNetV2Config(depth_multiplier=1.0, image_size=224,
                                                                       tf_padding=False, num_labels=1000)))


def _resnet(kind: str) -> nn.Module:
    from transformers import ResNetConfig, ResNetForImageClassification

    if kind == "resnet18":
        cfg = ResNetConfig(layer_type="basic", depths=[2, 2, 2, 2], hidden_sizes=[64, 128, 256, 512],
                           embedding_size=64, num_labels=1000)
    else:
        cfg = ResNetConfig(layer_type="bottleneck", depths=[3, 4, 6, 3], hidden_sizes=[256, 512, 1024, 2048],
                           embedding_size=64, num_labels=1000)
    return _Vision(ResNetForImageClassification(cfg))


def _efficientnet_b0() -> nn.Module:
    from transformers import EfficientNetConfig, EfficientNetForImageClassification

    cfg = EfficientNetConfig(image_size=224, width_coefficient=1.0, depth_coefficient=1.0, dropout_rate=0.2,
                             hidden_dim=1280, num_labels=1000)
    return _Vision(EfficientNetForImageClassification(cfg))


def _vit_b16() -> nn.Module:
    from transformers import ViTConfig, ViTForImageClassification

    cfg = ViTConfig(image_size=224, patch_size=16, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                    intermediate_size=3072, num_labels=1000)
    return _Vision(ViTForImageClassification(cfg))


def _bert_base() -> nn.Module:
    from transformers import BertConfig, BertModel

    return _Text(BertModel(BertConfig(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                                      intermediate_size=3072)))


def _mobilebert() -> nn.Module:
    from transformers import MobileBertConfig, MobileBertModel

    return _Text(MobileBertModel(MobileBertConfig()))  # the defaults are google/mobilebert-uncased


def _whisper_tiny_encoder() -> nn.Module:
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    cfg = WhisperConfig(d_model=384, encoder_layers=4, encoder_attention_heads=6, encoder_ffn_dim=1536,
                        decoder_layers=4, decoder_attention_heads=6, decoder_ffn_dim=1536, num_mel_bins=80)
    return _Audio(WhisperEncoder(cfg))


TORCH_BUILDERS: dict[str, Callable[[], nn.Module]] = {
    "mobilenet_v1_1.0_224": lambda: _mobilenet_v1(1.0, 224, 3, 1001),
    "person_detection_mobilenet_v1_0.25": lambda: _mobilenet_v1(0.25, 96, 1, 2),
    "mobilenet_v2_1.0_224": _mobilenet_v2,
    "mobilenet_v3_large": mobilenet_v3_large,
    "resnet18": lambda: _resnet("resnet18"),
    "resnet50": lambda: _resnet("resnet50"),
    "efficientnet_b0": _efficientnet_b0,
    "googlenet": googlenet,
    "squeezenet1_1": squeezenet1_1,
    "vgg16": vgg16,
    "vit_b_16": _vit_b16,
    "bert_base": _bert_base,
    "mobilebert": _mobilebert,
    "whisper_tiny_encoder": _whisper_tiny_encoder,
}
_TINY = {"mlperf_tiny_kws_dscnn": "kws", "mlperf_tiny_vww_mobilenet_v1_0.25": "vww",
         "mlperf_tiny_ic_resnet8": "ic", "mlperf_tiny_ad_fc_autoencoder": "ad"}
NO_BUILDER = {
    "yolov8n": "Ultralytics YOLO: the ultralytics package is not installed and the architecture is not rebuilt here",
    "yolo11n": "Ultralytics YOLO: the ultralytics package is not installed and the architecture is not rebuilt here",
    "yolo11s": "Ultralytics YOLO: the ultralytics package is not installed and the architecture is not rebuilt here",
    "yolo11m": "Ultralytics YOLO: the ultralytics package is not installed and the architecture is not rebuilt here",
    "inception_v3": "no offline builder (torchvision is not installed; not written here)",
    "inception_v4": "no offline builder (not in transformers or torchvision; not written here)",
    "ssd_mobilenet_v2": "no offline builder (SSD head and anchors; the source's input size is in doubt)",
    "mediapipe_hand_landmark": "no offline builder (MediaPipe's architecture is published only as a .tflite)",
}


def can_build(model: str) -> str:
    """Empty when ``model`` can be built; else the reason it cannot."""
    if model in TORCH_BUILDERS or model in _TINY:
        return ""
    return NO_BUILDER.get(model, "no offline builder for this model name")


# ---------------------------------------------------------------------------------------------
# export and quantisation


def _inputs(model: str, shape: tuple[int, ...]) -> tuple[list[str], tuple[torch.Tensor, ...]]:
    gen = torch.Generator().manual_seed(0)
    if model in ("bert_base", "mobilebert"):
        return ["input_ids", "attention_mask"], (torch.randint(0, 1000, shape, generator=gen),
                                                 torch.ones(shape, dtype=torch.long))
    if model == "whisper_tiny_encoder":
        return ["input_features"], (torch.randn(shape, generator=gen),)
    return ["pixel_values"], (torch.randn(shape, generator=gen),)


def _export_torch(model: str, shape: tuple[int, ...], path: Path) -> None:
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        module = TORCH_BUILDERS[model]().eval()
    names, args = _inputs(model, shape)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, str(path), dynamo=False, opset_version=17, input_names=names,
                          output_names=["output"], do_constant_folding=True)


def _export_tiny(model: str, path: Path) -> None:
    import onnx

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from mlperf_tiny_energy import MODELS

    onnx.save(MODELS[_TINY[model]](), str(path))


def _float_inputs(path: Path) -> list[tuple[str, tuple[int, ...]]]:
    import onnx

    m = onnx.load(str(path), load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    out = []
    for inp in m.graph.input:
        if inp.name in inits:
            continue
        shape = tuple(d.dim_value for d in inp.type.tensor_type.shape.dim)
        out.append((inp.name, shape))
    return out


def _quantise_qdq(src: Path, dst: Path) -> None:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    inputs = _float_inputs(src)

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            rng = np.random.default_rng(1)
            self.items: Iterator[dict[str, Any]] = iter(
                [{n: rng.random(s, dtype=np.float32) for n, s in inputs} for _ in range(2)])

        def get_next(self) -> dict[str, Any] | None:
            return next(self.items, None)

    prepared = dst.with_suffix(".prep.onnx")
    quant_pre_process(str(src), str(prepared), skip_symbolic_shape=True)  # folds BatchNormalization into Conv
    quantize_static(str(prepared), str(dst), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    prepared.unlink(missing_ok=True)


def build_onnx(model: str, shape: tuple[int, ...], precision: str) -> Path:
    """The cached ONNX file of ``model`` at ``shape``: ``fp32``, or ``int8`` (QDQ)."""
    why = can_build(model)
    if why:
        raise NoBuilder(why)
    CACHE.mkdir(parents=True, exist_ok=True)
    stem = f"{model}_{'x'.join(map(str, shape))}"
    fp32 = CACHE / f"{stem}_fp32.onnx"
    if not fp32.exists():
        tmp = fp32.with_suffix(".tmp.onnx")
        if model in _TINY:
            _export_tiny(model, tmp)
        else:
            _export_torch(model, shape, tmp)
        tmp.rename(fp32)
    if precision == "fp32":
        return fp32
    if precision != "int8":
        raise ValueError(precision)
    int8 = CACHE / f"{stem}_int8.onnx"
    if not int8.exists():
        tmp = int8.with_suffix(".tmp.onnx")
        _quantise_qdq(fp32, tmp)
        tmp.rename(int8)
    return int8
