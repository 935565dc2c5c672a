"""docs/ci.md: the GitHub Actions workflow's commands, run as GitHub runs them (``bash -eo pipefail``)
against models/demo.onnx with the doc's budget file and ``GITHUB_STEP_SUMMARY`` pointing to a
temporary file: the exit code gates the job and the Markdown table reaches the job summary."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "ci.md"
INSTALL = "Install edgeprof"


def _block(lang: str) -> str:
    blocks = re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) == 1, f"docs/ci.md should hold one {lang} block"
    return str(blocks[0])


def _steps() -> list[dict[str, str]]:
    yaml = pytest.importorskip("yaml")
    workflow = yaml.safe_load(_block("yaml"))
    assert workflow["name"] and workflow[True] == ["push", "pull_request"]  # YAML 1.1 reads ``on`` as True
    (job,) = workflow["jobs"].values()
    return [s for s in job["steps"] if "run" in s]


def _shell(tmp_path: Path, budget_text: str) -> tuple[int, str, str]:
    """Run the workflow's commands (not the install step) in a checkout holding models/demo.onnx and
    the budget file; returns (exit code of the last step, the job summary, stdout)."""
    work = tmp_path / "checkout"
    (work / "models").mkdir(parents=True)
    shutil.copy(ROOT / "models" / "demo.onnx", work / "models" / "demo.onnx")
    (work / "budget.toml").write_text(budget_text, encoding="utf-8")
    bin_dir = tmp_path / "bin"  # ``edgeprof`` on PATH: this checkout's code, as the install step gives it
    bin_dir.mkdir()
    shim = bin_dir / "edgeprof"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m edgeprof.cli "$@"\n', encoding="utf-8")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    summary = tmp_path / "summary.md"
    summary.write_text("", encoding="utf-8")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": str(ROOT / "src"), "GITHUB_STEP_SUMMARY": str(summary)}
    steps = _steps()
    install = [s for s in steps if s.get("name") == INSTALL]
    assert install and "pip install" in install[0]["run"] and "edgeprof" in install[0]["run"]
    code, out = 0, ""
    for step in steps:
        if step.get("name") == INSTALL:
            continue
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=work,
                              env=env, capture_output=True, text=True, timeout=300, check=False)
        code, out = done.returncode, done.stdout
        if code:
            break
    return code, summary.read_text(encoding="utf-8"), out


def test_the_workflow_passes_and_writes_the_job_summary(tmp_path: Path) -> None:
    code, summary, out = _shell(tmp_path, _block("toml"))
    assert code == 0, out
    assert summary.startswith("## edgeprof budget check: demo\n") and "**PASS**: all budgets hold." in summary
    assert "| `max_flops` | FLOPs | 68,818,816 | 100,000,000 | ✅ pass |" in summary
    assert "| `max_latency_ms` | predicted latency on rpi5 |" in summary
    assert summary == out  # tee: the log shows what the summary holds
    doc = DOC.read_text(encoding="utf-8")
    for line in summary.splitlines():  # the doc shows this very output
        assert line in doc, line


def test_a_budget_not_met_fails_the_job_after_writing_the_summary(tmp_path: Path) -> None:
    budget = _block("toml").replace('max_flops = "100M"', 'max_flops = "50M"')
    code, summary, _ = _shell(tmp_path, budget)
    assert code == 1
    assert "**FAIL**: 1 budget(s) not met." in summary and "| `max_flops` | FLOPs | 68,818,816 | 50,000,000 | ❌ **fail** |" in summary
