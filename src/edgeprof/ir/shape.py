"""Shapes: a tuple of dims, each an int or a symbolic name (``"batch"``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from math import prod

Dim = int | str


@dataclass(frozen=True)
class Shape:
    """A tensor shape. Dims are ints (static) or strings (symbolic, e.g. ``"batch"``)."""

    dims: tuple[Dim, ...]

    @staticmethod
    def of(*dims: Dim) -> Shape:
        return Shape(tuple(dims))

    @property
    def rank(self) -> int:
        return len(self.dims)

    @property
    def is_static(self) -> bool:
        return all(isinstance(d, int) for d in self.dims)

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(d for d in self.dims if isinstance(d, str))

    def static(self) -> tuple[int, ...]:
        """The dims as ints; ValueError if any dim is symbolic."""
        if not self.is_static:
            raise ValueError(f"shape {self} has symbolic dims {', '.join(self.symbols)}")
        return tuple(int(d) for d in self.dims)

    def numel(self) -> int:
        """Exact element count (Python int: never overflows)."""
        return prod(self.static())

    def __iter__(self) -> Iterator[Dim]:
        return iter(self.dims)

    def __len__(self) -> int:
        return len(self.dims)

    def __getitem__(self, i: int) -> Dim:
        return self.dims[i]

    def __str__(self) -> str:
        if not self.dims:
            return "scalar"
        return "x".join(str(d) for d in self.dims)
