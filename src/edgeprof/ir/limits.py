"""The one limit on a dim a user may ask for (``--input``/``--dim`` on the command line,
``input_shapes``/``dims`` in the API): an integer below 2**62, so that a product of a few dims
and a byte size stays far from overflow in every exporter and runtime a model is handed to.

Shapes need dims of at least 1; a named dim (``--dim``/``dims``) may be 0 (an empty past sequence).
"""

from __future__ import annotations

__all__ = ["MAX_DIM", "MIN_NAMED_DIM", "MIN_SHAPE_DIM", "dim_in_range"]

MAX_DIM = 2**62 - 1
"""The largest dim accepted; 2**62 and above are refused."""
MIN_SHAPE_DIM = 1
"""The smallest dim of an input shape."""
MIN_NAMED_DIM = 0
"""The smallest size of a named (symbolic) dim: 0 is an empty past sequence."""


def dim_in_range(size: int, minimum: int = MIN_SHAPE_DIM) -> bool:
    """Whether ``size`` is an accepted dim: ``minimum <= size <= MAX_DIM``."""
    return minimum <= size <= MAX_DIM
