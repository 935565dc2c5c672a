"""The result of ``edgeprof compare``: one entry per model given, with its profile or the one-line
reason it has none (rendered by ``edgeprof.render.compare``)."""

from __future__ import annotations

from dataclasses import dataclass

from edgeprof.report.model import Profile

__all__ = ["CompareEntry"]


@dataclass(frozen=True)
class CompareEntry:
    """One model given to compare: its path, its profile, or why it has none."""

    path: str
    profile: Profile | None
    error: str = ""
