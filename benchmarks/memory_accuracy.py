"""Predicted peak memory against the peak RSS increase measured on ONNX Runtime.

For each model: ``edgeprof.load`` the ONNX file at the given input shapes, predict the peak
(:func:`edgeprof.passes.memory.analyse_memory`: weights + activation peak over the default
order), then run it for real (:func:`edgeprof.measure.memory.measure_onnx_memory`: a fresh
subprocess, ONNX Runtime CPU with the arena, memory pattern, graph optimisations and weight
pre-packing off) and once more with ONNX Runtime's default session options, for comparison.

    .venv/bin/python benchmarks/memory_accuracy.py                  # all models -> docs/memory.md
    .venv/bin/python benchmarks/memory_accuracy.py demo resnet18     # some of them
    .venv/bin/python benchmarks/memory_accuracy.py --no-doc --runs 5 --models-dir /tmp/mem --keep

The models are built offline from ``transformers`` config classes with random (seeded) weights
and exported with the TorchScript exporter (opset 17, eval mode, dynamic batch and sequence
axes); nothing is downloaded. The table replaces the part of ``docs/memory.md`` between the
``memory-accuracy:begin``/``memory-accuracy:end`` markers.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import edgeprof  # noqa: E402
from edgeprof.errors import MeasurementError  # noqa: E402
from edgeprof.measure.memory import OrtMemoryOptions, measure_onnx_memory  # noqa: E402
from edgeprof.passes.kernel_scratch import ort_peak_estimate  # noqa: E402
from edgeprof.passes.memory import analyse_memory  # noqa: E402

DOC = ROOT / "docs" / "memory.md"
DEMO = ROOT / "models" / "demo.onnx"
BEGIN, END = "<!-- memory-accuracy:begin -->", "<!-- memory-accuracy:end -->"
ORT_DEFAULTS = OrtMemoryOptions(
    enable_cpu_mem_arena=True, enable_mem_pattern=True, graph_optimization_level="ORT_ENABLE_ALL",
    disable_prepacking=False,
)


@dataclass(frozen=True)
class Case:
    key: str
    title: str
    file: str  # exported file name ("" = the demo model)
    shapes: dict[str, tuple[int, ...]]


CASES = (
    Case("demo", "demo (EdgeNet-S), 1x3x224x224", "", {"image": (1, 3, 224, 224)}),
    Case("demo_b8", "demo (EdgeNet-S), 8x3x224x224", "", {"image": (8, 3, 224, 224)}),
    Case("resnet18", "ResNet-18, 1x3x224x224", "resnet18.onnx", {"pixel_values": (1, 3, 224, 224)}),
    Case("resnet18_b8", "ResNet-18, 8x3x224x224", "resnet18.onnx", {"pixel_values": (8, 3, 224, 224)}),
    Case("mobilenet_v2", "MobileNetV2 1.0, 1x3x224x224", "mobilenet_v2.onnx", {"pixel_values": (1, 3, 224, 224)}),
    Case("mobilenet_v2_b8", "MobileNetV2 1.0, 8x3x224x224", "mobilenet_v2.onnx", {"pixel_values": (8, 3, 224, 224)}),
    Case("bert_small", "BERT small (4x256), 1x128 tokens", "bert_small.onnx",
         {"input_ids": (1, 128), "attention_mask": (1, 128)}),
    Case("bert_small_b8", "BERT small (4x256), 8x512 tokens", "bert_small.onnx",
         {"input_ids": (8, 512), "attention_mask": (8, 512)}),
)


# ---- building and exporting the models (torch is imported here only) ----------------------------

Built = tuple[Any, tuple[Any, ...], list[str], dict[str, dict[int, str]]]
IMAGENET: dict[str, Any] = {"num_labels": 1000}  # passed through the config classes' **kwargs


def _export(file: str, out: Path) -> Path:
    import torch

    path = out / file
    if path.exists():
        return path
    builders: dict[str, Callable[[], Built]] = {
        "resnet18.onnx": _resnet18,
        "mobilenet_v2.onnx": _mobilenet_v2,
        "bert_small.onnx": _bert_small,
    }
    torch.manual_seed(0)
    model, args, names, axes = builders[file]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice
        torch.onnx.export(model.eval(), args, str(path), dynamo=False, opset_version=17, input_names=names,
                          output_names=["output"], dynamic_axes={**axes, "output": {0: "batch"}})
    return path


def _one_output(model: Any, key: str, names: Sequence[str]) -> Any:
    """``model`` called with keyword inputs, returning the one tensor ``key`` of its output."""
    import torch

    class OneOutput(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return getattr(self.model(**dict(zip(names, inputs, strict=False))), key)  # type: ignore[no-any-return]

    return OneOutput()


def _resnet18() -> Built:
    import torch
    from transformers import ResNetConfig, ResNetForImageClassification

    cfg = ResNetConfig(embedding_size=64, hidden_sizes=[64, 128, 256, 512], depths=[2, 2, 2, 2], layer_type="basic",
                       **IMAGENET)
    model = _one_output(ResNetForImageClassification(cfg), "logits", ["pixel_values"])
    return model, (torch.rand(1, 3, 224, 224),), ["pixel_values"], {"pixel_values": {0: "batch"}}


def _mobilenet_v2() -> Built:
    import torch
    from transformers import MobileNetV2Config, MobileNetV2ForImageClassification

    cfg = MobileNetV2Config(depth_multiplier=1.0, image_size=224, **IMAGENET)
    model = _one_output(MobileNetV2ForImageClassification(cfg), "logits", ["pixel_values"])
    return model, (torch.rand(1, 3, 224, 224),), ["pixel_values"], {"pixel_values": {0: "batch"}}


def _bert_small() -> Built:
    import torch
    from transformers import BertConfig, BertModel

    cfg = BertConfig(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=1024)
    names = ["input_ids", "attention_mask"]
    model = _one_output(BertModel(cfg, add_pooling_layer=False), "last_hidden_state", names)
    ids = torch.ones(1, 128, dtype=torch.long)
    return model, (ids, torch.ones_like(ids)), names, {n: {0: "batch", 1: "sequence"} for n in names}


# ---- predict and measure ------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    case: Case
    nodes: int
    weight_bytes: int
    activation_bytes: int
    best_activation_bytes: int
    best_method: str
    peak_at_op: str
    predicted_bytes: int
    measured_bytes: int | None
    session_bytes: int | None
    defaults_bytes: int | None
    note: str
    ort_estimate_bytes: int = 0  # the prediction + ONNX Runtime's kernel temporaries (passes/kernel_scratch.py)

    @property
    def error(self) -> str:
        return _error(self.predicted_bytes, self.measured_bytes)

    @property
    def ort_error(self) -> str:
        return _error(self.ort_estimate_bytes, self.measured_bytes)

    @property
    def overhead_bytes(self) -> int | None:
        """The runtime's own overhead as measured: the session's RSS increase minus the weights."""
        return None if self.session_bytes is None else self.session_bytes - self.weight_bytes

    @property
    def error_with_overhead(self) -> str:
        if self.overhead_bytes is None:
            return "-"
        return _error(self.predicted_bytes + self.overhead_bytes, self.measured_bytes)


def _error(predicted: int, measured: int | None) -> str:
    return "-" if measured is None else f"{(predicted - measured) / measured * 100:+.1f}%"


def run_case(case: Case, models: Path, runs: int) -> Row:
    path = DEMO if not case.file else _export(case.file, models)
    loaded = edgeprof.load(path, input_shapes=case.shapes)
    report = analyse_memory(loaded.graph, file_bytes=loaded.info.file_bytes).predicted
    assert report.schedule is not None
    measured = session = defaults = None
    note = ""
    try:
        m = measure_onnx_memory(path, loaded.inputs, runs=runs)
        measured, session = m.peak_rss_increase_bytes, m.session_rss_increase_bytes
        defaults = measure_onnx_memory(path, loaded.inputs, runs=runs, options=ORT_DEFAULTS).peak_rss_increase_bytes
    except MeasurementError as exc:
        note = str(exc)
    ort = ort_peak_estimate(report, loaded.graph)
    return Row(case, len(loaded.graph.nodes), report.weight_bytes, report.peak_activation_bytes,
               report.schedule.best_peak_activation_bytes, report.schedule.method, report.peak_at_op, report.peak_bytes, measured, session,
               defaults, note, ort.peak_bytes)


def _mb(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:,.2f}"


def table(rows: Sequence[Row], runs: int) -> str:
    import onnxruntime

    head = (
        "| model | nodes | weights MB | activation peak MB (at) | best order MB (search) | **predicted peak MB** "
        "| **measured peak RSS increase MB** | **error** | ORT kernel-temporaries estimate MB | its error "
        "| session MB | overhead MB | error with overhead | ORT defaults MB |\n"
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
    )
    body = "".join(
        f"| {r.case.title} | {r.nodes} | {_mb(r.weight_bytes)} | {_mb(r.activation_bytes)} ({r.peak_at_op}) "
        f"| {_mb(r.best_activation_bytes)} ({r.best_method}) | **{_mb(r.predicted_bytes)}** | **{_mb(r.measured_bytes)}** "
        f"| **{r.error}** | {_mb(r.ort_estimate_bytes)} | {r.ort_error} "
        f"| {_mb(r.session_bytes)} | {_mb(r.overhead_bytes)} | {r.error_with_overhead} "
        f"| {_mb(r.defaults_bytes)} |\n"
        for r in rows
    )
    notes = "".join(f"\n- {r.case.title}: {r.note}" for r in rows if r.note)
    env = (
        f"\nonnxruntime {onnxruntime.__version__}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()} {platform.machine()}; {runs} runs per measurement; "
        "MB = 10^6 bytes; error = (predicted - measured) / measured.\n"
    )
    return head + body + env + notes


def write_doc(text: str, command: str, begin: str = BEGIN, end: str = END) -> None:
    """Replace the part of docs/memory.md between the ``begin`` and ``end`` markers."""
    doc = DOC.read_text()
    if begin not in doc or end not in doc:
        raise SystemExit(f"{DOC} has no {begin} ... {end} markers")
    before, rest = doc.split(begin, 1)
    _, after = rest.split(end, 1)
    DOC.write_text(f"{before}{begin}\n\n`{command}`\n\n{text}\n{end}{after}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help=f"cases to run (default: all): {', '.join(c.key for c in CASES)}")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument("--models-dir", type=Path, help="where the exports go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the exports")
    parser.add_argument("--no-doc", action="store_true", help=f"print only; do not update {DOC.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    known = {c.key: c for c in CASES}
    unknown = [m for m in args.models if m not in known]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    cases = [known[m] for m in args.models] if args.models else list(CASES)
    models = args.models_dir or Path(tempfile.mkdtemp(prefix="edgeprof-mem-"))
    models.mkdir(parents=True, exist_ok=True)
    try:
        rows = []
        for case in cases:
            row = run_case(case, models, args.runs)
            print(f"{case.key}: predicted {_mb(row.predicted_bytes)} MB, measured {_mb(row.measured_bytes)} MB, "
                  f"error {row.error}", file=sys.stderr)
            rows.append(row)
    finally:
        if not args.keep and args.models_dir is None:
            shutil.rmtree(models, ignore_errors=True)
    text = table(rows, args.runs)
    print(text)
    if not args.no_doc and not args.models:
        write_doc(text, ".venv/bin/python benchmarks/memory_accuracy.py" + (f" --runs {args.runs}" if args.runs != 3 else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
