"""Reading a file the user named (a ``.tflite`` model, a ``config.json``, a TOML budget or
device file) without trusting what it is.

``/dev/zero`` has no end and opening a FIFO waits for a writer: a path is read only when it is a
regular file (checked before opening, and again on the open descriptor, which is opened
non-blocking), at most ``max_bytes`` of it, so a device, a FIFO or a file that grows while it is
read is refused with one line instead of hanging or filling memory.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

MAX_TEXT_BYTES = 16 * 2**20  # config.json, budget and device TOML files: real ones are a few kB


class UnreadableFile(Exception):
    """Why a file is not read (the message completes ``<path>: ``); ``missing``: there is no such file."""

    def __init__(self, message: str, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def _refuse_kind(mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise UnreadableFile("is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise UnreadableFile("is not a regular file (a device, a FIFO or a socket); refused unread")


def read_regular_file(path: str | os.PathLike[str], max_bytes: int) -> bytes:
    """The bytes of ``path``, a regular file of at most ``max_bytes``; UnreadableFile otherwise."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UnreadableFile("no such file", missing=True) from None
    except OSError as exc:
        raise UnreadableFile(f"cannot read the file ({exc.strerror or type(exc).__name__})") from None
    _refuse_kind(st.st_mode)
    if st.st_size > max_bytes:
        raise UnreadableFile(f"the file has {st.st_size:,} bytes, more than the {max_bytes:,} edgeprof reads for it")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise UnreadableFile(f"cannot read the file ({exc.strerror or type(exc).__name__})") from None
    try:
        _refuse_kind(os.fstat(fd).st_mode)  # swapped for a FIFO or a device after the check above
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise UnreadableFile(f"cannot read the file ({exc.strerror or type(exc).__name__})") from None
    finally:
        os.close(fd)
    if total > max_bytes:
        raise UnreadableFile(f"the file grew past {max_bytes:,} bytes while it was read")
    return b"".join(chunks)


def read_head(path: str | os.PathLike[str], n: int) -> bytes:
    """The first ``n`` bytes of a regular file (b"" for anything else or on an error): for
    recognising a format by its magic bytes without opening a FIFO or a device."""
    try:
        if not Path(path).is_file():
            return b""
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return b""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        return os.read(fd, n)
    except OSError:
        return b""
    finally:
        os.close(fd)
