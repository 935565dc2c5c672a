"""Benchmark edgeprof against onnx-tool on the reference ONNX exports and the demo model.

For every model and tool, a fresh Python subprocess loads the tool, profiles the file and
writes its figures to a JSON file; the parent measures the child's wall time and its peak RSS
(``ru_maxrss`` from ``os.wait4``). Each run is repeated (``--repeat``) and the median wall time
is reported. The edgeprof CLI (``edgeprof profile FILE``) is timed the same way on ResNet-50 and
the demo model.

    .venv/bin/python benchmarks/onnx_vs_onnx_tool.py                 # all models, writes docs/benchmarks.md
    .venv/bin/python benchmarks/onnx_vs_onnx_tool.py resnet50 demo   # some of them
    .venv/bin/python benchmarks/onnx_vs_onnx_tool.py --models-dir /tmp/ref --keep   # reuse exports

The exports come from ``tests/reference_models.py`` (about 1.7 GB for all seven; into a temp
dir removed at the end unless ``--models-dir`` is given). The results replace the part of
``docs/benchmarks.md`` between the ``benchmark:begin``/``benchmark:end`` markers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
DEMO = ROOT / "models" / "demo.onnx"
DEMO_MACS = 31_059_088  # models/README.md, by hand
BEGIN, END = "<!-- benchmark:begin -->", "<!-- benchmark:end -->"
MAC_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul", "Einsum")
TOOLS = ("edgeprof", "onnx-tool")
# tests/reference_models.REFERENCE_NAMES (not imported here: this process stays free of torch)
REFERENCE_NAMES = ("resnet50", "mobilenet_v2", "efficientnet_b0", "vit_b16", "convnext_tiny", "bert_base", "gpt2_small")


# ---------------------------------------------------------------------------------------------
# child side: one tool, one model, figures into a JSON file


def _child_edgeprof(path: str, shapes: Mapping[str, Sequence[int]]) -> dict[str, Any]:
    t0 = time.perf_counter()
    import edgeprof

    try:  # import what profile() imports lazily (onnx, the frontend, the op families), as onnx-tool does up front
        import edgeprof.frontends.onnx
        from edgeprof.ops.registry import registered_ops

        registered_ops()
    except ImportError:
        pass
    t1 = time.perf_counter()
    p = edgeprof.profile(path, input_shapes={k: tuple(v) for k, v in shapes.items()})
    t2 = time.perf_counter()
    return {
        "import_s": t1 - t0,
        "profile_s": t2 - t1,
        "macs": p.totals.macs,
        "mac_op_macs": sum(layer.macs for layer in p.layers if layer.op in MAC_OPS),
        "flops": p.totals.flops,
        "params": p.totals.params,
        "skipped": [f"{n.op} x{n.count} ({n.reason})" for n in p.not_counted],
        "other_macs": {},
    }


def _child_onnx_tool(path: str, shapes: Mapping[str, Sequence[int]], dtypes: Mapping[str, str]) -> dict[str, Any]:
    t0 = time.perf_counter()
    import numpy as np
    import onnx_tool

    t1 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = onnx_tool.Model(path)
        graph = model.graph
        inputs = {k: np.zeros(tuple(v), dtype=dtypes[k]) for k, v in shapes.items()}
        if any(k == "attention_mask" for k in inputs):
            inputs["attention_mask"] = np.ones(tuple(shapes["attention_mask"]), dtype=dtypes["attention_mask"])
        graph.shape_infer(inputs)
        graph.profile()
    t2 = time.perf_counter()
    per_op: dict[str, int] = {}
    for node in graph.nodemap.values():
        per_op[node.op_type] = per_op.get(node.op_type, 0) + int(node.macs[0])
    skipped = sorted({str(w.message).split(" is not registed")[0].removeprefix("node ")
                      for w in caught if "not registed" in str(w.message)})
    other = {op: m for op, m in sorted(per_op.items(), key=lambda kv: -kv[1]) if op not in MAC_OPS and m}
    return {
        "import_s": t1 - t0,
        "profile_s": t2 - t1,
        "macs": int(graph.macs[0]),  # integer-valued float sums
        "mac_op_macs": sum(m for op, m in per_op.items() if op in MAC_OPS),
        "flops": None,
        "params": int(graph.params),
        "skipped": [f"{op} (not registered: 0 MACs)" for op in skipped],
        "other_macs": other,
    }


def child_main(tool: str, path: str, spec_json: str, out: str) -> int:
    spec = json.loads(spec_json)
    try:
        if tool == "edgeprof":
            result = _child_edgeprof(path, spec["shapes"])
        else:
            result = _child_onnx_tool(path, spec["shapes"], spec["dtypes"])
        result["error"] = ""
    except Exception as exc:  # a tool failing is a result, not a crash of the benchmark
        result = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]}
    Path(out).write_text(json.dumps(result))
    return 0


# ---------------------------------------------------------------------------------------------
# parent side


@dataclass
class Run:
    tool: str
    model: str
    error: str = ""
    wall_s: float = 0.0  # child process, interpreter start to exit (median over repeats)
    import_s: float = 0.0
    profile_s: float = 0.0  # load + shape inference + counting, in the child (median)
    rss_mb: float = 0.0  # peak RSS of the child (max over repeats)
    macs: int | None = None
    mac_op_macs: int | None = None
    flops: int | None = None
    params: int | None = None
    skipped: list[str] = field(default_factory=list)
    other_macs: dict[str, int] = field(default_factory=dict)


def _spawn(cmd: Sequence[str], cwd: Path) -> tuple[int, float, float, str]:
    """Run ``cmd``; return (exit status, wall seconds, peak RSS MB, stderr tail)."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=subprocess.DEVNULL, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read().decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    return proc.returncode, wall, usage.ru_maxrss / 1024.0, tail[0]


def run_tool(tool: str, model: str, path: Path, spec: Mapping[str, Any], repeat: int) -> Run:
    run = Run(tool, model)
    walls, profiles, imports = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        for _ in range(repeat):
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child", tool, str(path), json.dumps(spec), str(out)]
            code, wall, rss, tail = _spawn(cmd, ROOT)
            run.rss_mb = max(run.rss_mb, rss)
            if code != 0 or not out.exists():
                run.error = f"exit {code}: {tail}"
                return run
            result = json.loads(out.read_text())
            if result.get("error"):
                run.error = result["error"]
                return run
            walls.append(wall)
            profiles.append(result["profile_s"])
            imports.append(result["import_s"])
            for key in ("macs", "mac_op_macs", "flops", "params", "skipped", "other_macs"):
                setattr(run, key, result[key])
    run.wall_s = statistics.median(walls)
    run.profile_s = statistics.median(profiles)
    run.import_s = statistics.median(imports)
    return run


def run_cli(path: Path, repeat: int) -> tuple[str, float, float]:
    """``edgeprof profile PATH``: (error, median wall seconds, peak RSS MB)."""
    exe = Path(sys.executable).parent / "edgeprof"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "import sys; from edgeprof.cli import main; sys.exit(main())"]
    walls, peak = [], 0.0
    for _ in range(repeat):
        code, wall, rss, tail = _spawn([*cmd, "profile", str(path)], ROOT)
        peak = max(peak, rss)
        if code != 0:
            return f"exit {code}: {tail}", wall, peak
        walls.append(wall)
    return "", statistics.median(walls), peak


# ---------------------------------------------------------------------------------------------
# models


@dataclass
class Subject:
    name: str
    title: str
    path: Path
    shapes: dict[str, tuple[int, ...]]
    dtypes: dict[str, str]
    reference_macs: int
    reference_note: str
    params_torch: int
    export_s: float | None = None
    size_mb: float = 0.0


def prepare(names: Sequence[str], folder: Path, keep: bool) -> list[Subject]:
    """Export the reference models (or reuse files already in ``folder`` with ``--keep``) and
    compute their reference MACs from the torch modules (hooks + attention closed form).

    Runs in its own process (``--prepare``) so that the benchmark's parent process never holds
    torch: on Linux a child's ``ru_maxrss`` starts from its parent's RSS at fork time."""
    out = folder / "subjects.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--prepare", str(folder), "1" if keep else "0", *names]
    subprocess.run(cmd, check=True, cwd=ROOT)
    return [Subject(**{**d, "path": Path(d["path"]), "shapes": {k: tuple(v) for k, v in d["shapes"].items()}})
            for d in json.loads(out.read_text())]


def prepare_main(folder_arg: str, keep_arg: str, *names: str) -> int:
    folder, keep = Path(folder_arg), keep_arg == "1"
    sys.path.insert(0, str(ROOT))
    from tests.reference_models import REFERENCES, ReferenceCache, conv_linear_counts, example_inputs, torch_param_count

    cache = ReferenceCache(folder)
    subjects = []
    for name in names:
        if name == "demo":
            subjects.append(Subject("demo", "EdgeNet-S (models/demo.onnx)", DEMO, {"image": (1, 3, 224, 224)},
                                    {"image": "float32"}, DEMO_MACS, "hand count, models/README.md", 549_240,
                                    size_mb=DEMO.stat().st_size / 1e6))
            continue
        spec = REFERENCES[name]
        module = cache.module(name)
        target = folder / f"{name}.onnx"
        export_s: float | None = None
        if not (keep and target.exists()):
            export_s = cache.export(name).export_s
        counts = conv_linear_counts(module, example_inputs(name))
        attention = spec.attention_macs
        note = "conv/linear hooks" + (" + attention closed form" if attention else "")
        dtypes = {k: ("float32" if spec.input_kind == "image" else "int64") for k in spec.input_shapes}
        subjects.append(Subject(name, spec.title, target, dict(spec.input_shapes), dtypes, counts.macs + attention,
                                note, torch_param_count(module), export_s, target.stat().st_size / 1e6))
        print(f"prepared {name}: export {export_s if export_s is None else round(export_s, 2)} s", flush=True)
    (folder / "subjects.json").write_text(json.dumps([{**asdict(s), "path": str(s.path)} for s in subjects]))
    return 0


# ---------------------------------------------------------------------------------------------
# report


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem_gb:.0f} GiB RAM, {platform.system()} {platform.release()}"


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = [f"Python {platform.python_version()}"]
    for pkg in ("edgeprof", "onnx-tool", "onnx", "torch", "transformers"):
        try:
            parts.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            parts.append(f"{pkg} (not installed)")
    return ", ".join(parts)


def _n(x: int | None) -> str:
    return "–" if x is None else f"{x:,}"


def render(subjects: Sequence[Subject], runs: Mapping[tuple[str, str], Run], cli: Mapping[str, tuple[str, float, float]],
           command: str, repeat: int, load: Sequence[float]) -> str:
    lines = [
        BEGIN,
        f"Command: `{command}`  ",
        f"Date: {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}  ",
        f"Machine: {machine()}  ",
        f"Load average (1/5/15 min) when the runs started: {' / '.join(f'{x:.1f}' for x in load)}  ",
        f"Software: {versions()}  ",
        f"Each figure is the median of {repeat} fresh subprocesses (peak RSS: the largest).",
        "",
        "### Counts",
        "",
        "| model | file MB | reference MACs | edgeprof MACs | onnx-tool MACs | onnx-tool MACs (Conv/Gemm/MatMul only) | params (torch) | edgeprof params | onnx-tool params |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in subjects:
        e, o = runs[("edgeprof", s.name)], runs[("onnx-tool", s.name)]
        lines.append(
            f"| {s.title} | {s.size_mb:.1f} | {s.reference_macs:,} | {_n(e.macs)} | {_n(o.macs)} | {_n(o.mac_op_macs)} "
            f"| {s.params_torch:,} | {_n(e.params)} | {_n(o.params)} |"
        )
    lines += [
        "",
        "Reference MACs: " + "; ".join(f"{s.title}: {s.reference_note}" for s in subjects) + ".",
        "",
        "### Time and memory",
        "",
        "| model | edgeprof profile() s | edgeprof process s | edgeprof peak RSS MB | onnx-tool profile s | onnx-tool process s | onnx-tool peak RSS MB | export s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in subjects:
        e, o = runs[("edgeprof", s.name)], runs[("onnx-tool", s.name)]
        export = "–" if s.export_s is None else f"{s.export_s:.1f}"

        def t(r: Run) -> tuple[str, str, str]:
            if r.error:
                return "failed", "failed", f"{r.rss_mb:.0f}"
            return f"{r.profile_s:.3f}", f"{r.wall_s:.2f}", f"{r.rss_mb:.0f}"

        lines.append(f"| {s.title} | {' | '.join(t(e))} | {' | '.join(t(o))} | {export} |")
    lines += [
        "",
        "`profile()` s: inside the child, from the file path to the numbers (file load, shape",
        "inference, counting), after the library and what it imports lazily (onnx, the ONNX frontend,",
        "the op registry) are imported. Process s: the whole child, interpreter",
        "start and imports included. Export s: `torch.onnx.export` (TorchScript exporter) of the",
        "reference model, build excluded (– when the file was reused).",
        "",
    ]
    if cli:
        lines += ["### edgeprof CLI", "", "| command | wall s | peak RSS MB |", "| --- | ---: | ---: |"]
        for name, (err, wall, rss) in cli.items():
            lines.append(f"| `edgeprof profile {name}` | {'failed: ' + err if err else f'{wall:.2f}'} | {rss:.0f} |")
        lines.append("")
    lines += ["### Failures, skipped ops and extra MACs", ""]
    for s in subjects:
        for tool in TOOLS:
            r = runs[(tool, s.name)]
            notes = []
            if r.error:
                notes.append(f"failed: `{r.error}`")
            if r.skipped:
                notes.append("not counted: " + ", ".join(r.skipped))
            if r.other_macs:
                top = ", ".join(f"{op} {m:,}" for op, m in list(r.other_macs.items())[:6])
                notes.append(f"MACs outside Conv/Gemm/MatMul: {top}")
            if notes:
                lines.append(f"- {s.title}, {tool}: " + "; ".join(notes))
    lines += ["", END]
    return "\n".join(lines)


def write_doc(section: str, doc: Path = DOC) -> None:
    text = doc.read_text() if doc.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip() + f"\n\n## Results\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(head + section + tail)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return child_main(*argv[1:5])
    if argv[:1] == ["--prepare"]:
        return prepare_main(*argv[1:])
    all_names = [*REFERENCE_NAMES, "demo"]
    parser = argparse.ArgumentParser(description="edgeprof vs onnx-tool on reference ONNX models.")
    parser.add_argument("models", nargs="*", default=all_names, help=f"any of {', '.join(all_names)}")
    parser.add_argument("--models-dir", type=Path, help="where the exports go (default: a temp dir, removed)")
    parser.add_argument("--keep", action="store_true", help="reuse exports already in --models-dir")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--doc", type=Path, default=DOC, help="markdown file to update (default: docs/benchmarks.md)")
    parser.add_argument("--no-doc", action="store_true", help="print the results instead of writing the doc")
    args = parser.parse_args(argv)
    unknown = [m for m in args.models if m not in all_names]
    if unknown:
        parser.error(f"unknown models {unknown}; known: {all_names}")
    command = "python benchmarks/onnx_vs_onnx_tool.py " + " ".join(argv) if argv else "python benchmarks/onnx_vs_onnx_tool.py"
    folder = args.models_dir or Path(tempfile.mkdtemp(prefix="edgeprof-bench-"))
    try:
        subjects = prepare(args.models, folder, args.keep)
        runs: dict[tuple[str, str], Run] = {}
        load = os.getloadavg()
        for s in subjects:
            for tool in TOOLS:
                r = run_tool(tool, s.name, s.path, {"shapes": s.shapes, "dtypes": s.dtypes}, args.repeat)
                runs[(tool, s.name)] = r
                status = r.error or f"MACs {_n(r.macs)}, params {_n(r.params)}, profile {r.profile_s:.3f} s"
                print(f"{s.name:16s} {tool:10s} {status}", flush=True)
        cli = {}
        for s in subjects:
            if s.name in ("resnet50", "demo"):
                shown = "models/demo.onnx" if s.name == "demo" else "resnet50.onnx"
                cli[shown] = run_cli(s.path, args.repeat)
                print(f"cli {shown}: {cli[shown]}", flush=True)
        section = render(subjects, runs, cli, command, args.repeat, load)
        if args.no_doc:
            print(section)
        else:
            write_doc(section, args.doc)
            print(f"wrote {args.doc}")
        (folder / "results.json").write_text(json.dumps({f"{t}/{m}": asdict(r) for (t, m), r in runs.items()}))
    finally:
        if args.models_dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
