"""The aten -> canonical (ONNX) op table: one row per aten op, kept as data.

Each row says which ONNX ops an aten op becomes (``emits``) and how its arguments become ONNX
inputs and attributes (``build``). Costs come from the op registry only: this table never
computes a count. Rows are keyed ``"<namespace>.<op>"`` (``"aten.convolution"``); a row
with ``emits == ()`` and a ``note`` is a metadata query that computes nothing and produces no
tensor (``prim.device``, ``aten.sym_size``). An aten op with no row becomes a node named
``aten::<op>`` that has no formula, so it is listed as *not counted* under its aten name.

Conventions (one line each, also in docs/pytorch.md):

* ``add``/``sub`` with ``alpha != 1`` are a ``Mul`` then the ``Add``/``Sub``; ``rsqrt`` is
  ``Sqrt`` then ``Reciprocal``; ``log1p``/``expm1``/``log2``/``log10`` are two ONNX ops each.
* ``mm``/``addmm`` whose right operand is the transpose of a 2-D weight become one ``Gemm``
  with ``transB=1`` (the exporter's spelling of ``nn.Linear``), otherwise ``MatMul``/``Gemm``.
* ``max(dim)`` is ``ArgMax`` plus a gather of the values (one pass of comparisons).
* ``var``/``std`` are ``ReduceMean``, ``Sub``, ``Mul``, ``ReduceSum``, ``Div`` (and ``Sqrt``).
* ``div`` with a rounding mode is ``Div`` then ``Floor`` (``trunc`` costed like ``floor``).
* ``sort``/``argsort`` are a ``TopK`` over the whole dim.
"""

from __future__ import annotations

from edgeprof.frontends.pytorch import _map_data, _map_math, _map_nn
from edgeprof.frontends.pytorch._map_nn import attention_node
from edgeprof.frontends.pytorch._rows import Row

__all__ = ["ATEN_TABLE", "Row", "attention_node", "emitted_ops", "row_for"]


def _rows() -> dict[str, Row]:
    table: dict[str, Row] = {}

    def put(names: str, row: Row) -> None:
        for n in names.split():
            key = n if "." in n else f"aten.{n}"
            if key in table:
                raise ValueError(f"aten op {key} is mapped twice")
            table[key] = row

    for family in (_map_data, _map_math, _map_nn):
        family.register(put)
    return table


ATEN_TABLE: dict[str, Row] = _rows()


def row_for(namespace: str, packet: str) -> Row | None:
    """The row of an aten op (``namespace`` "aten"/"prim", ``packet`` "add"), or None."""
    return ATEN_TABLE.get(f"{namespace}.{packet}")


def emitted_ops() -> frozenset[str]:
    """Every ONNX op some row may emit (each must have a registry entry)."""
    return frozenset(op for row in ATEN_TABLE.values() for op in row.emits)
