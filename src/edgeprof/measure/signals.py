"""SIGTERM and SIGHUP as an exception, so that ``finally`` blocks run: a measuring child's process
group is killed (``measure/runner.py``) and a half-written ``-o`` file is removed
(``render/output.py``) when edgeprof is told to stop.

By default SIGTERM and SIGHUP end the process at once, skipping every ``finally``.
:func:`exit_signals_raise` turns them, for the length of a ``with`` block and in the main thread
only (Python runs signal handlers there), into :class:`ExitSignal`: a :class:`SystemExit` with
status 128 + the signal number, which unwinds like any exception and then ends the process with
the status a shell expects. Handlers someone else installed are left alone.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

__all__ = ["ExitSignal", "exit_signals_raise"]


class ExitSignal(SystemExit):
    """SIGTERM or SIGHUP inside :func:`exit_signals_raise`: unwinds, then exit 128 + signal."""


@contextlib.contextmanager
def exit_signals_raise() -> Iterator[None]:
    """Within the block, SIGTERM/SIGHUP raise :class:`ExitSignal` in the main thread instead of
    ending this process at once (outside the main thread the block runs unchanged)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, _frame: object) -> None:
        raise ExitSignal(128 + signum)

    saved = {}
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None and signal.getsignal(sig) in (signal.SIG_DFL, None):
            saved[sig] = signal.signal(sig, _raise)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
