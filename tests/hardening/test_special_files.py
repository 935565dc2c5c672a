"""Special files named as a model, a config, a budget or a device file (#12 item 11).

``/dev/zero`` never ends and opening a FIFO waits for a writer: a ``.tflite``, a ``config.json``,
a ``--budget`` or a ``--devices-file`` that is one (directly or through a symlink) is refused
unread with one line and exit 2, as ONNX models already were (``edgeprof/safe_files.py``:
a regular-file check before opening, the descriptor opened non-blocking and checked again, a
size limit). Each run happens in a thread with a generous guard: a hang fails the test instead
of blocking the suite.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from edgeprof.cli import main
from edgeprof.safe_files import UnreadableFile, read_regular_file
from tests.hardening.fuzz_targets import conv_model

posix_only = pytest.mark.skipif(os.name != "posix" or not os.path.exists("/dev/zero"), reason="FIFOs and /dev/zero")
GUARD_S = 60.0


def _special(folder: Path, name: str, kind: str) -> Path:
    path = folder / name
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    return path


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    result: list[int] = []
    worker = threading.Thread(target=lambda: result.append(main(argv)), daemon=True)
    worker.start()
    worker.join(GUARD_S)
    assert not worker.is_alive(), f"edgeprof {' '.join(argv)} hangs"
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and err.startswith("edgeprof: ") and "Traceback" not in err, err
    return result[0], err


@posix_only
@pytest.mark.parametrize("kind", ["fifo", "dev_zero"])
@pytest.mark.parametrize("name", ["model.tflite", "config.json"])
def test_a_special_model_or_config_is_refused_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     kind: str, name: str) -> None:
    path = _special(tmp_path, name, kind)
    code, err = _run(["profile", str(path)], capsys)
    assert code == 2 and "not a regular file" in err


@posix_only
@pytest.mark.parametrize("kind", ["fifo", "dev_zero"])
@pytest.mark.parametrize("flag", ["--budget", "--devices-file"])
def test_a_special_budget_or_device_file_is_refused_unread(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          kind: str, flag: str) -> None:
    model = tmp_path / "model.onnx"
    model.write_bytes(conv_model().SerializeToString())
    special = _special(tmp_path, "figures.toml", kind)
    argv = ["check", str(model), "--budget", str(special)] if flag == "--budget" else \
        ["profile", str(model), "--devices-file", str(special), "--device", "host"]
    code, err = _run(argv, capsys)
    assert code == 2 and "not a regular file" in err


@posix_only
def test_a_file_named_like_a_model_with_no_suffix_is_not_sniffed_when_it_is_a_fifo(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The TFLite sniffing of an unknown suffix (TFL3 at bytes 4..8) never opens a FIFO."""
    code, err = _run(["profile", str(_special(tmp_path, "model.bin2", "fifo"))], capsys)
    assert code == 2 and "not a regular file" in err


def test_the_size_limit_holds_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "config.json"
    with open(big, "wb") as f:
        f.truncate(17 * 2**20)  # sparse: 17 MiB claimed, nothing written
    with pytest.raises(UnreadableFile, match="more than the 1,000"):
        read_regular_file(big, 1000)
    assert read_regular_file(big, 17 * 2**20)[:4] == b"\0\0\0\0"
