"""Latency prediction accuracy on this host for real third-party models (the corpus).

Run from the repository root (``scripts/fetch_corpus.py`` first: it fills ``corpus/``)::

    PYTHONPATH=src .venv/bin/python benchmarks/host_accuracy.py [--out DIR] [--host host.toml] [--max-time S]

1. ``edgeprof calibrate`` (in-process: :func:`edgeprof.calibrate`) writes ``DIR/host.toml`` unless
   ``--host`` gives an existing file; the calibration fits its constants on its own micro-benchmarks
   only (never on these models);
2. every corpus model present in ``corpus/`` (ONNX on ONNX Runtime, TFLite on LiteRT) is validated on
   ``host`` at the input shapes and values ``scripts/fetch_corpus.py`` pins for it
   (:func:`edgeprof.validate`: the roofline prediction vs the measured p50, same thread count);
3. prints the Markdown table (with each model's part of the split) and the median |error| of each
   part, and writes ``DIR/host_accuracy.json``.

**Split** (:func:`part`): whole packages (wheels) go to one part, so variants of one model never sit
on both sides: a package is ``held-out`` when ``sha256(package name)`` is even, else ``fit``. Model
changes were diagnosed on the ``fit`` part (and on micro-benchmarks built in code); the ``held-out``
part was not used to decide anything. The held-out part holds the recurrent models (silero-vad,
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


def summary(rows: list[dict[str, Any]]) -> list[str]:
    """One line per part (and all): median |error|, models within 10 % / 20 %."""
    out = []
    for name, keep in (("fit", "fit"), ("held-out", "held-out"), ("all", None)):
        errs = sorted(abs(r["error"]) for r in rows if r["error"] is not None and (keep is None or r["part"] == keep))
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
    args = parser.parse_args(argv)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)

    from edgeprof import calibrate, validate
    from edgeprof.compare import ModelRun
    from edgeprof.errors import EdgeprofError
    from edgeprof.report.latency import ValidationEntry
    from tests.corpus.runtime_macs import load_fetch_module

    started = time.perf_counter()
    formats = ("onnx", "tflite") if args.format == "all" else (args.format,)
    entries = [e for e in corpus_entries(formats) if args.only is None or e.name in args.only]
    if not entries:
        print("no corpus model present: run scripts/fetch_corpus.py", file=sys.stderr)
        return 2
    host = Path(args.host) if args.host else folder / "host.toml"
    if not args.host:
        cal = calibrate(threads=args.threads, command="benchmarks/host_accuracy.py (edgeprof calibrate)",
                        progress=lambda s: print(f"calibrate: {s}", file=sys.stderr))
        host.write_text(cal.to_toml(), encoding="utf-8")
    corpus_dir = load_fetch_module().CORPUS_DIR
    rows: list[dict[str, Any]] = []
    for e in entries:
        print(f"validate: {e.name}", file=sys.stderr)
        run = ModelRun(str(corpus_dir / e.filename), e.name, input_shapes=dict(e.input_shapes) or None,
                       values={k: [v] for k, v in e.values.items()} or None)
        try:
            (entry,) = validate([run], "host", devices_files=[str(host)], threads=args.threads,
                                max_time_s=args.max_time)
        except EdgeprofError as exc:  # a model edgeprof cannot load: its row says why
            entry = ValidationEntry(e.name, "host", None, None, None, problem=f"{type(exc).__name__}: {exc}")
        rows.append({"model": e.name, "format": e.format, "package": e.package, "part": part(e.package),
                     "predicted_s": entry.predicted_s, "measured_s": entry.measured_s, "error": entry.error,
                     "lower_bound": entry.is_lower_bound, "problem": entry.problem})
    print(render(rows))
    (folder / "host_accuracy.json").write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    print(f"({time.perf_counter() - started:.0f} s; host file {host})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
