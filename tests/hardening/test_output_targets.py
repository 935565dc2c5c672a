"""``-o`` hazards: ``-o /dev/stdout >> file`` appends (the descriptor is written as it is, the file
behind it is not replaced), ``-o /dev/stdout | cat`` works, ``-o`` naming a model's external-data
file is refused with one line and the file is unchanged, and SIGTERM while the report is written
leaves no temporary file behind."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from edgeprof.cli import main
from tests.hardening.fuzz_targets import external_model
from tests.hardening.test_resource_limits import _chain

posix_only = pytest.mark.skipif(os.name != "posix", reason="/dev/stdout, bash and signals are POSIX")
SRC = str(Path(__file__).resolve().parents[2] / "src")
EDGEPROF = f"{shlex.quote(sys.executable)} -c 'import sys; from edgeprof.cli import main; sys.exit(main(sys.argv[1:]))'"


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _bash(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300)


@posix_only
def test_o_dev_stdout_appended_by_the_shell_keeps_what_was_there(tmp_path: Path) -> None:
    model = external_model(tmp_path / "m")
    log = tmp_path / "out.txt"
    log.write_text("previous line\n")
    for fmt in ("json", "csv"):
        done = _bash(f"{EDGEPROF} profile {shlex.quote(str(model))} --format {fmt} -o /dev/stdout >> out.txt", tmp_path)
        assert done.returncode == 0 and done.stderr == "", done.stderr
    text = log.read_text()
    assert text.startswith("previous line\n{")  # appended, not replaced
    assert '"schema_version"' in text
    assert text.count("previous line") == 1 and "name,op,category" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m", "out.txt"]  # no temporary file, no stray file


@posix_only
@pytest.mark.parametrize("target", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])
def test_o_dev_stdout_into_a_pipe_works(tmp_path: Path, target: str) -> None:
    if not os.path.exists(target):
        pytest.skip(f"{target} does not exist here")
    model = external_model(tmp_path / "m")
    done = _bash(f"{EDGEPROF} profile {shlex.quote(str(model))} --format csv -o {target} | cat", tmp_path)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.startswith("name,op,category") and done.stdout.count("\n") == 3
    piped = _bash(f"set -o pipefail; {EDGEPROF} check {shlex.quote(str(model))} --max-flops 1G -o {target} | cat",
                  tmp_path)
    assert piped.returncode == 0 and "all budgets hold" in piped.stdout, piped.stderr


@pytest.mark.parametrize("command", [["profile"], ["profile", "--format", "json"], ["check", "--max-flops", "1G"],
                                     ["compare"]])
def test_o_naming_the_models_external_data_is_refused_and_the_file_untouched(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    model = external_model(tmp_path / "m")
    data = model.parent / "weights.bin"
    (model.parent / "link.bin").symlink_to(data)
    before = data.read_bytes()
    monkeypatch.chdir(model.parent)
    for target in (str(data), "weights.bin", "./weights.bin", "link.bin"):
        argv = [command[0], str(model), *command[1:], "-o", target]
        assert main(argv) == 2, argv
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and err.startswith("edgeprof: "), err
        assert "external-data file" in err and "refusing to overwrite" in err, err
        assert data.read_bytes() == before
    assert sorted(p.name for p in model.parent.iterdir()) == ["link.bin", "model.onnx", "weights.bin"]


@posix_only
def test_sigterm_while_the_report_is_written_leaves_no_temporary_file(tmp_path: Path) -> None:
    model = tmp_path / "big.onnx"
    model.write_bytes(_chain(20_000, "Add"))
    out = tmp_path / "report.json"
    # A slow disk, simulated: the child's first fsync (of the temporary file) says so and waits.
    child = ("import os, sys, time\n"
             "real = os.fsync\n"
             "def slow(fd):\n"
             "    sys.stderr.write('WRITING\\n'); sys.stderr.flush(); time.sleep(60); real(fd)\n"
             "os.fsync = slow\n"
             "from edgeprof.cli import main\n"
             "sys.exit(main(sys.argv[1:]))\n")
    with subprocess.Popen([sys.executable, "-c", child, "profile", str(model), "--format", "json", "-o", str(out)],
                          cwd=tmp_path, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True) as proc:
        try:
            assert proc.stderr is not None
            assert proc.stderr.readline() == "WRITING\n"
            temporaries = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
            assert len(temporaries) == 1 and temporaries[0].stat().st_size > 1_000_000  # the report, written
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert code == 128 + signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.onnx"]  # no temporary, no half report
