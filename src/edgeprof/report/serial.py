"""One serialiser for every report type: a dataclass tree to a JSON-compatible dict and back,
driven by the dataclasses' fields and type hints (no type is named here).

:func:`to_dict` writes each dataclass as an object with its fields in declaration order,
tuples and lists as lists, mappings as objects, enums as their values; a field whose metadata
says ``serial: False`` (run-time facts such as the files a model was read from) is left out. :func:`from_dict`
rebuilds the tree from the type hints: nested dataclasses, ``X | None``, ``tuple[X, ...]``,
fixed tuples, ``list[X]``, ``Mapping[str, X]`` / ``dict[str, X]`` and enums; keys it does not
know are ignored, missing keys take the field's default.

:func:`members` and :func:`json_default` serve writers that walk the tree themselves without
copying it (``report/json_text.py``): ``json.dumps(obj, default=json_default)`` is
``json.dumps(to_dict(obj))``, the C encoder doing the walk.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from itertools import chain, repeat
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

__all__ = ["from_dict", "json_default", "members", "row_reader", "to_dict"]

T = TypeVar("T")

_HINTS: dict[type, dict[str, Any]] = {}
_PLAIN = frozenset((int, float, str, bool, type(None)))  # exact types written as they are


Reader = Callable[[Any], tuple[Any, ...]]  # an instance's field values, as a tuple
_FIELDS: dict[type, tuple[tuple[str, ...], Reader]] = {}


def row_reader(cls: type) -> tuple[tuple[str, ...], Reader]:
    """The dataclass ``cls``'s serialised field names, in declaration order, and one function
    reading all their values from an instance (cached per class)."""
    found = _FIELDS.get(cls)
    if found is None:
        names = tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("serial", True))
        found = _FIELDS[cls] = (names, _reader(names))
    return found


def _reader(names: tuple[str, ...]) -> Reader:
    """``operator.attrgetter`` of ``names`` that always returns a tuple (it returns the bare
    value for one name and cannot be made for none)."""
    if len(names) > 1:
        return operator.attrgetter(*names)
    if names:
        one = operator.attrgetter(names[0])
        return lambda obj: (one(obj),)
    return lambda obj: ()


def members(obj: Any) -> list[tuple[str, Any]]:
    """A dataclass instance's serialised ``(name, value)`` pairs in declaration order, the
    values as they are (not converted)."""
    names, read = row_reader(type(obj))
    return list(zip(names, read(obj), strict=True))


def to_dict(obj: Any) -> dict[str, Any]:
    """A dataclass instance as a JSON-compatible dict (fields in declaration order)."""
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"to_dict needs a dataclass instance, got {type(obj).__name__}")
    return _as_dict(obj)


def _as_dict(obj: Any) -> dict[str, Any]:
    return _rows_as_dicts(type(obj), (obj,))[0]


def _rows_as_dicts(cls: type, objs: tuple[Any, ...] | list[Any]) -> list[dict[str, Any]]:
    """``objs``, instances of the dataclass ``cls``, as dicts, a column (field) at a time: a
    column of plain values is kept as it is, a column of tuples of plain values made lists at C
    speed, any other column converted a value at a time; then one dict per row."""
    names, read = row_reader(cls)
    if not names:
        return [{} for _ in objs]
    out: list[dict[str, Any]] = []
    for start in range(0, len(objs), _ROWS_PER_BATCH):  # few rows held as tuples at a time (less GC)
        rows = map(read, objs[start:start + _ROWS_PER_BATCH])
        columns = [_dump_column(values) for values in zip(*rows, strict=True)]
        out.extend(map(dict, map(zip, repeat(names), zip(*columns, strict=True))))
    return out


_ROWS_PER_BATCH = 2048


def _dump_column(values: tuple[Any, ...]) -> Sequence[Any]:
    kinds = set(map(type, values))
    if _PLAIN.issuperset(kinds):
        return values
    if kinds == {tuple} and _PLAIN.issuperset(map(type, chain.from_iterable(values))):  # shapes, names
        return list(map(list, values))
    return list(map(_dump, values))


def _dump(value: Any) -> Any:
    return _dumper(type(value))(value)


def _dumper(cls: type) -> Callable[[Any], Any]:
    dump = _DUMPS.get(cls)
    if dump is None:
        dump = _DUMPS[cls] = _dump_for(cls)
    return dump


def _dump_list(value: tuple[Any, ...] | list[Any]) -> list[Any]:
    kinds = set(map(type, value))
    if _PLAIN.issuperset(kinds):
        return list(value)
    if len(kinds) == 1 and _dumper(cls := kinds.pop()) is _as_dict:  # a table: rows of one dataclass
        return _rows_as_dicts(cls, value)
    return [_dump(v) for v in value]


def _dump_mapping(value: Mapping[Any, Any]) -> dict[Any, Any]:
    return {k: _dump(v) for k, v in value.items()}


def _enum_value(value: enum.Enum) -> Any:
    return value.value


def _as_is(value: Any) -> Any:
    return value


def _dump_for(cls: type) -> Callable[[Any], Any]:
    """How :func:`to_dict` writes a value of type ``cls`` (checked in this order)."""
    if cls in _PLAIN:
        return _as_is
    if dataclasses.is_dataclass(cls):
        return _as_dict
    if issubclass(cls, enum.Enum):
        return _enum_value
    if issubclass(cls, (tuple, list)):
        return _dump_list
    if issubclass(cls, Mapping):
        return _dump_mapping
    return _as_is


_DUMPS: dict[type, Callable[[Any], Any]] = {}  # per type met, how to_dict writes it


def json_default(value: Any) -> Any:
    """The ``default`` hook of :func:`json.dumps` that writes a tree as :func:`to_dict` does:
    a dataclass as a dict of its serialised fields (values as they are: the encoder comes back
    for those it does not know), an enum as its value, any other mapping as a dict."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names, read = row_reader(type(value))
        return dict(zip(names, read(value), strict=True))
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


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
