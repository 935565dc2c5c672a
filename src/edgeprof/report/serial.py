"""One serialiser for every report type: a dataclass tree to a JSON-compatible dict and back,
driven by the dataclasses' fields and type hints (no type is named here).

:func:`to_dict` writes each dataclass as an object with its fields in declaration order,
tuples and lists as lists, mappings as objects, enums as their values; a field whose metadata
says ``serial: False`` (run-time facts such as the files a model was read from) is left out. :func:`from_dict`
rebuilds the tree from the type hints: nested dataclasses, ``X | None``, ``tuple[X, ...]``,
fixed tuples, ``list[X]``, ``Mapping[str, X]`` / ``dict[str, X]`` and enums; keys it does not
know are ignored, missing keys take the field's default.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

__all__ = ["from_dict", "to_dict"]

T = TypeVar("T")

_HINTS: dict[type, dict[str, Any]] = {}
_FIELDS: dict[type, tuple[str, ...]] = {}  # a dataclass's serialised field names, in declaration order
_PLAIN = frozenset((int, float, str, bool, type(None)))  # exact types written as they are


def to_dict(obj: Any) -> dict[str, Any]:
    """A dataclass instance as a JSON-compatible dict (fields in declaration order)."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"to_dict needs a dataclass instance, got {type(obj).__name__}")
    return _as_dict(obj)


def _as_dict(obj: Any) -> dict[str, Any]:
    cls = type(obj)
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(obj) if f.metadata.get("serial", True))
        _FIELDS[cls] = names
    return {name: _dump(getattr(obj, name)) for name in names}


def _dump(value: Any) -> Any:
    if type(value) in _PLAIN:  # most values of a big report: skip the checks below
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _as_dict(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [_dump(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _dump(v) for k, v in value.items()}
    return value


def from_dict(cls: type[T], data: Mapping[str, Any], namespace: Mapping[str, Any] | None = None) -> T:
    """Rebuild the dataclass ``cls`` from :func:`to_dict` output. ``namespace`` resolves the
    names of annotations a module imports only for type checking."""
    hints = _hints(cls, namespace)
    kwargs = {f.name: _load(hints[f.name], data[f.name], namespace)
              for f in dataclasses.fields(cls)  # type: ignore[arg-type]
              if f.init and f.name in data}
    return cls(**kwargs)


def _hints(cls: type, namespace: Mapping[str, Any] | None) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = get_type_hints(cls, localns=dict(namespace) if namespace else None)
        _HINTS[cls] = hints
    return hints


def _load(tp: Any, value: Any, namespace: Mapping[str, Any] | None) -> Any:
    if value is None:
        return None
    origin = get_origin(tp)
    args = get_args(tp)
    if origin in (typing.Union, types.UnionType):  # X | None (or a union of plain values)
        inner = [a for a in args if a is not type(None)]
        return _load(inner[0], value, namespace) if len(inner) == 1 else value
    if origin is typing.Literal or tp is Any:
        return value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return from_dict(tp, value, namespace)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_load(args[0], v, namespace) for v in value)
        if args:
            return tuple(_load(a, v, namespace) for a, v in zip(args, value, strict=True))
        return tuple(value)
    if origin is list:
        return [_load(args[0], v, namespace) for v in value] if args else list(value)
    if origin in (Mapping, dict) and len(args) == 2:
        return {k: _load(args[1], v, namespace) for k, v in value.items()}
    return value
