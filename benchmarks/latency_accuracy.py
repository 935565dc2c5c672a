"""Latency prediction accuracy on this host: calibrate, then predicted vs measured per model.

Run from the repository root::

    .venv/bin/python benchmarks/latency_accuracy.py [--out DIR] [--host host.toml] [--max-time S]

1. ``edgeprof calibrate`` (in-process: :func:`edgeprof.calibrate`) writes
   ``DIR/host.toml`` unless ``--host`` gives an existing file;
2. the models are built offline in code (``tests/reference_models.py`` builders, ``models/demo.onnx``,
   an LSTM, and two quantised models made with ONNX Runtime's quantisation tools) and exported to ONNX;
3. for each model: the roofline prediction on ``host`` and the measured p50 on ONNX Runtime (same
   thread count as the calibration), via :func:`edgeprof.validate`;
4. prints the Markdown table for docs/latency.md and writes ``DIR/latency_accuracy.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))


def _lstm(folder: Path) -> tuple[Path, dict[str, tuple[int, ...]]]:
    import torch

    class Tagger(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = torch.nn.LSTM(128, 256, num_layers=2, batch_first=True)
            self.head = torch.nn.Linear(256, 32)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(self.lstm(x)[0])  # type: ignore[no-any-return]

    torch.manual_seed(0)
    path = folder / "lstm_tagger.onnx"
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Tagger().eval(), (torch.randn(1, 64, 128),), str(path), dynamo=False, opset_version=17,
                          input_names=["x"], output_names=["y"])
    return path, {"x": (1, 64, 128)}


def _quantised_dynamic(src: Path, folder: Path, name: str) -> Path:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out = folder / f"{name}.onnx"
    quantize_dynamic(str(src), str(out), weight_type=QuantType.QInt8)
    return out


def _quantised_static(src: Path, folder: Path, name: str, shape: tuple[int, ...], input_name: str) -> Path:
    import numpy as np
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            rng = np.random.default_rng(0)
            self.items = iter([{input_name: rng.random(shape, dtype=np.float32)} for _ in range(4)])

        def get_next(self) -> dict[str, Any] | None:
            return next(self.items, None)

    import onnx
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization.shape_inference import quant_pre_process

    fixed = folder / f"{name}_fp32_fixed.onnx"

    model = onnx.load(str(src))
    for inp in model.graph.input:
        if inp.name == input_name:
            for d, size in zip(inp.type.tensor_type.shape.dim, shape, strict=True):
                d.ClearField("dim_param")
                d.dim_value = size
    onnx.save(model, str(fixed))
    prepared = folder / f"{name}_fp32_prepared.onnx"
    quant_pre_process(str(fixed), str(prepared))  # folds BatchNormalization into Conv (ONNX Runtime optimiser)
    out = folder / f"{name}.onnx"
    quantize_static(str(prepared), str(out), Reader(), quant_format=QuantFormat.QOperator,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    return out


def build_models(folder: Path) -> list[tuple[str, Path, dict[str, tuple[int, ...]]]]:
    from tests.reference_models import REFERENCES, export_onnx

    out: list[tuple[str, Path, dict[str, tuple[int, ...]]]] = []
    for name in ("mobilenet_v2", "efficientnet_b0", "resnet50", "convnext_tiny", "vit_b16", "bert_base", "gpt2_small"):
        path = folder / f"{name}.onnx"
        if not path.exists():
            export_onnx(name, folder)
        out.append((name, path, dict(REFERENCES[name].input_shapes)))
    out.append(("demo (MobileNetV3-ish)", ROOT / "models" / "demo.onnx", {"image": (1, 3, 224, 224)}))
    builders: list[tuple[str, Callable[[], tuple[Path, dict[str, tuple[int, ...]]]]]] = [
        ("lstm_tagger (2-layer LSTM)", lambda: _lstm(folder)),
        ("bert_base int8 (dynamic)", lambda: (_quantised_dynamic(folder / "bert_base.onnx", folder, "bert_base_int8"),
                                              dict(REFERENCES["bert_base"].input_shapes))),
        ("resnet50 int8 (QLinearConv)", lambda: (_quantised_static(folder / "resnet50.onnx", folder, "resnet50_int8",
                                                                    (1, 3, 224, 224), "pixel_values"),
                                                 {"pixel_values": (1, 3, 224, 224)})),
    ]
    for label, build in builders:
        try:
            path, shapes = build()
            out.append((label, path, shapes))
        except Exception as exc:  # a builder this environment cannot run: reported, not hidden
            print(f"skipped {label}: {type(exc).__name__}: {exc}", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/edgeprof-latency-bench", help="work folder (models, host.toml, JSON)")
    parser.add_argument("--host", default=None, help="an existing host.toml (default: calibrate now)")
    parser.add_argument("--max-time", type=float, default=10.0, help="most seconds of timed runs per model")
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads")
    args = parser.parse_args(argv)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)

    from edgeprof import calibrate, validate
    from edgeprof.render.latency import render_validation

    started = time.perf_counter()
    models = build_models(folder)
    host = Path(args.host) if args.host else folder / "host.toml"
    if not args.host:
        cal = calibrate(threads=args.threads, command="benchmarks/latency_accuracy.py (edgeprof calibrate)",
                        progress=lambda s: print(f"calibrate: {s}", file=sys.stderr))
        host.write_text(cal.to_toml(), encoding="utf-8")
    entries = []
    for label, path, shapes in models:
        print(f"validate: {label}", file=sys.stderr)
        (entry,) = validate([str(path)], "host", devices_files=[str(host)], threads=args.threads,
                            max_time_s=args.max_time, input_shapes=shapes)
        entries.append(entry.__class__(**{**entry.__dict__, "model": label}))
    print(render_validation(entries, "md"))
    (folder / "latency_accuracy.json").write_text(render_validation(entries, "json"), encoding="utf-8")
    print(f"({time.perf_counter() - started:.0f} s; host file {host})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
