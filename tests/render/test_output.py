"""Safe writing of -o files (report/output.py): atomic, never over the model, never half-written."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from edgeprof.errors import UsageError
from edgeprof.render.output import check_output_path, write_chunks_atomic, write_text_atomic


def test_writes_new_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "r.txt"
    write_text_atomic(target, "héllo\n")
    assert target.read_bytes() == "héllo\n".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.txt"]


def test_replaces_existing_file_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "r.txt"
    target.write_text("old")
    os.chmod(target, 0o640)
    write_text_atomic(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "r.txt"
    target.write_text("precious")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(UsageError, match="No space left on device"):
        write_text_atomic(target, "new report")
    assert target.read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.txt"]


def test_symlink_target_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_text_atomic(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"


def test_a_non_regular_target_is_written_in_place(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        write_text_atomic(fifo, "through the pipe")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_check_refuses_directory_missing_folder_and_the_model(tmp_path: Path) -> None:
    model = tmp_path / "m.onnx"
    model.write_bytes(b"model")
    with pytest.raises(UsageError, match="is a directory"):
        check_output_path(tmp_path, model)
    with pytest.raises(UsageError, match="does not exist"):
        check_output_path(tmp_path / "nope" / "r.txt", model)
    with pytest.raises(UsageError, match="that is the model file"):
        check_output_path(model, model)
    with pytest.raises(UsageError, match="that is the model file"):
        check_output_path(str(tmp_path / "." / "m.onnx"), model)
    link = tmp_path / "link.onnx"
    link.symlink_to(model)
    with pytest.raises(UsageError, match="that is the model file"):
        check_output_path(link, model)
    hard = tmp_path / "hard.onnx"
    os.link(model, hard)
    with pytest.raises(UsageError, match="that is the model file"):
        check_output_path(hard, model)
    with pytest.raises(UsageError, match="empty file name"):
        check_output_path("", model)
    assert check_output_path(tmp_path / "r.json", model) == (tmp_path / "r.json").resolve()
    assert model.read_bytes() == b"model"


def test_unwritable_folder_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def refuse_temp(path: object, flags: int, mode: int = 0o777) -> int:
        if str(path).endswith(".tmp"):
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, mode)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refuse_temp)
    with pytest.raises(UsageError, match=r"cannot write in .*Permission denied"):
        write_text_atomic(tmp_path / "r.txt", "x")
    assert list(tmp_path.iterdir()) == []


def test_chunks_are_written_as_they_come_and_a_failing_renderer_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    write_chunks_atomic(target, iter(["{", '"a": 1', "}\n"]))
    assert target.read_text() == '{"a": 1}\n'

    def failing() -> Iterator[str]:
        yield "{"
        assert [p.stat().st_size for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == [1]  # "{", written
        yield '"half": '
        raise RuntimeError("renderer bug")

    with pytest.raises(RuntimeError, match="renderer bug"):
        write_chunks_atomic(target, failing())
    assert target.read_text() == '{"a": 1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_chunks_go_through_a_descriptor_in_order(tmp_path: Path) -> None:
    read_fd, write_fd = os.pipe()
    try:
        write_chunks_atomic(f"/dev/fd/{write_fd}", iter(["one ", "two ", "three"]))
        assert os.read(read_fd, 100) == b"one two three"
    finally:
        os.close(read_fd)
        os.close(write_fd)
