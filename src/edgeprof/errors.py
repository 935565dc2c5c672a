"""The one error tree of edgeprof.

Every error carries the exit code the CLI uses and a one-line message that names
the problem; the CLI prints ``edgeprof: <message>`` and exits with ``exit_code``,
never a traceback.

    EdgeprofError                 exit 2 unless stated
    ├── UsageError                a bad flag value or argument (``--input x``)
    ├── ModelLoadError            the file is missing, unreadable, not a model, truncated, unsafe
    ├── GraphError                the graph is malformed (a cycle, two producers, an unshaped value)
    ├── ShapeError                a shape cannot be resolved (an unresolved symbolic dim, a bad input name)
    ├── MeasurementError          a real run could not be made (the static report still comes out)
    └── StrictModeError           exit 1: ``--strict`` and some ops were not counted
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

__all__ = [
    "EdgeprofError",
    "GraphError",
    "MeasurementError",
    "ModelLoadError",
    "ShapeError",
    "StrictModeError",
    "UsageError",
    "did_you_mean",
]


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def did_you_mean(word: str, choices: Iterable[str], *, aliases: dict[str, str] | None = None) -> str:
    """``"; did you mean 'orin-nano'?"`` for a mistyped ``word`` (case, punctuation and spelling
    forgiven; ``aliases`` maps another spelling, such as a device's full name, to its choice), or
    ``""`` when nothing is close. For the end of a one-line error message."""
    options = {c: c for c in choices}
    keyed: dict[str, str] = {}
    for text, choice in [*options.items(), *(aliases or {}).items()]:
        keyed.setdefault(_key(text), choice)
    key = _key(word)
    if not key:
        return ""
    found: list[str] = []
    for k, choice in keyed.items():  # a spelling that contains the word, or the other way round
        if choice not in found and len(key) >= 3 and (key in k or k in key) and min(len(k), len(key)) >= 3:
            found.append(choice)
    for k in difflib.get_close_matches(key, list(keyed), n=3, cutoff=0.6):
        if keyed[k] not in found:
            found.append(keyed[k])
    found = found[:3]
    if not found:
        return ""
    return "; did you mean " + " or ".join(repr(f) for f in found) + "?"


class EdgeprofError(Exception):
    """Base of every error edgeprof raises on purpose."""

    exit_code: int = 2

    def __init__(self, message: str) -> None:
        # One line, always: a multi-line message is folded so the CLI prints one line.
        super().__init__(" ".join(message.split()))

    @property
    def message(self) -> str:
        return str(self)


class UsageError(EdgeprofError):
    """A command-line flag or API argument has a bad value."""


class ModelLoadError(EdgeprofError):
    """The model could not be read: missing, not a model, truncated, corrupt or unsafe."""


class GraphError(EdgeprofError):
    """The graph breaks an IR invariant (acyclic, one producer per value, every value known)."""


class ShapeError(EdgeprofError):
    """A shape cannot be resolved: an unresolved symbolic dim, an unknown input name."""


class MeasurementError(EdgeprofError):
    """A real run (latency, memory, energy) could not be made."""


class StrictModeError(EdgeprofError):
    """``--strict`` was given and some ops were not counted."""

    exit_code = 1
