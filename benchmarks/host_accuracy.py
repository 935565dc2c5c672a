"""Latency prediction accuracy on this host for real third-party models (the corpus).

Run from the repository root (``scripts/fetch_corpus.py`` first: it fills ``corpus/``)::

    PYTHONPATH=src .venv/bin/python benchmarks/host_accuracy.py [--out DIR] [--host host.toml] [--max-time S]

1. ``edgeprof calibrate`` (in-process: :func:`edgeprof.calibrate`), ``--calibrations`` times (each run
   saved as ``DIR/host-runN.toml``), writes ``DIR/host.toml`` with the best of each figure
   (:func:`best_calibration`) unless ``--host`` gives an existing file; the calibration fits its
   constants on its own micro-benchmarks only (never on these models);
2. every corpus model present in ``corpus/`` (ONNX on ONNX Runtime, TFLite on LiteRT) is validated on
   ``host`` at the input shapes and values ``scripts/fetch_corpus.py`` pins for it
   (:func:`edgeprof.validate`: the roofline prediction vs the measured p50, same thread count),
   ``--rounds`` times; a model's measured latency is the lowest of its rounds' p50 (other jobs only
   slow a run down). ``--measured`` reuses an earlier run's measurements and only predicts again;
3. prints the Markdown table (with each model's part of the split) and the median |error| of each
   part, and writes ``DIR/host_accuracy.json``.

**Split** (:func:`part`): whole packages (wheels) go to one part, so variants of one model never sit
on both sides: a package is ``held-out`` when ``sha256(package name)`` is even, else ``fit``. Model
changes were diagnosed on the ``fit`` part (and on micro-benchmarks built in code); the ``held-out``
rows are printed too, but no change was chosen from them. The held-out part holds the recurrent models (silero-vad,
ddddocr) and most sub-millisecond ones (silero-vad, the wake-word heads).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

PARTS = ("fit", "held-out")


def part(package: str) -> str:
    """``held-out`` when sha256 of the package name is even, else ``fit`` (whole packages per part)."""
    return "held-out" if int(hashlib.sha256(package.encode()).hexdigest(), 16) % 2 == 0 else "fit"


def corpus_entries(formats: tuple[str, ...] = ("onnx", "tflite")) -> list[Any]:
    """The pinned corpus entries (``scripts/fetch_corpus.py``) whose file is present, in its order."""
    from tests.corpus.runtime_macs import load_fetch_module

    fetch = load_fetch_module()
    return [e for e in fetch.CORPUS if e.format in formats and (fetch.CORPUS_DIR / e.filename).is_file()]


def best_calibration(runs: list[Any]) -> Any:
    """One calibration from ``runs``: each figure the best of them (the lowest overhead, the highest rate and
    bandwidth; the first run's text fields). Other jobs on a shared machine only ever slow a run down, so
    the best run of each micro-benchmark is the closest to the machine's own figure."""
    import dataclasses

    first = runs[0]
    rates = {k: max(c.rates_flop_per_s[k] for c in runs) for k in first.rates_flop_per_s}
    int8 = {k: max(c.int8_rates_op_per_s[k] for c in runs if k in c.int8_rates_op_per_s)
            for k in first.int8_rates_op_per_s}
    return dataclasses.replace(
        first, per_inference_overhead_s=min(c.per_inference_overhead_s for c in runs),
        per_node_overhead_s=min(c.per_node_overhead_s for c in runs),
        bandwidth_bytes_per_s=max(c.bandwidth_bytes_per_s for c in runs),
        dram_bandwidth_bytes_per_s=max(c.dram_bandwidth_bytes_per_s for c in runs), rates_flop_per_s=rates,
        int8_rates_op_per_s=int8, command=f"{first.command}, best of {len(runs)} runs")


def summary(rows: list[dict[str, Any]]) -> list[str]:
    """One line per part (and all): median |error|, models within 10 % / 20 %."""
    out = []
    for name, keep, fmt in (("fit", "fit", "onnx"), ("held-out", "held-out", "onnx"), ("all", None, "onnx"),
                            ("fit", "fit", "tflite"), ("held-out", "held-out", "tflite"), ("all", None, "tflite")):
        errs = sorted(abs(r["error"]) for r in rows if r["error"] is not None and r["format"] == fmt
                      and (keep is None or r["part"] == keep))
        name = f"{fmt} {name}"
        if errs:
            out.append(f"{name}: median |error| {statistics.median(errs):.1%} over {len(errs)} model(s); "
                       f"within 10 %: {sum(e <= 0.1 for e in errs)}, within 20 %: {sum(e <= 0.2 for e in errs)}")
    return out


def render(rows: list[dict[str, Any]]) -> str:
    from edgeprof.render.format import seconds

    lines = ["| model | format | part | predicted | measured p50 | error |", "|---|---|---|---|---|---|"]
    for r in rows:
        pred = seconds(r["predicted_s"]) if r["predicted_s"] is not None else "-"
        meas = seconds(r["measured_s"]) if r["measured_s"] is not None else "-"
        err = f"{r['error']:+.1%}" if r["error"] is not None else (r["problem"] or "-")[:90]
        lb = " (lower bound)" if r["lower_bound"] else ""
        lines.append(f"| {r['model']} | {r['format']} | {r['part']} | {pred}{lb} | {meas} | {err} |")
    return "\n".join(lines) + "\n\n" + "\n".join(summary(rows)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/edgeprof-host-accuracy", help="work folder (host.toml, JSON)")
    parser.add_argument("--host", default=None, help="an existing host.toml (default: calibrate now)")
    parser.add_argument("--max-time", type=float, default=5.0, help="most seconds of timed runs per model")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads (ONNX Runtime, LiteRT)")
    parser.add_argument("--format", choices=("onnx", "tflite", "all"), default="all", help="which corpus files")
    parser.add_argument("--only", nargs="*", default=None, help="corpus names to run (default: all present)")
    parser.add_argument("--calibrations", type=int, default=3,
                        help="calibration runs; each figure is the best of them (a shared machine only slows runs)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds over the models; a model's measured latency is the lowest of its rounds' p50")
    parser.add_argument("--measured", default=None,
                        help="a host_accuracy.json of an earlier run: reuse its measurements, only predict again")
    args = parser.parse_args(argv)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)

    from tests.corpus.runtime_macs import load_fetch_module

    from edgeprof import calibrate, predict_latency, profile, validate
    from edgeprof.compare import ModelRun
    from edgeprof.errors import EdgeprofError
    from edgeprof.report.latency import ValidationEntry

    started = time.perf_counter()
    formats = ("onnx", "tflite") if args.format == "all" else (args.format,)
    entries = [e for e in corpus_entries(formats) if args.only is None or e.name in args.only]
    if not entries:
        print("no corpus model present: run scripts/fetch_corpus.py", file=sys.stderr)
        return 2
    host = Path(args.host) if args.host else folder / "host.toml"
    if not args.host and not args.measured:
        runs = [calibrate(threads=args.threads, command="benchmarks/host_accuracy.py (edgeprof calibrate)",
                          progress=lambda s, i=i: print(f"calibrate {i + 1}/{args.calibrations}: {s}", file=sys.stderr))
                for i in range(args.calibrations)]
        for i, cal in enumerate(runs):
            (folder / f"host-run{i + 1}.toml").write_text(cal.to_toml(), encoding="utf-8")
        host.write_text(best_calibration(runs).to_toml(), encoding="utf-8")
    corpus_dir = load_fetch_module().CORPUS_DIR
    found: dict[str, list[ValidationEntry]] = {e.name: [] for e in entries}
    earlier = {r["model"]: r for r in json.loads(Path(args.measured).read_text())} if args.measured else None
    for e in entries if earlier is not None else ():
        try:
            prof = predict_latency(profile(str(corpus_dir / e.filename), input_shapes=dict(e.input_shapes) or None,
                                           values={k: [v] for k, v in e.values.items()} or None, memory=False),
                                   ["host"], devices_files=[str(host)],
                                   runtime="xnnpack" if e.format == "tflite" else None)  # as validate does
            assert prof.latency is not None
            pred = prof.latency.predicted["host"]
            old = earlier.get(e.name, {})
            found[e.name] = [ValidationEntry(e.name, "host", pred.total_s, t, None, pred.is_lower_bound,
                                             old.get("problem", "")) for t in old.get("measured_rounds_s") or [old.get("measured_s")]]
        except EdgeprofError as exc:
            found[e.name] = [ValidationEntry(e.name, "host", None, None, None, problem=f"{type(exc).__name__}: {exc}")]
    for r in range(args.rounds if earlier is None else 0):
        for e in entries:
            print(f"validate (round {r + 1}/{args.rounds}): {e.name}", file=sys.stderr)
            run = ModelRun(str(corpus_dir / e.filename), e.name, input_shapes=dict(e.input_shapes) or None,
                           values={k: [v] for k, v in e.values.items()} or None)
            try:
                (entry,) = validate([run], "host", devices_files=[str(host)], threads=args.threads,
                                    max_time_s=args.max_time)
            except EdgeprofError as exc:  # a model edgeprof cannot load: its row says why
                entry = ValidationEntry(e.name, "host", None, None, None, problem=f"{type(exc).__name__}: {exc}")
            found[e.name].append(entry)
    rows: list[dict[str, Any]] = []
    for e in entries:
        got = found[e.name]
        times = [x.measured_s for x in got if x.measured_s is not None]
        measured = min(times) if times else None  # the least disturbed round
        predicted = got[0].predicted_s
        error = (predicted - measured) / measured if predicted is not None and measured else None
        rows.append({"model": e.name, "format": e.format, "package": e.package, "part": part(e.package),
                     "predicted_s": predicted, "measured_s": measured, "measured_rounds_s": times, "error": error,
                     "lower_bound": got[0].is_lower_bound, "problem": next((x.problem for x in got if x.problem), "")})
    print(render(rows))
    (folder / "host_accuracy.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(f"({time.perf_counter() - started:.0f} s; host file {host})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
