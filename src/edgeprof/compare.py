"""``edgeprof compare``: profile several models, keeping going past the ones that fail.

A model that cannot be profiled keeps its entry, with the one-line reason; the others are
still compared. The table, Markdown, JSON and HTML comparisons are drawn by
``edgeprof.render.compare``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TextIO

from edgeprof.errors import EdgeprofError
from edgeprof.report.compare import CompareEntry
from edgeprof.report.model import Profile

__all__ = ["compare_models"]


def compare_models(
    paths: Sequence[str], profile: Callable[[str], Profile], *, progress: TextIO | None = None
) -> list[CompareEntry]:
    """Profile every path with ``profile``; a failure becomes the entry's ``error`` (one line).
    With ``progress`` (a terminal stream) a progress bar is drawn on it."""
    entries: list[CompareEntry] = []

    def one(path: str) -> CompareEntry:
        try:
            return CompareEntry(path, profile(path))
        except EdgeprofError as exc:
            return CompareEntry(path, None, exc.message)
        except Exception as exc:  # a bug in one model's path must not hide the others' rows
            return CompareEntry(path, None, " ".join(f"internal error: {type(exc).__name__}: {exc}".split()))

    if progress is None:
        return [one(p) for p in paths]
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(file=progress)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("profiling", total=len(paths))
        for path in paths:
            bar.update(task, description=f"profiling {path}")
            entries.append(one(path))
            bar.advance(task)
    return entries
