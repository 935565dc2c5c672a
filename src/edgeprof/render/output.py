"""Writing a report to ``-o FILE`` safely.

* :func:`check_output_path` refuses, before any work is done, a target that is a directory,
  whose folder does not exist, or that is an input file (the same path, a symlink to it, or a
  hard link: :func:`os.path.samefile`); the command line calls it for the model, the budget and
  device files and, once the model is read, for every external-data file the model read.
* :func:`write_text_atomic` writes the whole report to a temporary file in the target's
  folder (:func:`write_chunks_atomic`: chunk by chunk, as a renderer yields them, so that a
  big report is never held whole), flushes it to disk and then renames it over the target
  (:func:`os.replace`), so a failed run (a failed write, a renderer's error) never leaves a
  truncated file and never destroys the file that was there. The
  temporary file is removed on every way out: an error, Ctrl-C, and SIGTERM or SIGHUP (turned
  into an exception while the file is written, :mod:`edgeprof.measure.signals`).
  A symlink target is followed (the file it points to is replaced, the link stays).
* A target that is not a regular file is written in place, never truncated, never renamed over
  (that would replace a device node): a FIFO or a device such as ``/dev/null`` is opened for
  writing; a file descriptor of this process named as ``/dev/stdout``, ``/dev/stderr``,
  ``/dev/fd/N`` or ``/proc/self/fd/N`` is written through that descriptor, without reopening it,
  so that ``-o /dev/stdout >> log`` appends and ``-o /dev/stdout | cat`` works.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

from edgeprof.errors import UsageError
from edgeprof.measure.signals import exit_signals_raise

__all__ = ["check_output_path", "write_chunks_atomic", "write_text_atomic"]


def check_output_path(out: str | os.PathLike[str], model: str | os.PathLike[str] | None = None,
                      *, what: str = "the model file") -> Path:
    """Validate ``-o FILE`` and return the path to write (symlinks resolved).

    Raises :class:`UsageError` when ``out`` is a directory, its folder does not exist, or it
    names the input file ``model`` (``what`` says which input it is in the message)."""
    raw = os.fspath(out)
    if not raw:
        raise UsageError("-o: empty file name")
    if model is not None and _same_file(raw, model):
        raise UsageError(f"-o {raw}: that is {what}; refusing to overwrite it")
    if _descriptor(raw) is not None:  # /dev/stdout, /dev/fd/N: written through the descriptor
        return Path(raw)
    if os.path.isdir(raw):
        raise UsageError(f"-o {raw}: is a directory; give a file name")
    target = Path(os.path.realpath(raw))
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"-o {raw}: folder {os.path.dirname(raw) or '.'} does not exist")
    return target


def _same_file(a: str, b: str | os.PathLike[str]) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist: they cannot be the same file
        return False


# A path that names an open file descriptor rather than a file: (own process?, descriptor).
_FD_PATH = re.compile(r"/(?:proc/(self|thread-self|[0-9]+)(?:/task/[0-9]+)?|dev)/fd/([0-9]+)")
_STD_NAMES = {"/dev/stdin": 0, "/dev/stdout": 1, "/dev/stderr": 2}


def _descriptor(raw: str) -> tuple[bool, int] | None:
    """``(own, fd)`` when ``raw`` (or a symlink on the way to what it names) is a file
    descriptor path such as ``/dev/stdout`` or ``/proc/self/fd/3`` (``own``: of this process),
    else None. The path is not resolved to the file behind the descriptor: ``/dev/stdout`` of a
    shell's ``>> log`` is the descriptor, opened for appending, not the file ``log``."""
    if os.name != "posix":
        return None
    path = os.path.abspath(raw)
    for _ in range(40):  # the kernel's own limit on symlinks followed
        if path in _STD_NAMES:
            return True, _STD_NAMES[path]
        match = _FD_PATH.fullmatch(path)
        if match is not None:
            owner = match.group(1)
            return owner in (None, "self", "thread-self", str(os.getpid())), int(match.group(2))
        try:
            link = os.readlink(path)
        except OSError:  # not a symlink (or missing): an ordinary path
            return None
        path = os.path.normpath(os.path.join(os.path.dirname(path), link))
    return None


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` all or nothing (a regular file),
    or in place (a descriptor, a FIFO, a device: see the module docstring).

    Raises :class:`UsageError` when the folder cannot be written."""
    write_chunks_atomic(path, (text,))


def write_chunks_atomic(path: str | os.PathLike[str], chunks: Iterable[str]) -> None:
    """:func:`write_text_atomic` of the text ``chunks`` make together, each chunk written (and
    dropped) as it comes: a report is never held whole. An error while the chunks are made (a
    renderer's) leaves the target as :func:`write_text_atomic` leaves it on a failed write."""
    data = (chunk.encode("utf-8") for chunk in chunks)
    shown = os.fspath(path)
    fd_path = _descriptor(shown)
    if fd_path is not None:
        own, fd = fd_path
        if own:
            _write_to_descriptor(fd, data, shown)
        else:  # another process's descriptor: open it as named, appending, never truncating
            _write_in_place(Path(shown), data, shown, os.O_APPEND)
        return
    target = Path(os.path.realpath(shown))
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise UsageError(f"-o {shown}: {exc.strerror or exc}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_in_place(target, data, shown)
        return
    with exit_signals_raise():  # SIGTERM/SIGHUP unwind through the clean-up below
        _replace(target, data, st, shown)
    _fsync_folder(target.parent)


def _replace(target: Path, data: Iterable[bytes], st: os.stat_result | None, shown: str) -> None:
    """Write ``data`` to a new temporary file beside ``target`` and rename it over ``target``;
    the temporary file is removed on every way out but success."""
    tmp = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise UsageError(f"-o {shown}: cannot write in {target.parent}: {exc.strerror or exc}") from None
    try:
        try:
            if st is not None:
                os.chmod(fd, stat.S_IMODE(st.st_mode))  # keep the permissions of the file replaced
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise UsageError(f"-o {shown}: {exc.strerror or exc}") from None
        raise


def _write_all(fd: int, data: Iterable[bytes]) -> None:
    for chunk in data:
        view = memoryview(chunk)
        while view:
            written = os.write(fd, view)
            view = view[written:]


def _write_to_descriptor(fd: int, data: Iterable[bytes], shown: str) -> None:
    """Write through this process's descriptor ``fd`` as it is (appending if it was opened so,
    into a pipe); what Python buffered for that stream goes first."""
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None and stream.fileno() == fd:
                stream.flush()
        except (OSError, ValueError, AttributeError):
            continue
    try:
        _write_all(fd, data)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise UsageError(f"-o {shown}: {exc.strerror or exc}") from None


def _write_in_place(target: Path, data: Iterable[bytes], shown: str, flags: int = 0) -> None:
    """Open ``target`` (a FIFO, a device) for writing, without creating or truncating it."""
    try:
        fd = os.open(target, os.O_WRONLY | flags)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
    except OSError as exc:
        raise UsageError(f"-o {shown}: {exc.strerror or exc}") from None


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable where the platform allows it (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
