"""The report types that both the :class:`~edgeprof.report.model.Profile` and its parts (memory,
latency, energy) use: how a figure was obtained, and a group of stored tensors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Provenance", "WeightGroup"]


@dataclass(frozen=True)
class Provenance:
    """How a figure was obtained: ``counted`` (exact, from formulas), ``estimated`` (by
    ``method``, from ``sources``) or ``measured`` (in ``environment``, over ``runs``)."""

    kind: Literal["counted", "estimated", "measured"]
    method: str
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class WeightGroup:
    """Stored tensors of one dtype: how many, their elements, their bytes, and how many of the
    elements are learnable parameters."""

    dtype: str
    tensors: int
    elements: int
    params: int
    bytes: int
