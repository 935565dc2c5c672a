"""Shapes: a tuple of dims, each an int or a symbolic name (``"batch"``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from math import prod
from typing import Any

Dim = int | str


@dataclass(frozen=True, slots=True)
class Shape:
    """A tensor shape. Dims are ints (static) or strings (symbolic, e.g. ``"batch"``).

    A shape never changes, so its static dims and element count are worked out once, when it is
    made (the passes ask for them for every tensor, many times over)."""

    dims: tuple[Dim, ...]
    _static_dims: tuple[int, ...] | None = field(init=False, repr=False, compare=False)
    _numel: int | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        static = tuple(int(d) for d in self.dims) if all(isinstance(d, int) for d in self.dims) else None
        object.__setattr__(self, "_static_dims", static)
        object.__setattr__(self, "_numel", prod(static) if static is not None else None)

    def __reduce__(self) -> tuple[Any, ...]:
        # made again from its dims (a frozen class with slots cannot take its state back by setattr)
        return (Shape, (self.dims,))

    @staticmethod
    def of(*dims: Dim) -> Shape:
        return Shape(tuple(dims))

    @property
    def rank(self) -> int:
        return len(self.dims)

    @property
    def is_static(self) -> bool:
        return self._static_dims is not None

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(d for d in self.dims if isinstance(d, str))

    def static(self) -> tuple[int, ...]:
        """The dims as ints; ValueError if any dim is symbolic."""
        static = self._static_dims
        if static is None:
            raise ValueError(f"shape {self} has symbolic dims {', '.join(self.symbols)}")
        return static

    def numel(self) -> int:
        """Exact element count (Python int: never overflows); ValueError if any dim is symbolic."""
        numel = self._numel
        if numel is None:
            raise ValueError(f"shape {self} has symbolic dims {', '.join(self.symbols)}")
        return numel

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
