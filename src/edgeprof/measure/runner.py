"""Run a measurement in a fresh Python subprocess with a timeout, and contain its failures.

The parent sends a JSON request on the child's stdin and runs ``<module>`` in an isolated
Python (``-I``, a minimal environment); the child answers with one line ``EDGEPROF_RESULT {json}`` on stdout (other output of the runtime is
ignored). A crash (a signal, a non-zero exit), a hang (the timeout) or an error the child
reports (``{"error": "..."}``) becomes a :class:`MeasurementError` with a one-line message;
nothing of the child survives it: it runs in its own process group, killed at the timeout, at its
memory cap and on every exit path of the parent.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from edgeprof.errors import MeasurementError
from edgeprof.measure.signals import exit_signals_raise

RESULT_MARK = "EDGEPROF_RESULT "


# The child is started isolated (``-I``: no current folder, no PYTHONPATH, no user site on
# ``sys.path``, no PYTHON* variables), with edgeprof's own folder put first by this bootstrap and
# only the environment variables a runtime needs: a ``json.py`` beside the model or in the folder
# the user stands in is never imported.
_BOOTSTRAP = ("import sys; sys.path.insert(0, sys.argv.pop(1)); kind, target = sys.argv.pop(1), sys.argv.pop(1)\n"
              "if kind == '-m':\n    import runpy; runpy.run_module(target, run_name='__main__', alter_sys=True)\n"
              "else:\n    exec(compile(target, '<edgeprof child>', 'exec'), {'__name__': '__main__'})\n")
_ENV_NAMES = {"PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "TEMP", "TMP", "LANG", "LANGUAGE", "TZ", "SYSTEMROOT",
              "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"}
_ENV_PREFIXES = ("LC_", "OMP_", "MKL_", "OPENBLAS_", "KMP_", "ORT_", "NVIDIA_", "EDGEPROF_")
MAX_RSS_ENV = "EDGEPROF_MEASURE_MAX_RSS"  # bytes (or 512M, 4G): the memory cap of a measuring child
_POLL_S = 0.05
_live_groups: set[int] = set()


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a measuring child: the variables a runtime needs, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k in _ENV_NAMES or k.startswith(_ENV_PREFIXES)}
    env.update(extra or {})
    return env


def default_max_rss_bytes() -> int:
    """The child's memory cap: ``EDGEPROF_MEASURE_MAX_RSS`` when set, else 75 % of this machine's RAM."""
    raw = os.environ.get(MAX_RSS_ENV, "").strip()
    if raw:
        return parse_bytes(raw, MAX_RSS_ENV)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        total = 16 << 30
    return int(total * 0.75)


def parse_bytes(text: str, what: str) -> int:
    """``"1500000"``, ``"512M"``, ``"4G"`` (binary units) as bytes; :class:`MeasurementError` otherwise."""
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = t[-1:] if t[-1:] in units and t[-1:] else ""
    number = t[: len(t) - len(unit)]
    if not number.isdigit() or len(number) > 18 or int(number) == 0:
        raise MeasurementError(f"{what}: {text[:40]!r} is not a memory size (bytes, or a number with K, M, G, T)")
    return int(number) * units[unit]


def run_child(
    command: Sequence[str],
    request: Mapping[str, Any],
    *,
    what: str,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
    max_rss_bytes: int | None = None,
) -> dict[str, Any]:
    """Run ``command`` (``["-m", module]`` or ``["-c", code]``) with ``request`` on stdin in a fresh, isolated
    Python process in its own process group; return the child's JSON result.

    ``what`` names the measurement in error messages (``"onnxruntime memory run"``); ``env`` adds
    variables to the child's minimal environment. The child's process group is killed when it
    runs past ``timeout_s``, when its resident memory passes ``max_rss_bytes`` (default
    :func:`default_max_rss_bytes`), and on every way out of this call (an error, Ctrl-C, SIGTERM
    or SIGHUP to this process)."""
    if timeout_s <= 0:
        raise MeasurementError(f"{what}: the timeout must be positive, got {timeout_s}")
    if len(command) != 2 or command[0] not in ("-m", "-c"):
        raise MeasurementError(f"{what}: a measuring child is ['-m', module] or ['-c', code], got {list(command)!r}")
    cap = max_rss_bytes if max_rss_bytes is not None else default_max_rss_bytes()
    src = str(Path(__file__).resolve().parents[2])  # the directory that holds the edgeprof package
    with exit_signals_raise():
        try:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-c", _BOOTSTRAP, src, *command],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=child_env(env),
                start_new_session=True,
                text=True,
            )
        except OSError as exc:
            raise MeasurementError(f"{what}: cannot start a Python subprocess: {exc}") from None
        _live_groups.add(proc.pid)
        try:
            out, err = _communicate(proc, json.dumps(dict(request)), what, timeout_s, cap)
        finally:
            if proc.poll() is None:
                _kill_group(proc)
            else:
                _kill_group_quietly(proc.pid)  # grandchildren the child left behind
            _live_groups.discard(proc.pid)
    return parse_result(what, proc.returncode, out, err)


def _communicate(proc: subprocess.Popen[str], data: str, what: str, timeout_s: float, cap: int) -> tuple[str, str]:
    deadline = time.monotonic() + timeout_s
    payload: str | None = data
    while True:
        try:
            return proc.communicate(payload, timeout=max(0.0, min(_POLL_S, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            payload = None  # sent with the first call
        rss = group_rss_bytes(proc.pid)
        if rss > cap:
            _kill_group(proc)
            raise MeasurementError(f"{what}: used {rss / 2**20:,.0f} MiB, over the {cap / 2**20:,.0f} MiB memory cap "
                                   f"(set {MAX_RSS_ENV} to change it); the subprocess was stopped") from None
        if time.monotonic() >= deadline:
            _kill_group(proc)
            raise MeasurementError(f"{what}: did not finish within {timeout_s:g} s (the runtime hung or is too slow)")


def group_rss_bytes(pgid: int) -> int:
    """Resident memory of every process in process group ``pgid`` (Linux ``/proc``; 0 elsewhere)."""
    total = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return 0
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().rsplit(b")", 1)[1].split()
            if int(stat[2]) != pgid:  # fields after the command: state, ppid, pgrp, ...
                continue
            with open(f"/proc/{entry}/statm", "rb") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.communicate()


def _kill_group_quietly(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        pass


@atexit.register
def _kill_live_groups() -> None:
    for pgid in list(_live_groups):
        _kill_group_quietly(pgid)


def parse_result(what: str, returncode: int, stdout: str, stderr: str) -> dict[str, Any]:
    """The child's result, or a :class:`MeasurementError` saying in one line what went wrong."""
    result: dict[str, Any] | None = None
    for line in stdout.splitlines():
        if line.startswith(RESULT_MARK):
            try:
                parsed = json.loads(line[len(RESULT_MARK):])
            except json.JSONDecodeError:
                continue
            if isinstance(parsed, dict):
                result = parsed
    if result is not None and "error" in result:
        raise MeasurementError(f"{what}: {result['error']}")
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        raise MeasurementError(f"{what}: the runtime crashed ({name}){_tail(stderr)}")
    if returncode != 0:
        raise MeasurementError(f"{what}: the subprocess failed with exit code {returncode}{_tail(stderr)}")
    if result is None:
        raise MeasurementError(f"{what}: the subprocess gave no result{_tail(stderr)}")
    return result


def _tail(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    return f": {lines[-1][:300]}" if lines else ""


# ---- the child's side --------------------------------------------------------------------------


def read_request() -> dict[str, Any]:
    """In the child: the request the parent sent on stdin."""
    data = json.loads(sys.stdin.read() or "{}")
    if not isinstance(data, dict):
        raise ValueError("the request is not a JSON object")
    return data


def write_result(result: Mapping[str, Any]) -> None:
    """In the child: send the result (one marked line on stdout)."""
    sys.stdout.write(RESULT_MARK + json.dumps(dict(result)) + "\n")
    sys.stdout.flush()


def write_error(message: str) -> None:
    """In the child: report an error the parent turns into a :class:`MeasurementError`."""
    write_result({"error": " ".join(message.split())[:500]})


class ChildError(Exception):
    """In the child: an error to report to the parent as one line."""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none), at most 300 characters."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def serve(child: Callable[[dict[str, Any]], Mapping[str, Any]]) -> None:
    """In the child (its ``__main__``): read the request, run ``child`` on it and send its result,
    or the error as one line (a :class:`ChildError`'s message as it is, anything else with its type)."""
    try:
        result = child(read_request())
    except ChildError as exc:
        write_error(str(exc))
        return
    except Exception as exc:
        write_error(f"{type(exc).__name__}: {first_line(exc)}")
        return
    write_result(result)
