"""Element types: a name, a size in bits and a kind (float, int, uint, bool, ...)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DTypeKind = Literal["float", "int", "uint", "bool", "complex", "string"]


@dataclass(frozen=True)
class DType:
    """One element type. ``bits`` may be below 8 (int4); ``nbytes_for`` rounds up per tensor."""

    name: str
    bits: int
    kind: DTypeKind

    @property
    def is_float(self) -> bool:
        return self.kind in ("float", "complex")

    @property
    def is_integer(self) -> bool:
        return self.kind in ("int", "uint", "bool")

    @property
    def itemsize(self) -> float:
        """Bytes per element (0.5 for 4-bit types)."""
        return self.bits / 8

    def nbytes_for(self, numel: int) -> int:
        """Bytes a dense tensor of ``numel`` elements takes (sub-byte types packed, rounded up)."""
        return (numel * self.bits + 7) // 8

    def __str__(self) -> str:
        return self.name


FLOAT64 = DType("float64", 64, "float")
FLOAT32 = DType("float32", 32, "float")
FLOAT16 = DType("float16", 16, "float")
BFLOAT16 = DType("bfloat16", 16, "float")
FLOAT8E4M3FN = DType("float8e4m3fn", 8, "float")
FLOAT8E4M3FNUZ = DType("float8e4m3fnuz", 8, "float")
FLOAT8E5M2 = DType("float8e5m2", 8, "float")
FLOAT8E5M2FNUZ = DType("float8e5m2fnuz", 8, "float")
FLOAT8E8M0 = DType("float8e8m0", 8, "float")
FLOAT4E2M1 = DType("float4e2m1", 4, "float")
INT64 = DType("int64", 64, "int")
INT32 = DType("int32", 32, "int")
INT16 = DType("int16", 16, "int")
INT8 = DType("int8", 8, "int")
INT4 = DType("int4", 4, "int")
INT2 = DType("int2", 2, "int")
UINT64 = DType("uint64", 64, "uint")
UINT32 = DType("uint32", 32, "uint")
UINT16 = DType("uint16", 16, "uint")
UINT8 = DType("uint8", 8, "uint")
UINT4 = DType("uint4", 4, "uint")
UINT2 = DType("uint2", 2, "uint")
BOOL = DType("bool", 8, "bool")
COMPLEX64 = DType("complex64", 64, "complex")
COMPLEX128 = DType("complex128", 128, "complex")
STRING = DType("string", 0, "string")
UNKNOWN = DType("unknown", 0, "float")

_ALL = [
    FLOAT64, FLOAT32, FLOAT16, BFLOAT16, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2,
    FLOAT8E5M2FNUZ, FLOAT8E8M0, FLOAT4E2M1, INT64, INT32, INT16, INT8, INT4, INT2, UINT64,
    UINT32, UINT16, UINT8, UINT4, UINT2, BOOL, COMPLEX64, COMPLEX128, STRING, UNKNOWN,
]
_BY_NAME = {d.name: d for d in _ALL}


def dtype_by_name(name: str) -> DType:
    """The DType called ``name`` (``float32``, ``int8``, ...); KeyError if unknown."""
    return _BY_NAME[name]


def all_dtypes() -> tuple[DType, ...]:
    return tuple(_ALL)
