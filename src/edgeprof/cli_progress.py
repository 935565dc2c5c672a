"""The command line's progress display: the library's ``progress`` callbacks shown on a terminal.

:class:`TerminalProgress` is a ``progress`` callback (:data:`edgeprof.api.Progress`): each call
names the step that starts; on a terminal, a step that runs longer than ``after_s`` shows a rich
spinner with its label and the elapsed time (on ``stream``, transient) until the next step starts or
the ``with`` block ends. Off a terminal it shows nothing.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import TextIO

__all__ = ["TerminalProgress"]


class _Step:
    """One step's spinner, drawn by its own thread once the step has run ``after_s`` seconds."""

    def __init__(self, label: str, stream: TextIO, after_s: float) -> None:
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._show, args=(label, stream, after_s), daemon=True)
        self.thread.start()

    def _show(self, label: str, stream: TextIO, after_s: float) -> None:
        if self.done.wait(after_s):
            return
        from rich.console import Console
        from rich.markup import escape
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from edgeprof.report.text import printable, shorten

        text = escape(shorten(printable(label), 200))  # a model path is data, never markup or a control sequence
        with Progress(SpinnerColumn(), TextColumn(text), TimeElapsedColumn(), console=Console(file=stream),
                      transient=True) as bar:
            bar.add_task(label, total=None)
            self.done.wait()

    def end(self) -> None:
        self.done.set()
        self.thread.join()


class TerminalProgress:
    """A ``progress`` callback for the library that shows each step on a terminal (see the module
    docstring); use it as a context manager so that the last step's spinner ends with the block."""

    def __init__(self, stream: TextIO, *, after_s: float = 2.0) -> None:
        self.stream = stream
        self.after_s = after_s
        try:
            self.tty = stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self._step: _Step | None = None

    def __call__(self, label: str) -> None:
        self.close()
        if self.tty:
            self._step = _Step(label, self.stream, self.after_s)

    def close(self) -> None:
        if self._step is not None:
            self._step.end()
            self._step = None

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
