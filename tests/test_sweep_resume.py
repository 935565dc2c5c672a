"""A sweep killed half way resumes: a real ``edgeprof sweep`` subprocess is killed (SIGKILL in this
process, SIGTERM on a process pool) once some rows are in the database; the finished rows are
intact, and the second run makes only the missing rows (counted)."""

from __future__ import annotations

import csv
import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # kills and resumes a real sweep subprocess (about 20 s): `make test` runs it, `make test-fast` does not

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH", "")]),
       "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
WIDTHS = list(range(4, 16))  # 12 candidates of 0.4 s each (tests.test_sweep:tiny_mlp sleeps)


def _command(db: Path, jobs: int) -> list[str]:
    return [sys.executable, "-m", "edgeprof.cli", "sweep", "tests.test_sweep:tiny_mlp", "--set",
            "width=" + ",".join(map(str, WIDTHS)), "--set", "delay=0.4", "--input", "1x16", "--device", "rpi5",
            "--db", str(db), "--jobs", str(jobs), "--format", "csv"]


def _rows(db: Path) -> list[tuple[int, str, str]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute("SELECT id, label, created_at FROM results ORDER BY id").fetchall()
    except sqlite3.OperationalError:  # the table is not made yet
        return []
    finally:
        conn.close()


@pytest.mark.parametrize(("jobs", "sig"), [(1, signal.SIGKILL), (2, signal.SIGTERM)])
def test_a_killed_sweep_resumes_without_redoing_finished_rows(tmp_path: Path, jobs: int, sig: int) -> None:
    db = tmp_path / "r.sqlite"
    first = subprocess.Popen(_command(db, jobs), cwd=ROOT, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while len(_rows(db)) < 3 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    first.send_signal(sig)
    _, err = first.communicate(timeout=60)
    assert first.returncode in (-sig, 130), err.decode()[-2000:]
    done = _rows(db)
    assert 3 <= len(done) < len(WIDTHS), "the sweep was not killed half way"

    second = subprocess.run(_command(db, jobs), cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-2000:]
    after = _rows(db)
    assert len(after) == len(WIDTHS) and len({label for _, label, _ in after}) == len(WIDTHS)
    assert after[:len(done)] == done  # the finished rows were not made again (same ids, same times)
    # a row made again would be replaced (a new id): the second run added exactly the missing ones
    made_again = [row for row in after if row[0] > done[-1][0]]
    assert len(made_again) == len(WIDTHS) - len(done)
    # the output has every row, in order, the resumed ones included
    out = list(csv.DictReader(io.StringIO(second.stdout)))
    assert [r["label"] for r in out] == [f"tests.test_sweep:tiny_mlp[width={w},delay=0.4]" for w in WIDTHS]
    assert all(r["status"] == "ok" for r in out)
