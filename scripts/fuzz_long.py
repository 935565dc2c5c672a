"""The long fuzz run: the targets of tests/hardening/fuzz_targets.py with random seeds for a
time budget each (the test suite runs them with a fixed seed and a few hundred examples).

    .venv/bin/python scripts/fuzz_long.py --minutes 4 --out fuzz_long.json
    .venv/bin/python scripts/fuzz_long.py --targets onnx,ops --minutes 10
    .venv/bin/python scripts/fuzz_long.py --atheris-seconds 300     # + coverage-guided ONNX bytes (atheris)

Every input is counted; an input whose outcome is not allowed (an untyped exception, a
multi-line message, a negative count, exit 3, a hang past --timeout seconds) is recorded with
its message and the input (deduplicated by message), and the run goes on. The summary is
printed as a Markdown table and written as JSON to --out. Exit 1 when anything was found.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "src"))

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from tests.hardening import fuzz_targets as ft  # noqa: E402

TARGETS = ("onnx", "ops", "graph", "hf", "cli")


class Hang(Exception):
    """An input ran past the per-input timeout."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hang()


class Run:
    """Counts and findings of one target."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.tried = 0
        self.outcomes: Counter[str] = Counter()
        self.findings: dict[str, dict[str, Any]] = {}
        self.seconds = 0.0

    def record(self, message: str, sample: Any) -> None:
        key = re.sub(r"\d+", "N", message)[-160:]
        entry = self.findings.setdefault(key, {"message": message[:600], "input": repr(sample)[:600], "count": 0})
        entry["count"] += 1


def _one(run: Run, timeout_s: int, check: Callable[[], str], sample: Any) -> None:
    run.tried += 1
    signal.alarm(timeout_s)
    try:
        run.outcomes[check()] += 1
    except ft.FuzzFailure as exc:
        run.outcomes["FAILURE"] += 1
        run.record(str(exc), sample)
    except Hang:
        run.outcomes["HANG"] += 1
        run.record(f"hang: more than {timeout_s} s", sample)
    finally:
        signal.alarm(0)


def _cli_check(files: ft.CliFiles, parts: Any) -> str:
    from edgeprof.cli import main

    argv = ft.cli_args(files, *parts)
    if ft.slow_argv(argv):
        return "skipped (would run a model)"
    before = files.protected([files.resolve(m) for m in parts[1]])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    outcome = ft.check_cli_outcome(argv, code, out.getvalue(), err.getvalue(), files, before)
    report = files.folder / "out" / "report.txt"
    if report.exists():
        report.unlink()
    return outcome


def _strategy_and_check(name: str, files: ft.CliFiles) -> tuple[Any, Callable[[Any], str]]:
    if name == "onnx":
        return st.tuples(ft.seed_index, ft.mutations), lambda a: ft.check_onnx_bytes(*a)
    if name == "ops":
        return ft.op_calls, lambda a: ft.check_op_call(*a)
    if name == "graph":
        return ft.graph_calls, ft.check_graph
    if name == "hf":
        return st.tuples(st.integers(0, 2), ft.hf_edits, ft.hf_seq_len), lambda a: ft.check_hf_config(*a)
    return ft.cli_argv, lambda a: _cli_check(files, a)


def run_target(name: str, minutes: float, timeout_s: int, files: ft.CliFiles, chunk: int) -> Run:
    run = Run(name)
    strategy, check = _strategy_and_check(name, files)
    start = time.monotonic()
    deadline = start + minutes * 60

    @settings(max_examples=chunk, derandomize=False, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(sample=strategy)
    def batch(sample: Any) -> None:
        if time.monotonic() < deadline:
            _one(run, timeout_s, lambda: check(sample), sample)

    while time.monotonic() < deadline:
        batch()
    run.seconds = time.monotonic() - start
    return run


# ---- atheris: coverage-guided mutation of ONNX bytes ----------------------------------------


def _atheris_child(seconds: int, corpus: Path, findings: Path) -> None:
    import atheris

    with atheris.instrument_imports():
        import edgeprof
        import edgeprof.frontends.onnx  # noqa: F401

    folder = Path(tempfile.mkdtemp(prefix="edgeprof-atheris-"))
    path = folder / "model.onnx"

    def one(data: bytes) -> None:
        import edgeprof as ep

        path.write_bytes(data)
        try:
            ft.run_profile(lambda: ep.profile(path), "atheris")
        except ft.FuzzFailure as exc:
            with open(findings, "a") as f:  # the input (hex, up to 64 KiB), to reproduce it
                f.write(json.dumps({"message": str(exc)[:600], "bytes": len(data),
                                    "input_hex": data[:65536].hex()}) + "\n")

    atheris.Setup([sys.argv[0], str(corpus), f"-max_total_time={seconds}", "-rss_limit_mb=8192",
                   "-timeout=60", "-print_final_stats=1"], one)
    atheris.Fuzz()


def run_atheris(seconds: int) -> dict[str, Any]:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return {"available": False, "note": "atheris is not installed (pip install atheris)"}
    corpus = Path(tempfile.mkdtemp(prefix="edgeprof-corpus-"))
    for seed in ft.seeds():
        if not seed.extra:
            (corpus / f"{seed.name}.onnx").write_bytes(seed.data)
    findings = corpus.parent / f"{corpus.name}.findings.jsonl"
    proc = subprocess.run([sys.executable, __file__, "--atheris-child", str(seconds), str(corpus), str(findings)],
                          capture_output=True, text=True, timeout=seconds + 600, cwd=str(corpus))
    runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", proc.stderr)
    found: dict[str, dict[str, Any]] = {}
    for line in findings.read_text().splitlines() if findings.exists() else []:
        item = json.loads(line)
        entry = found.setdefault(re.sub(r"\d+|'[^']*'", "X", item["message"])[-160:], {**item, "count": 0})
        entry["count"] += 1
    crash = "Uncaught Python exception" in proc.stderr or proc.returncode not in (0,)
    return {"available": True, "seconds": seconds, "executions": int(runs[-1]) if runs else None,
            "findings": list(found.values()), "exit_code": proc.returncode,
            "crash_tail": proc.stderr.strip().splitlines()[-12:] if crash else []}


# ---- main --------------------------------------------------------------------------------------


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--atheris-child":
        _atheris_child(int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated, of {', '.join(TARGETS)}")
    parser.add_argument("--minutes", type=float, default=4.0, help="time budget per target (default 4)")
    parser.add_argument("--timeout", type=int, default=60, help="seconds before one input counts as a hang")
    parser.add_argument("--chunk", type=int, default=500, help="examples per hypothesis run (new seed each)")
    parser.add_argument("--atheris-seconds", type=int, default=0, help="also run atheris on ONNX bytes this long")
    parser.add_argument("--out", default="fuzz_long.json", help="where the JSON summary goes")
    args = parser.parse_args()
    names = [t for t in args.targets.split(",") if t]
    unknown = sorted(set(names) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target(s): {', '.join(unknown)}")
    signal.signal(signal.SIGALRM, _alarm)
    os.environ.setdefault("COLUMNS", "100")
    files = ft.make_cli_files(Path(tempfile.mkdtemp(prefix="edgeprof-cli-fuzz-")))
    os.chdir(files.folder)
    runs = []
    for name in names:
        run = run_target(name, args.minutes, args.timeout, files, args.chunk)
        runs.append(run)
        print(f"{name}: {run.tried} inputs in {run.seconds:.0f} s, {len(run.findings)} distinct finding(s)",
              flush=True)
    summary: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "targets": [{"target": r.name, "inputs": r.tried, "seconds": round(r.seconds, 1),
                     "outcomes": dict(r.outcomes), "findings": list(r.findings.values())} for r in runs],
    }
    if args.atheris_seconds:
        summary["atheris"] = run_atheris(args.atheris_seconds)
    Path(args.out).write_text(json.dumps(summary, indent=2) + "\n") if os.path.isabs(args.out) else \
        (Path(REPO) / args.out).write_text(json.dumps(summary, indent=2) + "\n")
    print("\n| target | inputs | seconds | outcomes | findings |\n| --- | --- | --- | --- | --- |")
    for r in runs:
        outcomes = ", ".join(f"{k} {v}" for k, v in r.outcomes.most_common())
        print(f"| {r.name} | {r.tried:,} | {r.seconds:.0f} | {outcomes} | {len(r.findings)} |")
    for r in runs:
        for f in r.findings.values():
            print(f"- {r.name} ({f['count']}x): {f['message'][:300]}\n  input: {f['input'][:300]}")
    if "atheris" in summary:
        print(f"\natheris: {json.dumps(summary['atheris'])[:1500]}")
    found = any(r.findings for r in runs) or bool(summary.get("atheris", {}).get("findings"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
