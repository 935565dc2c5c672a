"""Writing a report to ``-o FILE`` safely.

* :func:`check_output_path` refuses, before any work is done, a target that is a directory,
  whose folder does not exist, or that is the model file itself (the same path, a symlink
  to it, or a hard link: :func:`os.path.samefile`).
* :func:`write_text_atomic` writes the whole report to a temporary file in the target's
  folder, flushes it to disk and then renames it over the target (:func:`os.replace`), so a
  failed run never leaves a truncated file and never destroys the file that was there.
  A symlink target is followed (the file it points to is replaced, the link stays); a target
  that exists but is not a regular file (``/dev/null``, a FIFO) is written in place, since
  renaming over a device would replace the device node.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from edgeprof.errors import UsageError

__all__ = ["check_output_path", "write_text_atomic"]


def check_output_path(out: str | os.PathLike[str], model: str | os.PathLike[str] | None = None,
                      *, what: str = "the model file") -> Path:
    """Validate ``-o FILE`` and return the path to write (symlinks resolved).

    Raises :class:`UsageError` when ``out`` is a directory, its folder does not exist, or it
    names the input file ``model`` (``what`` says which input it is in the message)."""
    raw = os.fspath(out)
    if not raw:
        raise UsageError("-o: empty file name")
    if os.path.isdir(raw):
        raise UsageError(f"-o {raw}: is a directory; give a file name")
    target = Path(os.path.realpath(raw))
    folder = target.parent
    if not folder.is_dir():
        raise UsageError(f"-o {raw}: folder {os.path.dirname(raw) or '.'} does not exist")
    if model is not None and _same_file(raw, model):
        raise UsageError(f"-o {raw}: that is {what}; refusing to overwrite it")
    return target


def _same_file(a: str, b: str | os.PathLike[str]) -> bool:
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist: they cannot be the same file
        return False


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` all or nothing.

    Raises :class:`UsageError` when the folder cannot be written."""
    target = Path(os.path.realpath(os.fspath(path)))
    data = text.encode("utf-8")
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise UsageError(f"-o {os.fspath(path)}: {exc.strerror or exc}") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_in_place(target, data, os.fspath(path))
        return
    tmp = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        raise UsageError(f"-o {os.fspath(path)}: cannot write in {target.parent}: {exc.strerror or exc}") from None
    try:
        try:
            if st is not None:
                os.chmod(fd, stat.S_IMODE(st.st_mode))  # keep the permissions of the file replaced
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
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
            raise UsageError(f"-o {os.fspath(path)}: {exc.strerror or exc}") from None
        raise
    _fsync_folder(target.parent)


def _write_in_place(target: Path, data: bytes, shown: str) -> None:
    try:
        with open(target, "wb") as f:
            f.write(data)
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
