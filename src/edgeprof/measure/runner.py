"""Run a measurement in a fresh Python subprocess with a timeout, and contain its failures.

The parent sends a JSON request on the child's stdin and runs ``python -m <module>`` (or
``python -c <code>``); the child
answers with one line ``EDGEPROF_RESULT {json}`` on stdout (other output of the runtime is
ignored). A crash (a signal, a non-zero exit), a hang (the timeout) or an error the child
reports (``{"error": "..."}``) becomes a :class:`MeasurementError` with a one-line message;
nothing of the child survives it (it runs in its own process group, killed on timeout).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from edgeprof.errors import MeasurementError

RESULT_MARK = "EDGEPROF_RESULT "


def run_child(
    command: Sequence[str],
    request: Mapping[str, Any],
    *,
    what: str,
    timeout_s: float,
    env: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Run ``python *command`` (``["-m", module]`` or ``["-c", code]``) with ``request`` on stdin in
    a fresh process and its own process group; return the child's JSON result.

    ``what`` names the measurement in error messages (``"onnxruntime memory run"``); ``env``
    adds or overrides environment variables of the child."""
    if timeout_s <= 0:
        raise MeasurementError(f"{what}: the timeout must be positive, got {timeout_s}")
    child_env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])  # the directory that holds the edgeprof package
    child_env["PYTHONPATH"] = os.pathsep.join(p for p in (src, child_env.get("PYTHONPATH", "")) if p)
    child_env.update(env or {})
    try:
        proc = subprocess.Popen(
            [sys.executable, *command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env,
            start_new_session=True,
            text=True,
        )
    except OSError as exc:
        raise MeasurementError(f"{what}: cannot start a Python subprocess: {exc}") from None
    try:
        out, err = proc.communicate(json.dumps(dict(request)), timeout=timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise MeasurementError(f"{what}: did not finish within {timeout_s:g} s (the runtime hung or is too slow)") from None
    return parse_result(what, proc.returncode, out, err)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.communicate()


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
