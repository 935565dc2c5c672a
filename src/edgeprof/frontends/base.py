"""What every frontend takes (the user's shape requests) and returns (a loaded graph)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from edgeprof.ir import Graph
from edgeprof.report.model import InputSpec, ModelInfo

CALLABLE_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
"""A ``"package.module:callable"`` that builds a PyTorch model (named by the user, never by a model file)."""


@dataclass(frozen=True)
class ShapeRequest:
    """The user's say on shapes and values.

    ``inputs``: (name or ``None`` for "the next input in order", shape) pairs from ``--input``;
    ``dims``: symbolic dim name -> size (``--dim``); ``values``: input name -> a small value
    (``--value``) for inputs that drive shapes or ``If`` conditions."""

    inputs: tuple[tuple[str | None, tuple[int, ...]], ...] = ()
    dims: Mapping[str, int] = field(default_factory=dict)
    values: Mapping[str, tuple[float, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadedModel:
    """A frontend's result: the graph, what the model is, the inputs as resolved, notices, and
    (where the frontend knows them) how many times each module path was called."""

    graph: Graph
    info: ModelInfo
    inputs: tuple[InputSpec, ...]
    notices: tuple[str, ...] = ()
    module_calls: Mapping[str, int] = field(default_factory=dict)
