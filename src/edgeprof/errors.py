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

__all__ = [
    "EdgeprofError",
    "GraphError",
    "MeasurementError",
    "ModelLoadError",
    "ShapeError",
    "StrictModeError",
    "UsageError",
]


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
