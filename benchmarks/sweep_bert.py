"""A sweep of 200 Hugging Face config variants of a BERT family, timed: the whole sweep, then a
sweep killed half way (SIGKILL) and resumed, counting the rows the second run makes.

    .venv/bin/python benchmarks/sweep_bert.py                 # both, --jobs = the number of cores
    .venv/bin/python benchmarks/sweep_bert.py --jobs 2 --folder /tmp/sweep-bench --keep

The space (5 x 5 x 4 x 2 = 200): hidden_size 128..384, num_hidden_layers 2..10, intermediate_size
512..2048, num_attention_heads 4 or 8; sequence length 128, predicted on rpi5. Each run is the real
command line (``edgeprof sweep``) in a subprocess; nothing is downloaded (the configs are built
here and the models on PyTorch's meta device). The figures go to docs/sweep.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", ""))
                                                   if p), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
BASE = {"model_type": "bert", "architectures": ["BertModel"], "hidden_size": 256, "num_hidden_layers": 4,
        "num_attention_heads": 4, "intermediate_size": 1024, "vocab_size": 30522, "max_position_embeddings": 512}
SPACE = ["hidden_size=128,192,256,320,384", "num_hidden_layers=2,4,6,8,10", "intermediate_size=512,1024,1536,2048",
         "num_attention_heads=4,8"]
TOTAL = 5 * 5 * 4 * 2


def command(config: Path, db: Path, jobs: int) -> list[str]:
    sets = [arg for s in SPACE for arg in ("--set", s)]
    return [sys.executable, "-m", "edgeprof.cli", "sweep", str(config), *sets, "--seq-len", "128", "--device", "rpi5",
            "--db", str(db), "--jobs", str(jobs), "--format", "csv", "-o", str(db.with_suffix(".csv"))]


def count(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(db, timeout=30)
    try:
        return int(conn.execute("SELECT count(*) FROM results WHERE status = 'ok'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--folder", default=None, help="where the config and databases go (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the folder")
    args = parser.parse_args()
    folder = Path(args.folder or tempfile.mkdtemp(prefix="edgeprof-sweep-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "bert.json"
    config.write_text(json.dumps(BASE, indent=2))
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, --jobs {args.jobs}, {TOTAL} variants")
    try:
        full = folder / "full.sqlite"
        full.unlink(missing_ok=True)
        start = time.perf_counter()
        subprocess.run(command(config, full, args.jobs), env=ENV, check=True)
        whole = time.perf_counter() - start
        print(f"whole sweep: {whole:.1f} s, {count(full)} rows")

        resumed = folder / "resumed.sqlite"
        resumed.unlink(missing_ok=True)
        start = time.perf_counter()
        first = subprocess.Popen(command(config, resumed, args.jobs), env=ENV)
        while count(resumed) < TOTAL // 2 and first.poll() is None:
            time.sleep(0.2)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_after = time.perf_counter() - start
        before = count(resumed)
        start = time.perf_counter()
        subprocess.run(command(config, resumed, args.jobs), env=ENV, check=True)
        second = time.perf_counter() - start
        after = count(resumed)
        print(f"killed (SIGKILL) after {killed_after:.1f} s with {before} rows; the second run made {after - before} "
              f"rows in {second:.1f} s ({after} in all)")
        same = sqlite3.connect(full).execute("SELECT label, params, macs, peak_bytes, latency_s FROM results "
                                             "ORDER BY label").fetchall()
        again = sqlite3.connect(resumed).execute("SELECT label, params, macs, peak_bytes, latency_s FROM results "
                                                 "ORDER BY label").fetchall()
        print(f"the resumed database has the whole sweep's rows: {same == again}")
    finally:
        if not args.keep and args.folder is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
